import { writeFile } from 'node:fs/promises';
import { AppError } from '../errors';
import { uploadError } from './uploads';

/** The error a full disk gives: writing to /dev/full fails with ENOSPC, as the file store did in the soak's disk run. */
const diskFull = () =>
  writeFile('/dev/full', 'x').then(
    () => new Error('/dev/full accepted a write'),
    (e: Error) => e,
  );

describe('uploadError', () => {
  it('answers a full disk with INSUFFICIENT_STORAGE naming the file, not BAD_USER_INPUT', async () => {
    const err = await diskFull();
    expect((err as { code?: string }).code).toBe('ENOSPC');
    const answer = uploadError(err, 'files.2');
    expect(answer.extensions).toEqual({ code: 'INSUFFICIENT_STORAGE', field: 'files.2' });
    expect(answer.message).not.toContain('/'); // no server path
  });

  it('keeps an AppError, gives 413 errors PAYLOAD_TOO_LARGE and anything else BAD_USER_INPUT', () => {
    const own = new AppError('NOT_FOUND', 'gone');
    expect(uploadError(own)).toBe(own);
    const big = Object.assign(new Error('File truncated as it exceeds the 10 byte size limit.'), { status: 413 });
    expect(uploadError(big, 'files.0').extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE', field: 'files.0' });
    expect(uploadError(new Error('Request disconnected during file upload stream parsing.')).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'files',
    });
  });
});
