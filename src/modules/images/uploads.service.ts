import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Readable } from 'node:stream';
import type { Config } from '../../infra/config';
import { AppError, badInput, notFound } from '../../infra/errors';
import { Image, type Lesion, type Patient } from '../../entities';
import {
  FileTooLargeError,
  readWhole,
  type FileStore,
  type StagedFile,
  type WholeFile,
} from '../../infra/storage/file-store';
import { uploadError } from '../../infra/http/uploads';
import { requireAccess, type Caller } from '../patients';
import { assertWithinQuotas, countUploads, quotaGuard, type QuotaAsk } from '../quotas';
import { countImagesWithFile, fileLocks, insertImagesStatement, lockFile, type NewImageRow } from './images.repository';
import { BatchedTransaction } from '../../infra/database/batched-transaction';
import type { Statement } from '../../infra/database/sql';
import { inOrder } from '../../infra/database/coalesced-reads';
import { NameLocks } from '../../infra/name-locks';
import { decodeError, probeImage, verifyDecodes, type ImageInfo } from './image-processing';

/** What graphql-upload hands a resolver for each file (graphql-upload/processRequest.mjs FileUpload). */
export interface IncomingFile {
  filename: string;
  mimetype: string;
  createReadStream(): Readable;
}

export interface UploadDeps {
  em: EntityManager;
  store: FileStore;
  config: Config;
}

export interface UploadOptions {
  /**
   * A caller's own checks (uploadImages' classify / segment options) that must refuse with nothing stored:
   * run with the access check, before any file is written or decoded; an access error is answered first.
   */
  beforeFiles?: () => Promise<void> | void;
  /** Quotas asked of besides the upload's (the jobs that will follow): checked with it, early and in the transaction. */
  asks?: readonly QuotaAsk[];
  /**
   * Decodes a staged file (its bytes, or its path) in the caller's own way (uploadImages with classify: at the models' input
   * sizes, for the job that follows) instead of the plain decode check; resolves false to leave the
   * check to the upload. A failure is the file's BAD_USER_INPUT, as the plain check's is.
   */
  decode?: (source: Buffer | string, sha256: string, info: ImageInfo) => Promise<boolean>;
  /**
   * Rows recorded with the images, in their transaction (uploadImages' jobs): the statements that insert them,
   * given the images' rows. Their quotas are `asks`, checked again, exactly, under the quotas' locks.
   */
  recordWith?: (images: readonly NewImageRow[]) => Statement[];
  /** Test seam: runs once every file is read and checked, before the transaction. */
  beforeTransaction?: () => Promise<void> | void;
  /** Test seam: runs once the files are placed (under this process's locks on them), before the rows' transaction. */
  afterFilesPlaced?: () => Promise<void> | void;
}

interface Prepared {
  staged: StagedFile;
  info: ImageInfo;
  filename: string;
  /** Placed in the store: as a new file, or found already stored (its staged copy is kept until the rows commit). */
  placed?: 'created' | 'found';
}

/**
 * uploadImages: every file is read into memory while hashed (one file at a time), typed and size-checked from
 * its bytes, then fully decoded once (which proves it is not truncated; the derived copies are made when first
 * asked for) while its bytes are written to a staged temp file; then all files are placed and all rows (the
 * images', and the caller's `recordWith`) inserted in one transaction, in one round trip. Any
 * failure leaves no rows, no staged files, and no stored file that this batch created and nothing
 * else references.
 */
