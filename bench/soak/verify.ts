import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { gql } from './client';
import type { Ledger } from './clinician';

/** The end checks of a soak or fault run: what was accepted is there, once, whole. */
export interface Verdict {
  uploadsAccepted: number;
  uploadsRetrievedByteForByte: number;
  uploadsLost: string[];
  /** images rows the client never got an answer for (accepted by the server while the answer was lost). */
  imageRowsWithoutAnswer: number;
  /** images rows whose original is missing from the file store: a partial write. */
  imageRowsWithoutFile: number;
  jobsSubmitted: number;
  jobsSucceeded: number;
  /** Jobs still QUEUED or RUNNING once the run has drained: lost. */
  jobsUnfinished: string[];
  /** Jobs that ended FAILED or CANCELLED (with their error). */
  jobsFailed: Array<{ id: string; status: string; error: string | null }>;
  /** (job, image) pairs with more than one result row, and jobs whose results differ from their images. */
  duplicatedResults: number;
  jobsWithMissingResults: string[];
  subscriptionsWithFinalEvent: number;
  subscriptionsWithoutFinalEvent: Array<{ id: string; error: string | null; stages: string[] }>;
  /** Subscriptions made again after an error (refused while a service was down), summed over jobs. */
  resubscriptions: number;
  reportsMade: number;
  reportsDownloaded: number;
}

const sha256 = (b: ArrayBuffer) => createHash('sha256').update(Buffer.from(b)).digest('hex');

/** Waits until no job of the database is QUEUED or RUNNING (or `ms` passed). */
export async function drainJobs(databaseUrl: string, ms = 120_000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const pg = new Client({ connectionString: databaseUrl });
    const n = await pg
      .connect()
      .then(() => pg.query(`select count(*)::int n from inference_jobs where status in ('QUEUED', 'RUNNING')`))
      .then((r) => r.rows[0].n as number)
      .catch(() => -1)
      .finally(() => pg.end().catch(() => undefined));
    if (n === 0 || Date.now() > end) return n;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function retrievable(url: string, upload: Ledger['uploads'][number]): Promise<boolean> {
  const r = await gql(url, 'query($id: ID!) { image(id: $id) { url sha256 } }', { id: upload.imageId }, upload.token);
  const image = r.data?.image as { url: string; sha256: string } | undefined;
  if (!image || image.sha256 !== upload.sha256) return false;
  const res = await fetch(image.url).catch(() => null);
  return !!res?.ok && sha256(await res.arrayBuffer()) === upload.sha256;
}

export async function verify(url: string, databaseUrl: string, dataDir: string, ledger: Ledger): Promise<Verdict> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const lost: string[] = [];
    for (const u of ledger.uploads) if (!(await retrievable(url, u))) lost.push(u.imageId);
    const images = (await pg.query('select id, sha256 from images')).rows as Array<{ id: string; sha256: string }>;
    const answered = new Set(ledger.uploads.map((u) => u.imageId));
    let withoutFile = 0;
    for (const img of images) {
      const file = path.join(dataDir, 'files', img.sha256.slice(0, 2), img.sha256.slice(2, 4), img.sha256);
      if (
        !(await access(file).then(
          () => true,
          () => false,
        ))
      )
        withoutFile++;
    }
    const jobs = (
      await pg.query(`select id, status, error, total, result_ids from inference_jobs where kind <> 'REPORT'`)
    ).rows as Array<{ id: string; status: string; error: string | null; total: number; result_ids: string[] }>;
    const results = (
      await pg.query(
        `select job_id, count(*)::int n, count(distinct image_id)::int images from (
           select job_id, image_id from predictions union all select job_id, image_id from segmentations) r
         group by job_id`,
      )
    ).rows as Array<{ job_id: string; n: number; images: number }>;
    const byJob = new Map(results.map((r) => [r.job_id, r]));
    const watched = ledger.jobs.filter((j) => j.watched);
    return {
      uploadsAccepted: ledger.uploads.length,
      uploadsRetrievedByteForByte: ledger.uploads.length - lost.length,
      uploadsLost: lost,
      imageRowsWithoutAnswer: images.filter((i) => !answered.has(i.id)).length,
      imageRowsWithoutFile: withoutFile,
      jobsSubmitted: jobs.length,
      jobsSucceeded: jobs.filter((j) => j.status === 'SUCCEEDED').length,
      jobsUnfinished: jobs.filter((j) => j.status === 'QUEUED' || j.status === 'RUNNING').map((j) => j.id),
      jobsFailed: jobs
        .filter((j) => j.status === 'FAILED' || j.status === 'CANCELLED')
        .map((j) => ({ id: j.id, status: j.status, error: j.error })),
      duplicatedResults: results.reduce((a, r) => a + (r.n - r.images), 0),
      jobsWithMissingResults: jobs
        .filter(
          (j) =>
            j.status === 'SUCCEEDED' && ((byJob.get(j.id)?.images ?? 0) !== j.total || j.result_ids.length !== j.total),
        )
        .map((j) => j.id),
      subscriptionsWithFinalEvent: watched.filter((j) => j.watched!.final).length,
      resubscriptions: watched.reduce((a, j) => a + j.watched!.resubscribed, 0),
      subscriptionsWithoutFinalEvent: watched
        .filter((j) => !j.watched!.final)
        .map((j) => ({ id: j.id, error: j.watched!.error, stages: j.watched!.stages })),
      reportsMade: ledger.reports.length,
      reportsDownloaded: ledger.reports.filter((r) => r.fetched).length,
    };
  } finally {
    await pg.end();
  }
}

/** The checks every run must pass: nothing lost, nothing twice, no 5xx outside an injected fault. */
export function problems(v: Verdict, outsideFaults: number): string[] {
  const out: string[] = [];
  if (v.uploadsLost.length) out.push(`${v.uploadsLost.length} accepted uploads not retrievable byte for byte`);
  if (v.imageRowsWithoutAnswer) out.push(`${v.imageRowsWithoutAnswer} image rows of uploads that were not accepted`);
  if (v.imageRowsWithoutFile) out.push(`${v.imageRowsWithoutFile} image rows without their file`);
  if (v.jobsUnfinished.length) out.push(`${v.jobsUnfinished.length} jobs never finished`);
  if (v.duplicatedResults) out.push(`${v.duplicatedResults} duplicated results`);
  if (v.jobsWithMissingResults.length) out.push(`${v.jobsWithMissingResults.length} succeeded jobs missing results`);
  if (v.subscriptionsWithoutFinalEvent.length)
    out.push(`${v.subscriptionsWithoutFinalEvent.length} subscriptions without their final event`);
  if (outsideFaults) out.push(`${outsideFaults} server failures (5xx, network, INTERNAL_SERVER_ERROR) outside a fault`);
  return out;
}
