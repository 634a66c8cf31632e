import type { EntityManager } from '@mikro-orm/postgresql';
import { TwoFactor } from '../../../entities';
import { SecretBoxError, type SecretBox } from './secret-box';

export interface RekeyResult {
  reencrypted: number;
  /** Rows under a key this process does not have (another TOTP_ENCRYPTION_KEY): left as they are. */
  unreadable: number;
}

/**
 * Re-encrypts, under the current TOTP key, the TOTP secrets stored under an older key this process
 * still knows (the public default of earlier versions, or a `previousKeys` entry), so those keys are
 * needed for reading only until this has run once. Run at start: one scan of two_factor for rows
 * under other key ids, usually none.
 * Each row is replaced only if it still holds what was read, so a secret re-enrolled meanwhile wins.
 */
export async function reencryptTotpSecrets(em: EntityManager, box: SecretBox): Promise<RekeyResult> {
  const rows = await em.find(
    TwoFactor,
    { $not: { secretEncrypted: { $like: `v1.${box.keyId}.%` } } },
    { fields: ['id', 'user', 'secretEncrypted'] },
  );
  const result: RekeyResult = { reencrypted: 0, unreadable: 0 };
  for (const row of rows) {
    let next: string | null;
    try {
      next = box.reencrypt(row.secretEncrypted, row.user.id);
    } catch (e) {
      if (!(e instanceof SecretBoxError)) throw e;
      result.unreadable++;
      continue;
    }
    if (next === null) continue;
    result.reencrypted += await em.nativeUpdate(
      TwoFactor,
      { id: row.id, secretEncrypted: row.secretEncrypted },
      { secretEncrypted: next },
    );
  }
  return result;
}
