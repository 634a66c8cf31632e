import { parseOptions } from '@node-rs/argon2';
import { hash as argon2Hash } from '@node-rs/argon2';
import { getDummyHash, hashPassword, needsRehash, verifyPassword, verifyPasswordOrDummy } from './password-hash';

describe('argon2id password hashing', () => {
  it('produces an argon2id PHC string with m=19456, t=2, p=1 and a random salt', async () => {
    const a = await hashPassword('unusual lichen 42');
    const b = await hashPassword('unusual lichen 42');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(a).not.toBe(b);
    expect(parseOptions(a)).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('verifies the right password, NFKC-equivalent input, and refuses a wrong one', async () => {
    const phc = await hashPassword('ｃａｆé au lait');
    expect(await verifyPassword(phc, 'café au lait')).toBe(true);
    expect(await verifyPassword(phc, 'cafe\u0301 au lait'.normalize('NFD'))).toBe(true);
    expect(await verifyPassword(phc, 'café au lai')).toBe(false);
  });

  it('treats a malformed stored hash as a mismatch', async () => {
    expect(await verifyPassword('not-a-phc-string', 'whatever1')).toBe(false);
  });

  it('does the dummy verification when there is no account and answers false', async () => {
    expect(await getDummyHash()).toMatch(/^\$argon2id\$/);
    expect(await verifyPasswordOrDummy(null, 'anything at all')).toBe(false);
    const phc = await hashPassword('right password');
    expect(await verifyPasswordOrDummy(phc, 'right password')).toBe(true);
  });

  it('needsRehash is false for current parameters and true for weaker ones', async () => {
    expect(needsRehash(await hashPassword('right password'))).toBe(false);
    const weak = await argon2Hash('right password', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash('garbage')).toBe(true);
  });
});
