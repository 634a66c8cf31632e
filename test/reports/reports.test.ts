import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { Image, Prediction, Role, Segmentation } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, errorCode } from '../patients/helpers';
import { seedImages } from '../inference/helpers';
import { download, inkOfFirstPage, pdfText, R, storedReportFiles, unzipAll } from './helpers';

/**
 * [10] generateReport end to end on real results: images classified (with Grad-CAM) and segmented by
 * the shipped models, reports made in the request and by REPORT jobs, read back with poppler,
 * csv-parse and unzip, and compared with the stored rows.
 */
let server: TestServer;
let alice: SignedInUser;
let carol: SignedInUser;
let researcher: SignedInUser;
let admin: SignedInUser;
let patientId: string;
let lesionId: string;
/** 0: classified and segmented; 1: segmented only; 2: nothing. */
let images: string[];

const NAME = '=HYPERLINK("http://x","y")';
const EXTERNAL_ID = 'MRN-RPT-0042';

async function gen(input: Record<string, unknown>, token = alice.token, wait = false) {
  return server.gql<any>(R.generate, { input, wait }, token);
}

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline', JOB_ATTEMPTS: '1', REPORT_INLINE_MAX_IMAGES: '1' } });
  alice = await createSignedInUser(server);
  carol = await createSignedInUser(server);
  researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  patientId = await createPatient(server, alice.token, {
    externalId: EXTERNAL_ID,
    displayName: NAME,
    dateOfBirth: '1961-04-09',
    sex: 'FEMALE',
  });
  const lesion = await server.gql<any>(
    `mutation($p: ID!) { createLesion(patientId: $p, input: { bodySite: "left forearm", label: "mole 1" }) { id } }`,
    { p: patientId },
    alice.token,
  );
  lesionId = lesion.data.createLesion.id;
  images = await seedImages(
    server,
    alice.id,
    ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153'].map((n) => `${__dirname}/../fixtures/images/${n}.jpg`),
    patientId,
  );
  await server.services.db.orm.em.fork().nativeUpdate(Image, { id: { $in: images } }, { lesion: lesionId });
  const classify = await server.gql<any>(
    `mutation($id: ID!) { classifyImage(imageId: $id, wait: true) { status error } }`,
    { id: images[0] },
    alice.token,
  );
  expect(classify.data.classifyImage).toEqual({ status: 'SUCCEEDED', error: null });
  const segment = await server.gql<any>(
    `mutation($ids: [ID!]!) { segmentImages(imageIds: $ids, members: [{ model: "dg-seg-skin-distance" }, { model: "dg-seg-stats" }], wait: true) { status error } }`,
    { ids: images.slice(0, 2) },
    alice.token,
  );
  expect(segment.data.segmentImages).toEqual({ status: 'SUCCEEDED', error: null });
}, 180_000);

afterAll(() => server?.close());

describe('a PDF report', () => {
  it('is made in the request and reads back with the patient, the numbers and the models', async () => {
    const r = await gen({ kind: 'PDF', imageIds: [images[0]] });
    expect(r.errors).toBeUndefined();
    const report = r.data.generateReport;
    expect(report).toMatchObject({ kind: 'PDF', status: 'DONE', progress: 1, imageCount: 1, jobId: null, error: null });
    const file = await download(server, report.url);
    expect(file).toMatchObject({ status: 200, type: 'application/pdf' });
    expect(file.disposition).toContain(`attachment; filename="${report.fileName}"`);
    expect(file.body.length).toBe(report.bytes);
    const text = pdfText(file.body);
    const em = server.services.db.orm.em.fork();
    const p = await em.findOneOrFail(Prediction, { imageId: images[0] });
    const s = await em.findOneOrFail(Segmentation, { imageId: images[0] });
    expect(text).toContain(NAME);
    expect(text).toContain(EXTERNAL_ID);
    expect(text).toContain('1961-04-09');
    expect(text).toContain('left forearm');
    expect(text).toContain(p.label);
    for (const m of [...p.members, ...s.members]) expect(text).toContain(m.version);
    expect(text).toContain('dg-seg-skin-distance');
    expect(text).toContain(s.severity);
    expect(text).toContain('Decision support only');
    expect(text).toMatch(/Page 1 of \d/);
    expect(inkOfFirstPage(file.body)).toBeGreaterThan(0.05);
    // To look at a report made from real results: REAL_REPORT_PDF=/tmp/real.pdf npx jest test/reports -t 'PDF report'
    if (process.env.REAL_REPORT_PDF) writeFileSync(process.env.REAL_REPORT_PDF, file.body);
  }, 60_000);

  it('of an image with no results says so instead of leaving holes', async () => {
    const r = await gen({ kind: 'PDF', imageIds: [images[2]] });
    const text = pdfText((await download(server, r.data.generateReport.url)).body);
    expect(text).toContain('No classification');
    expect(text).toContain('No segmentation');
  }, 60_000);

  it('covers exactly one image', async () => {
    const r = await gen({ kind: 'PDF', imageIds: images.slice(0, 2) });
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'kind',
      reason: 'ONE_IMAGE_PER_PDF',
    });
  });
});

