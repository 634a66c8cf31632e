/**
 * A process-wide bound on the image pixels being worked on at once (decoded images, probability
 * maps and masks are a few bytes per pixel each): work asks for its pixels and waits, in arrival
 * order, until they fit. A request larger than the whole budget runs alone rather than never.
 */
export class PixelBudget {
  private inUse = 0;
  private highest = 0;
  private readonly waiting: Array<{ pixels: number; grant: () => void }> = [];

  constructor(
    readonly max: number,
    private readonly onChange: (used: number) => void = () => undefined,
  ) {
    if (!(max > 0)) throw new Error(`pixel budget must be positive, got ${max}`);
  }

  /** Waits until `pixels` fit; resolves with the function that gives them back (idempotent). */
  async acquire(pixels: number): Promise<() => void> {
    const want = Math.min(Math.max(0, pixels), this.max);
    if (this.waiting.length || this.inUse + want > this.max)
      await new Promise<void>((grant) => this.waiting.push({ pixels: want, grant }));
    else this.take(want);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.take(-want);
      this.grant();
    };
  }

  /** Pixels held now. */
  get used(): number {
    return this.inUse;
  }

  /** The most pixels held at once so far. */
  get peak(): number {
    return this.highest;
  }

  private take(pixels: number): void {
    this.inUse += pixels;
    this.highest = Math.max(this.highest, this.inUse);
    this.onChange(this.inUse);
  }

  private grant(): void {
    // First come, first served: a large request at the head is not overtaken by small ones behind it.
    while (this.waiting.length && this.inUse + this.waiting[0].pixels <= this.max) {
      const next = this.waiting.shift()!;
      this.take(next.pixels);
      next.grant();
    }
  }
}