export async function uploadImages(
  deps: UploadDeps,
  user: Caller,
  input: { patientId: string; lesionId?: string | null; files: Promise<IncomingFile>[] },
  opts: UploadOptions = {},
): Promise<Image[]> {
  const { em, store, config } = deps;
  const { files } = input;
  if (files.length === 0) throw badInput('files', 'Send at least one file');
  if (files.length > config.UPLOAD_MAX_FILES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `At most ${config.UPLOAD_MAX_FILES} files per request`, {
      field: 'files',
      maxFiles: config.UPLOAD_MAX_FILES,
    });
  }
  // Files not read after an early failure must not surface as unhandled rejections.
  for (const f of files) Promise.resolve(f).catch(() => undefined);
  const prepared: Prepared[] = [];
  const read = (i: number) => readAndProbe(files[i], `files.${i}`, config);
  try {
    // The access checks, the caller's own checks and the early quota answer (checked again, exactly, inside the
    // transaction) are independent reads: started together, they travel as one round trip (coalescedRead).
    // Their errors are answered in this order, so a patient the caller may not see is NOT_FOUND before anything.
    const asks: QuotaAsk[] = [{ kind: 'uploads', adding: files.length }, ...(opts.asks ?? [])];
    const patientCheck = requireAccess(em, user, 'patient:write', input.patientId);
    const checks = inOrder([
      patientCheck,
      input.lesionId != null ? lesionOf(requireAccess(em, user, 'lesion:read', input.lesionId), patientCheck) : null,
      (async () => opts.beforeFiles?.())(),
      assertWithinQuotas(em, config, user.id, asks),
    ]);
    // The first file is read and probed in memory while the checks' round trip is out, from the turn after the one
    // that sends it (nothing is written or decoded before they pass; after a refusal its answer is dropped).
    const first = new Promise<void>((resolve) => setImmediate(resolve)).then(() => read(0));
    first.catch(() => undefined);
    const [patient, lesion] = await checks;

    for (let i = 0; i < files.length; i++) {
      const field = `files.${i}`;
      const { whole, filename, info } = await (i === 0 ? first : read(i));
      // The staged copy is written while the image decodes (from memory; a batch holds one file's bytes at a time).
      const [staging, decoding] = await Promise.allSettled([
        store.stageWhole(whole),
        (async () => {
          const byCaller = await opts.decode?.(whole.bytes, whole.sha256, info).catch((err: unknown) => {
            throw decodeError(err, field);
          });
          if (!byCaller) await verifyDecodes(whole.bytes, config.UPLOAD_MAX_PIXELS, field);
        })(),
      ]);
      if (staging.status === 'fulfilled') prepared.push({ staged: staging.value, filename, info });
      else throw uploadError(staging.reason, field);
      if (decoding.status === 'rejected') throw decoding.reason;
    }

    await opts.beforeTransaction?.();
    // The files are placed, then all rows committed in one round trip: the images', their count in the month's
    // usage row, recordWith's, the quotas' locks and their exact check (quotaGuard: it counts what committed
    // while the locks were awaited, so concurrent requests cannot pass it together) and the commit.
    // A clean-up of the same bytes (a failed batch's, removeUnreferenced) must not leave a committed row without
    // its file. This process's clean-ups wait for its own locks on the files (placementLocks), held from the
    // placement to the commit. Another process's (PostgreSQL mode: several api processes and workers share
    // DATA_DIR) takes the files' advisory locks, which the commit's batch takes too: one that ran between this
    // placement and the commit can only have removed a file this batch found already stored, and that file is
    // put back from the staged copy once the rows are in (restore). In embedded mode this process is DATA_DIR's
    // only writer (it is locked to it), so its own locks are enough.
    const guard = quotaGuard(config, user.id, asks);
    const shas = prepared.map((p) => p.staged.sha256);
    const placeAndCommit = async (): Promise<Image[]> => {
      // Files are placed concurrently: two entries with the same bytes race safely (link/rename are atomic).
      const placements = await Promise.allSettled(
        prepared.map(async (p) => {
          p.placed = (await store.place(p.staged)).created ? 'created' : 'found';
        }),
      );
      const failed = placements.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await opts.afterFilesPlaced?.();
      // Distinct timestamps keep the batch's order stable in newest-first lists.
      const t0 = Date.now();
      const rows = prepared.map((p, i): NewImageRow => ({
        id: randomUUID(),
        createdAt: new Date(t0 + i),
        patientId: patient.id,
        lesionId: lesion?.id ?? null,
        uploadedById: user.id,
        sha256: p.staged.sha256,
        format: p.info.format,
        mimeType: p.info.mimeType,
        byteSize: p.staged.size,
        width: p.info.width,
        height: p.info.height,
        orientation: p.info.orientation,
        originalName: cleanFileName(p.filename),
      }));
      const locks = config.embeddedDatabase ? [] : [fileLocks(shas)];
      const tx = await BatchedTransaction.open(em);
      let results;
      try {
        // The images' rows before the quotas' locks; the guard before any row it counts (recordWith's jobs).
        results = await tx
          .commitWith([
            ...locks,
            insertImagesStatement(rows),
            ...guard.statements,
            countUploads(user.id, new Date(t0), rows.length),
            ...(opts.recordWith?.(rows) ?? []),
          ])
          .catch(guard.rethrow);
      } finally {
        await tx.close();
      }
      if (!config.embeddedDatabase) {
        await Promise.all(prepared.filter((p) => p.placed === 'found').map((p) => store.restore(p.staged)));
      }
      return results[locks.length].map((row) => em.map(Image, row));
    };
    try {
      return await placementLocks(store).runAll(shas, placeAndCommit);
    } catch (err) {
      // The files this batch created (two entries with the same bytes create one).
      const created = prepared.filter((p) => p.placed === 'created').map((p) => p.staged.sha256);
      await removeUnreferenced(em, store, created);
      throw err;
    }
  } finally {
    // The staged copies, placed or not (place keeps them, for restore).
    await Promise.all(prepared.map((p) => store.discard(p.staged)));
  }
}