describe('a CSV report', () => {
  it('has one row per image of the patient, equal to the stored values, with a formula-like name inert', async () => {
    const r = await gen({ kind: 'CSV', patientId });
    expect(r.data.generateReport).toMatchObject({ status: 'DONE', imageCount: 3 });
    const file = await download(server, r.data.generateReport.url);
    expect(file.type).toBe('text/csv; charset=utf-8');
    const rows = parse(file.body, { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((x) => x.image_id)).toEqual(images);
    const em = server.services.db.orm.em.fork();
    const p = await em.findOneOrFail(Prediction, { imageId: images[0] });
    const s = await em.findOneOrFail(Segmentation, { imageId: images[1] });
    expect(rows[0]).toMatchObject({
      patient_external_id: EXTERNAL_ID,
      lesion_body_site: 'left forearm',
      label: p.label,
    });
    expect(Number(rows[0].confidence)).toBe(p.confidence);
    for (const { label, probability } of p.probabilities) expect(Number(rows[0][`p_${label}`])).toBe(probability);
    expect(Number(rows[1].area_percent)).toBe(s.areaPercent);
    expect(Number(rows[1].circularity)).toBe(s.circularity);
    expect(rows[1].severity).toBe(s.severity);
    expect(rows[1].label).toBe('');
    expect(rows[2]).toMatchObject({ label: '', severity: '' });
    // Inert: a spreadsheet shows the text, it never evaluates it.
    expect(rows[0].patient_name).toBe(`'${NAME}`);
  }, 60_000);
});

describe('ZIP reports', () => {
  it('a masks ZIP holds each segmented image’s mask under its patient, and a manifest that matches', async () => {
    const r = await gen({ kind: 'MASKS_ZIP', imageIds: images });
    expect(r.data.generateReport).toMatchObject({ status: 'DONE', imageCount: 3 });
    const { test, entries } = unzipAll((await download(server, r.data.generateReport.url)).body);
    expect(test).toContain('No errors detected');
    const em = server.services.db.orm.em.fork();
    for (const id of images.slice(0, 2)) {
      const s = await em.findOneOrFail(Segmentation, { imageId: id });
      expect(entries.get(`${EXTERNAL_ID}/${id}_mask.png`)).toEqual(
        readFileSync(server.services.inference.files.path(s.maskSha256)),
      );
    }
    const manifest = parse(entries.get('manifest.csv')!, { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => m.name).sort()).toEqual([...entries.keys()].filter((n) => n !== 'manifest.csv').sort());
    for (const m of manifest) expect(Number(m.bytes)).toBe(entries.get(m.name)!.length);
  }, 60_000);

  it('a PDFs ZIP of a lesion runs as a REPORT job whose progress streams per image', async () => {
    const r = await gen({ kind: 'PDFS_ZIP', lesionId }, alice.token, true);
    expect(r.errors).toBeUndefined();
    const report = r.data.generateReport;
    expect(report).toMatchObject({ status: 'DONE', imageCount: 3, jobId: expect.any(String) });
    const events = await server.services.inference.progress.history(report.jobId);
    expect(events.filter((e) => e.stage === 'rendering').map((e) => e.imageId)).toEqual(images);
    expect(events.at(-1)).toMatchObject({ stage: 'done' });
    const job = await server.gql<any>(
      `query($id: ID!) { job(id: $id) { kind status } }`,
      { id: report.jobId },
      alice.token,
    );
    expect(job.data.job).toEqual({ kind: 'REPORT', status: 'SUCCEEDED' });
    const { test, entries } = unzipAll((await download(server, report.url)).body);
    expect(test).toContain('No errors detected');
    for (const id of images) expect(pdfText(entries.get(`${EXTERNAL_ID}/${id}_report.pdf`)!)).toContain(EXTERNAL_ID);
  }, 120_000);

  it('a masks ZIP of images without any segmentation is refused', async () => {
    const r = await gen({ kind: 'MASKS_ZIP', imageIds: [images[2]] });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NO_SEGMENTATIONS' });
  });
});

describe('who may report on what', () => {
  it('another clinician’s images are NOT_FOUND, and nothing is recorded', async () => {
    const before = await server.services.db.orm.em.fork().count('Report');
    const r = await gen({ kind: 'CSV', imageIds: [images[0]] }, carol.token);
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'imageIds[0]' });
    expect(errorCode(await gen({ kind: 'CSV', patientId }, carol.token))).toBe('NOT_FOUND');
    expect(errorCode(await gen({ kind: 'CSV', lesionId }, carol.token))).toBe('NOT_FOUND');
    expect(await server.services.db.orm.em.fork().count('Report')).toBe(before);
  });

  it('a report is visible to whoever may read its patients, and only to them', async () => {
    const mine = (await gen({ kind: 'CSV', imageIds: [images[0]] })).data.generateReport;
    expect((await server.gql<any>(R.report, { id: mine.id }, carol.token)).data.report).toBeNull();
    expect((await server.gql<any>(R.report, { id: mine.id }, admin.token)).data.report.id).toBe(mine.id);
    const list = `query($p: ID!) { patient(id: $p) { reports(first: 50) { totalCount edges { node { id } } } } }`;
    const seen = await server.gql<any>(list, { p: patientId }, alice.token);
    expect(seen.data.patient.reports.edges.map((e: any) => e.node.id)).toContain(mine.id);
    await server.gql(
      `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id } }`,
      { p: patientId, u: carol.id },
      alice.token,
    );
    expect((await server.gql<any>(R.report, { id: mine.id }, carol.token)).data.report.url).toMatch(
      /\/files\/reports\//,
    );
    await server.gql(
      `mutation($p: ID!, $u: ID!) { unsharePatient(patientId: $p, userId: $u) { id } }`,
      { p: patientId, u: carol.id },
      alice.token,
    );
    expect((await server.gql<any>(R.report, { id: mine.id }, carol.token)).data.report).toBeNull();
    // Not hers: she may not delete it even while it was shared.
    expect(errorCode(await server.gql(R.remove, { id: mine.id }, carol.token))).toBe('NOT_FOUND');
  });

  it('researchers get FORBIDDEN: their export is the de-identified CSV', async () => {
    expect(errorCode(await gen({ kind: 'CSV', patientId }, researcher.token))).toBe('FORBIDDEN');
  });

  it('a URL that was altered or names a deleted report is refused', async () => {
    const r = (await gen({ kind: 'CSV', imageIds: [images[1]] })).data.generateReport;
    expect((await download(server, r.url.replace(/sig=[^&]+/, 'sig=AAAA'))).status).toBe(403);
    expect((await server.gql<any>(R.remove, { id: r.id }, alice.token)).data.deleteReport).toBe(r.id);
    expect((await download(server, r.url)).status).toBe(404);
    expect((await server.gql<any>(R.report, { id: r.id }, alice.token)).data.report).toBeNull();
  });
});

