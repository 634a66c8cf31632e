import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for small secrets at rest (TOTP seeds). Ciphertext format, all base64url:
 *   v1.<keyId>.<iv 12 bytes>.<ciphertext>.<tag 16 bytes>
 * The version lets the format change later; the key id lets old rows be read after a key rotation
 * (pass the previous key in `previousKeys` until every row has been re-encrypted).
 * `aad` binds a ciphertext to its row (e.g. the user id) so it cannot be copied to another account.
 */
export class SecretBox {
  private readonly current: { id: string; key: Buffer };
  private readonly keys = new Map<string, Buffer>();

  constructor(secret: string, previousKeys: string[] = []) {
    if (!secret) throw new Error('SecretBox needs a key');
    this.current = SecretBox.derive(secret);
    for (const s of [secret, ...previousKeys]) {
      const d = SecretBox.derive(s);
      this.keys.set(d.id, d.key);
    }
  }

  /** 32-byte key by HKDF-SHA256 from the configured string; its id is a short hash, not the key. */
  private static derive(secret: string): { id: string; key: Buffer } {
    const key = Buffer.from(hkdfSync('sha256', secret, 'dermagraph-secret-box', 'aes-256-gcm v1', 32));
    const id = createHash('sha256').update(key).digest('base64url').slice(0, 8);
    return { id, key };
  }

  get keyId(): string {
    return this.current.id;
  }

  encrypt(plaintext: string, aad = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      this.current.id,
      iv.toString('base64url'),
      ct.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** Throws SecretBoxError on an unknown version or key, a wrong aad, or any tampering. */
  decrypt(box: string, aad = ''): string {
    const parts = box.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new SecretBoxError('unknown ciphertext format');
    const [, id, iv, ct, tag] = parts;
    const key = this.keys.get(id);
    if (!key) throw new SecretBoxError('ciphertext was made with a key this server does not have');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('ciphertext failed authentication');
    }
  }

  /** True when the row should be re-encrypted under the current key. */
  needsReencrypt(box: string): boolean {
    return box.split('.')[1] !== this.current.id;
  }

  /** The same plaintext under the current key, or null when `box` already is (throws like decrypt). */
  reencrypt(box: string, aad = ''): string | null {
    return this.needsReencrypt(box) ? this.encrypt(this.decrypt(box, aad), aad) : null;
  }
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}
