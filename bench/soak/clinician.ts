import { createHash, randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { gql, uploadImages, watchJob, wsClient, type Watched } from './client';
import type { Recorder } from './recorder';

/** What every simulated user did that the end checks verify: accepted uploads, submitted jobs, reports. */
export interface Ledger {
  uploads: Array<{ imageId: string; sha256: string; bytes: number; token: string }>;
  jobs: Array<{ id: string; kind: 'classify' | 'segment'; images: number; watched: Watched | null; token: string }>;
  reports: Array<{ id: string; kind: string; fetched: boolean }>;
  /** WebSocket close codes the clients saw, by code (1000 when a client itself closes). */
  wsCloses: Record<string, number>;
}

export const newLedger = (): Ledger => ({ uploads: [], jobs: [], reports: [], wsCloses: {} });

export interface SoakTarget {
  /** The api's /graphql URL (any api process; the soak spreads users over them). */
  url: string;
  /** The classifier the admin hot-swaps (clinicians classify with it, Grad-CAM on). */
  classifier: string;
  /** Real images to upload; each upload gets unique trailing bytes, so each is new content. */
  images: Buffer[];
}

const CLASSIFY =
  'mutation($i: ID!, $m: [EnsembleMemberInput!]) { classifyImage(imageId: $i, models: $m, explain: true) { id } }';
const SEGMENT =
  'mutation($ids: [ID!]!) { segmentImages(imageIds: $ids, members: [{ model: "dg-seg-stats" }, { model: "dg-seg-skin-distance" }]) { id } }';
const REPORT = 'mutation($in: ReportInput!) { generateReport(input: $in, wait: true) { id status url error } }';

/** Bytes after a JPEG's end marker are ignored by decoders but make the upload new content. */
const unique = (jpeg: Buffer) => Buffer.concat([jpeg, Buffer.from(`soak-${randomUUID()}`)]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Registers and signs in a user; returns the access token (null when either step failed). Each
 * clinician comes from an address of its own (X-Forwarded-For, which the api trusts from loopback
 * as from a proxy there): sign-ups are limited per address, and 20 people do not share one.
 */
export async function signUp(
  rec: Recorder,
  url: string,
  email: string,
  password: string,
  address: string,
): Promise<string | null> {
  const from = { 'x-forwarded-for': address };
  const reg = await rec.time('register', () =>
    gql(
      url,
      'mutation($i: RegisterInput!) { register(input: $i) { id } }',
      { i: { email, password } },
      undefined,
      from,
    ),
  );
  if (reg.errors) return null;
  const login = await rec.time('login', () =>
    gql(
      url,
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
      { e: email, p: password },
      undefined,
      from,
    ),
  );
  return (login.data?.login?.accessToken as string | undefined) ?? null;
}

/**
 * One simulated clinician until `until` (ms epoch): sign in, create a patient, then in a loop
 * upload an image, classify it (Grad-CAM) and segment it with subscriptions open, and every
 * other round generate a report (CSV of the last images, or the PDF of one) and download it.
 */
export async function clinician(rec: Recorder, ledger: Ledger, target: SoakTarget, n: number, until: number) {
  const { url } = target;
  const email = `clinician-${n}-${randomUUID().slice(0, 8)}@soak.test`;
  // 198.51.100.0/24 (TEST-NET-2): documentation addresses, one per clinician.
  const token = await signUp(rec, url, email, `Soak-${randomUUID()}`, `198.51.100.${(n % 254) + 1}`);
  if (!token) return;
  const patient = await rec.time('createPatient', () =>
    gql(
      url,
      'mutation($i: PatientInput!) { createPatient(input: $i) { id } }',
      { i: { externalId: `SOAK-${n}-${randomUUID().slice(0, 6)}`, displayName: `Soak patient ${n}` } },
      token,
    ),
  );
  const patientId = patient.data?.createPatient?.id as string | undefined;
  if (!patientId) return;
  const ws = wsClient(url, token, (code, why) => {
    const key = `${code} ${why}`.trim();
    ledger.wsCloses[key] = (ledger.wsCloses[key] ?? 0) + 1;
  });
  const mine: string[] = [];
  try {
    for (let round = 0; Date.now() < until; round++) {
      const bytes = unique(target.images[(n * 7 + round) % target.images.length]);
      const up = await rec.time('uploadImages', () => uploadImages(url, token, patientId, [bytes]));
      const image = up.data?.uploadImages?.[0] as { id: string; sha256: string } | undefined;
      if (!image) {
        await new Promise((r) => setTimeout(r, 1000)); // a client waits a little before trying again
        continue;
      }
      ledger.uploads.push({ imageId: image.id, sha256: sha256(bytes), bytes: bytes.length, token });
      mine.push(image.id);
      await Promise.all([
        runJob(rec, ledger, ws, 'classify', token, () =>
          gql(url, CLASSIFY, { i: image.id, m: [{ model: target.classifier }] }, token),
        ),
        runJob(rec, ledger, ws, 'segment', token, () => gql(url, SEGMENT, { ids: [image.id] }, token)),
      ]);
      if (round % 2 === 1) await report(rec, ledger, url, token, round % 4 === 1 ? 'CSV' : 'PDF', mine.slice(-5));
    }
  } finally {
    await ws.dispose();
  }
}

/** Submits a job, follows it on the subscription until its final event; the whole time is `<kind> job`. */
async function runJob(
  rec: Recorder,
  ledger: Ledger,
  ws: Client,
  kind: 'classify' | 'segment',
  token: string,
  submit: () => ReturnType<typeof gql>,
) {
  const start = performance.now();
  const answer = await rec.time(kind === 'classify' ? 'classifyImage' : 'segmentImages', submit);
  const id = (answer.data?.classifyImage?.id ?? answer.data?.segmentImages?.id) as string | undefined;
  if (!id) return;
  const entry: Ledger['jobs'][number] = { id, kind, images: 1, watched: null, token };
  ledger.jobs.push(entry);
  entry.watched = await watchJob(ws, id);
  if (entry.watched.final === 'DONE') rec.success(`${kind} job (to DONE event)`, performance.now() - start);
  else rec.failure(`${kind} job (to DONE event)`, entry.watched.final ?? `NO_FINAL_EVENT`);
}

async function report(rec: Recorder, ledger: Ledger, url: string, token: string, kind: string, imageIds: string[]) {
  const ids = kind === 'PDF' ? imageIds.slice(-1) : imageIds;
  const r = await rec.time(`generateReport ${kind}`, () => gql(url, REPORT, { in: { kind, imageIds: ids } }, token));
  const made = r.data?.generateReport as { id: string; status: string; url: string | null } | undefined;
  if (!made) return;
  const entry = { id: made.id, kind, fetched: false };
  ledger.reports.push(entry);
  if (made.status !== 'DONE' || !made.url) return rec.failure(`download report ${kind}`, `REPORT_${made.status}`);
  const t = performance.now();
  const res = await fetch(made.url, { signal: AbortSignal.timeout(60_000) }).catch(() => null);
  const body = res?.ok ? await res.arrayBuffer() : null;
  if (body && body.byteLength > 0) {
    entry.fetched = true;
    rec.success(`download report ${kind}`, performance.now() - t);
  } else rec.failure(`download report ${kind}`, res ? `HTTP_${res.status}` : 'NETWORK', res?.status ?? 0);
}