describe('garbage in', () => {
  it('10 000 image ids are refused before any query, with nothing recorded', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const before = await server.services.db.orm.em.fork().count('Report');
    const r = await gen({ kind: 'CSV', imageIds: ids });
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'imageIds',
      reason: 'TOO_MANY_IMAGES',
    });
    expect(await server.services.db.orm.em.fork().count('Report')).toBe(before);
  });

  it('no source, two sources, no images, a malformed id', async () => {
    expect((await gen({ kind: 'CSV' })).errors?.[0].extensions).toMatchObject({ reason: 'ONE_SOURCE' });
    expect((await gen({ kind: 'CSV', patientId, lesionId })).errors?.[0].extensions).toMatchObject({
      reason: 'ONE_SOURCE',
    });
    expect((await gen({ kind: 'CSV', imageIds: [] })).errors?.[0].extensions).toMatchObject({ reason: 'NO_IMAGES' });
    expect(errorCode(await gen({ kind: 'CSV', imageIds: ['not-a-uuid'] }))).toBe('NOT_FOUND');
    expect(errorCode(await gen({ kind: 'NOPE', imageIds: [images[0]] }))).toBe('BAD_USER_INPUT');
    expect((await server.gql<any>(R.report, { id: 'x' }, alice.token)).data.report).toBeNull();
  });
});