/** The lesion, which must be one of the patient's (NOT_FOUND otherwise, as for a lesion the caller cannot see). */
async function lesionOf(lesion: Promise<Lesion>, patient: Promise<Patient>): Promise<Lesion> {
  const [l, p] = await Promise.all([lesion, patient]);
  if (l.patient.id !== p.id) throw notFound('Lesion');
  return l;
}

/** A file of the request read whole into memory, hashed and probed (its type and size checked); nothing written. */
async function readAndProbe(
  file: Promise<IncomingFile>,
  field: string,
  config: Config,
): Promise<{ whole: WholeFile; filename: string; info: ImageInfo }> {
  let whole: WholeFile;
  let incoming: IncomingFile;
  try {
    incoming = await file;
    whole = await readWhole(incoming.createReadStream(), config.UPLOAD_MAX_FILE_BYTES);
  } catch (err) {
    if (err instanceof FileTooLargeError) {
      throw new AppError('PAYLOAD_TOO_LARGE', `File is larger than ${config.UPLOAD_MAX_FILE_BYTES} bytes`, {
        field,
        maxBytes: config.UPLOAD_MAX_FILE_BYTES,
      });
    }
    throw uploadError(err, field);
  }
  if (whole.size === 0) throw badInput(field, 'File is empty');
  return { whole, filename: incoming.filename, info: await probeImage(whole.bytes, config.UPLOAD_MAX_PIXELS, field) };
}

/**
 * Deletes stored files no image references any more, each under its locks (this process's and the advisory
 * lock) so a concurrent batch placing the same bytes either sees the file gone (and places its own) or keeps it
 * referenced.
 */
export async function removeUnreferenced(em: EntityManager, store: FileStore, shas: string[]): Promise<void> {
  for (const sha of shas) {
    await placementLocks(store).run(sha, () =>
      em.fork().transactional(async (tem) => {
        await lockFile(tem, sha);
        if ((await countImagesWithFile(tem, sha)) === 0) await store.remove(sha);
      }),
    );
  }
}

const placing = new WeakMap<FileStore, NameLocks>();
/** This process's locks on the files of `store`, by sha256: taken to place a file and commit its row, or to remove it. */
function placementLocks(store: FileStore): NameLocks {
  let locks = placing.get(store);
  if (!locks) placing.set(store, (locks = new NameLocks()));
  return locks;
}

/**
 * A client's file name as kept: control characters dropped (an RFC 5987 `filename*` can carry
 * %00, which PostgreSQL text cannot hold), at most 255 characters, null when nothing is left.
 */
export function cleanFileName(name: string | null | undefined): string | null {
  const clean = (name ?? '')
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 255);
  return clean || null;
}
