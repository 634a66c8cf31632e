import { generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 defaults every authenticator app supports: SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** One step either way: a phone clock up to ~30 s off still works. */
export const TOTP_DRIFT_STEPS = 1;

/** A new 160-bit secret, base32 (what authenticator apps take). */
export function generateTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(options: { secret: string; account: string; issuer: string }): string {
  return generateURI({
    issuer: options.issuer,
    label: options.account,
    secret: options.secret,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

/** The otpauth URI as a QR code PNG data URL, for apps that scan. */
export async function totpQrCodeDataUrl(uri: string): Promise<string> {
  const { default: QRCode } = await import('qrcode'); // loaded at the first set-up, not with the server
  return QRCode.toDataURL(uri, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2, width: 256 });
}

/** Codes as people type them: spaces and dashes dropped. Anything but 6 digits is not a TOTP code. */
export function normalizeTotpCode(code: string): string | null {
  const c = code.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(c) ? c : null;
}

export type TotpCheck = { ok: true; timeStep: number } | { ok: false; reason: 'INVALID' | 'REPLAYED' };

/**
 * Checks a code with one step of drift either way. Returns the matched time step; the caller stores
 * it and passes it back as `lastUsedStep`, so a code (or an older one) is accepted once only.
 */
export async function verifyTotp(options: {
  secret: string;
  code: string;
  lastUsedStep?: number | null;
  now?: Date;
}): Promise<TotpCheck> {
  const token = normalizeTotpCode(options.code);
  if (!token) return { ok: false, reason: 'INVALID' };
  const epoch = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const result = await verify({
    secret: options.secret,
    token,
    epoch,
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: 'sha1',
    epochTolerance: TOTP_DRIFT_STEPS * TOTP_PERIOD_SECONDS,
  });
  // The functional API's result type also covers HOTP; a TOTP match always carries timeStep.
  if (!result.valid || !('timeStep' in result)) return { ok: false, reason: 'INVALID' };
  // Checked here rather than with otplib's afterTimeStep so that a replay gets its own code.
  const last = options.lastUsedStep;
  if (last !== null && last !== undefined && result.timeStep <= last) return { ok: false, reason: 'REPLAYED' };
  return { ok: true, timeStep: result.timeStep };
}
