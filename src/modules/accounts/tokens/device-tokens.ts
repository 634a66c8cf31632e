import { createHash, randomUUID } from 'node:crypto';
import type { User } from '../../../entities';
import type { JwtService } from './jwt';

/** Longest device token accepted (signature checks are bounded; a real one is ~400 characters). */
export const MAX_DEVICE_TOKEN_INPUT = 2048;

/** A short digest of the stored argon2 string: a device token ends when the password changes. */
export function passwordFingerprint(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url').slice(0, 22);
}

/**
 * Device tokens (OWASP's "device cookie"): a signed note, given after each complete sign-in, that
 * this client signed in to this account. Presented again with login, it puts the client in a lane
 * of its own that others' failures cannot exhaust. It grants no access on its own.
 */
export class DeviceTokens {
  constructor(private readonly jwt: JwtService) {}

  /** A token for `user`, keeping `deviceId` when the client already had one. */
  issue(user: User, deviceId?: string | null): Promise<string> {
    return this.jwt.signDeviceToken({
      sub: user.id,
      did: deviceId ?? randomUUID(),
      pwf: passwordFingerprint(user.passwordHash),
    });
  }

  /**
   * The device id when `token` is a valid device token of `user` issued under its current password;
   * null otherwise (no user, expired, another account's, older password): the client is then unknown.
   */
  async deviceOf(user: User | null, token: string | null | undefined): Promise<string | null> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_DEVICE_TOKEN_INPUT) return null;
    // Checked whether or not the account exists, so the check's cost does not tell.
    const claims = await this.jwt.verifyDeviceToken(token).catch(() => null);
    if (!claims || !user) return null;
    return claims.sub === user.id && claims.pwf === passwordFingerprint(user.passwordHash) ? claims.did : null;
  }
}
