import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed file URL names: a kind of file ("image"), its id and the variant asked for. */
export interface SignedTarget {
  kind: string;
  id: string;
  variant: string;
}

/** HMAC-SHA256 over kind, id, variant and expiry (newline separated: none may contain one). */
export function signature(secret: string, t: SignedTarget, expiresAt: number): string {
  return createHmac('sha256', secret).update(`${t.kind}\n${t.id}\n${t.variant}\n${expiresAt}`).digest('base64url');
}

/**
 * The expiry (epoch seconds) of a URL minted at `nowMs`: at least `ttlSeconds` away, rounded up to the
 * next multiple of `ttlSeconds`. Every URL for one file minted within the same window of `ttlSeconds`
 * is the same string (same expiry, same signature), so a client that fetches the same data again gets
 * the URL its browser has cached; each is valid for between `ttlSeconds` and twice that.
 */
export function expiryFor(ttlSeconds: number, nowMs = Date.now()): number {
  const earliest = Math.ceil(nowMs / 1000) + ttlSeconds;
  return Math.ceil(earliest / ttlSeconds) * ttlSeconds;
}

/** `/files/<kind>s/<id>/<variant>?exp=<epoch seconds>&sig=<hmac>` under `publicUrl`, expiring at `expiryFor(ttlSeconds)`. */
export function signedUrl(
  publicUrl: string,
  secret: string,
  t: SignedTarget,
  ttlSeconds: number,
  nowMs = Date.now(),
): string {
  const exp = expiryFor(ttlSeconds, nowMs);
  const base = publicUrl.replace(/\/+$/, '');
  return `${base}/files/${t.kind}s/${encodeURIComponent(t.id)}/${encodeURIComponent(t.variant)}?exp=${exp}&sig=${signature(secret, t, exp)}`;
}

export type SignatureCheck = 'OK' | 'EXPIRED' | 'INVALID';

/** Constant-time check of `sig`; an expired URL is refused even when its signature is right. */
export function checkSignature(
  secret: string,
  t: SignedTarget,
  exp: unknown,
  sig: unknown,
  nowMs = Date.now(),
): SignatureCheck {
  if (typeof exp !== 'string' || !/^\d{1,12}$/.test(exp) || typeof sig !== 'string') return 'INVALID';
  const expected = Buffer.from(signature(secret, t, Number(exp)));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'INVALID';
  if (Number(exp) * 1000 <= nowMs) return 'EXPIRED';
  return 'OK';
}
