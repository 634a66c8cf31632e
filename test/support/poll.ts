export interface PollOptions {
  /** How long to keep asking (default 15 s). */
  ms?: number;
  /** Pause between two asks (default 50 ms). */
  every?: number;
  /** What is awaited, for the error when it never comes. */
  what?: string;
}

/**
 * Asks `check` until it answers something other than `false` or `undefined` and returns that answer; after
 * `ms`, fails naming `what`. An error thrown by `check` fails at once. The one polling helper of the tests.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { ms = 15_000, every = 50, what = 'the condition' }: PollOptions = {},
): Promise<Exclude<T, false | undefined>> {
  const end = Date.now() + ms;
  for (;;) {
    const answer = await check();
    if (answer !== false && answer !== undefined) return answer as Exclude<T, false | undefined>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
