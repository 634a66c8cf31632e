import type { JWTPayload } from 'jose';

/**
 * Whether a verified payload is still inside its time claims at `nowSeconds`: the checks jose's
 * jwtVerify makes (`nbf` not after now + tolerance, `exp` after now - tolerance), so a payload
 * taken from VerifiedTokens expires exactly when verifying its token again would fail.
 */
export function withinTimeClaims(p: JWTPayload, nowSeconds: number, toleranceSeconds: number): boolean {
  if (typeof p.exp !== 'number') return false;
  if (typeof p.nbf === 'number' && p.nbf > nowSeconds + toleranceSeconds) return false;
  return p.exp > nowSeconds - toleranceSeconds;
}

/**
 * Payloads of tokens already verified, by their exact text. A client sends the same access token
 * on every request for its 15 minutes, and verifying it (an Ed25519 signature through WebCrypto, a
 * trip through the thread pool) cost each request about 0.5 ms of the event loop under load. Only a
 * token whose signature, issuer, audience and type were verified is kept, under its whole string,
 * so another string (a forged or altered token) is never answered from here; the time claims are
 * checked again on every use. The owner forgets everything when its keys change. Bounded: the
 * oldest entries go first.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, JWTPayload>();
  /** Answers given from here (for tests and metrics). */
  hits = 0;

  constructor(private readonly maxEntries = 1024) {}

  /** The payload kept for `key`, if it is still inside its time claims; an expired one is forgotten. */
  get(key: string, nowSeconds: number, toleranceSeconds: number): JWTPayload | undefined {
    const p = this.entries.get(key);
    if (!p) return undefined;
    if (!withinTimeClaims(p, nowSeconds, toleranceSeconds)) {
      this.entries.delete(key);
      return undefined;
    }
    this.hits++;
    return p;
  }

  /** Keeps a payload jwtVerify has just accepted for `key`. */
  set(key: string, payload: JWTPayload): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, Object.freeze({ ...payload }));
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