describe('a report deleted while its job is writing it', () => {
  it('stops, and leaves no row and no file behind', async () => {
    const fixture = `${__dirname}/../fixtures/images/ISIC_0000150.jpg`;
    const many = await seedImages(server, alice.id, Array(40).fill(fixture), patientId);
    const before = storedReportFiles(server.dataDir);
    const r = (await gen({ kind: 'PDFS_ZIP', imageIds: many })).data.generateReport;
    expect(r).toMatchObject({ status: expect.stringMatching(/PENDING|RUNNING/), jobId: expect.any(String) });
    const progress = server.services.inference.progress;
    for (let i = 0; i < 600 && !(await progress.history(r.jobId)).some((e) => e.stage === 'rendering'); i++)
      await new Promise((res) => setTimeout(res, 25));
    expect((await server.gql<any>(R.remove, { id: r.id }, alice.token)).data.deleteReport).toBe(r.id);
    let job: any;
    for (let i = 0; i < 600; i++) {
      job = (await server.gql<any>(`query($id: ID!) { job(id: $id) { status stage } }`, { id: r.jobId }, alice.token))
        .data.job;
      if (job.status !== 'QUEUED' && job.status !== 'RUNNING') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(job.status).toBe('SUCCEEDED');
    const events = await progress.history(r.jobId);
    // It stopped early: not every image was written.
    expect(events.filter((e) => e.stage === 'rendering').length).toBeLessThan(many.length);
    expect((await server.gql<any>(R.report, { id: r.id }, alice.token)).data.report).toBeNull();
    expect(await server.services.db.orm.em.fork().count('Report', { id: r.id })).toBe(0);
    expect(storedReportFiles(server.dataDir)).toEqual(before);
  }, 120_000);
});

describe('the record', () => {
  it('puts each report on the patient’s timeline and in the audit log with the patients exported', async () => {
    const r = (await gen({ kind: 'CSV', imageIds: [images[0]] })).data.generateReport;
    const tl = await server.gql<any>(
      `query($p: ID!) { patient(id: $p) { timeline(first: 5) { edges { node { __typename ... on ReportGeneratedEvent { reportId text actorId } } } } } }`,
      { p: patientId },
      alice.token,
    );
    expect(tl.data.patient.timeline.edges[0].node).toEqual({
      __typename: 'ReportGeneratedEvent',
      reportId: r.id,
      text: 'CSV report of 1 image',
      actorId: alice.id,
    });
    const audit = await server.gql<any>(
      `{ auditLog(first: 50, filter: { action: REPORT_GENERATED }) { edges { node { userId details } } } }`,
      {},
      admin.token,
    );
    const row = audit.data.auditLog.edges.map((e: any) => e.node).find((n: any) => n.details.reportId === r.id);
    expect(row).toMatchObject({ userId: alice.id, details: { kind: 'CSV', imageCount: 1, patientIds: [patientId] } });
  });
});
