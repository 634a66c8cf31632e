import { createHmac } from 'node:crypto';
import { Role, Severity } from '../../src/entities';
import { openDatabase, type Database } from '../../src/infra/database/database';
import { researchCsvRoute } from '../../src/modules/research';
import { RESEARCH_EXPORT_KIND, ResearchExportLinks } from '../../src/modules/research/research-export';
import { seedPrediction, seedSegmentation } from '../support/results';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, uploadImages } from '../patients/helpers';
import { allLesionMetrics, exportUrl, fetchText, records } from './helpers';

const HOSTILE_NAME = '=HYPERLINK("http://x","y")';
const EXTERNAL_ID = 'MRN-EXPORT-SECRET-7';
/** More rows than one GraphQL page (500) and than five of the route's statements (1000 rows each). */
const ROWS = 5205;
const member = (model: string) => ({ model, version: '1.0.0', requested: 'cpu', device: 'cpu', weight: 1 });
const base = Date.UTC(2026, 5, 1);
/** Seven segmentations share each instant, so pages end inside runs of equal timestamps (the keyset's tie-break). */
const at = (i: number) => new Date(base + Math.floor(i / 7) * 1000);
const severities = [Severity.LOW, Severity.MODERATE, Severity.HIGH];
const formula = /^[=+\-@\t\r]/;
/** What researchCsv writes for a text cell (a formula start gets a quote). */
const inert = (s: string | null) => (s === null ? '' : formula.test(s) ? `'${s}` : s);
const numCell = (v: number | null) => (v === null ? '' : String(v));

/**
 * exportLesionMetricsCsv's content: the streamed CSV holds exactly lesionMetrics' rows, in its order,
 * with its values and the hashes of the real ids under the link's export key; filters narrow it as
 * they narrow lesionMetrics; nothing identifying is in it; a reader that stops stops the reads.
 */
describe('de-identified CSV export: content', () => {
  let server: TestServer;
  let researcher: SignedInUser;
  let secretIds: string[];

  beforeAll(async () => {
    server = await startTestServer();
    const alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
    const hostile = await createPatient(server, alice.token, { displayName: HOSTILE_NAME, externalId: EXTERNAL_ID });
    const other = await createPatient(server, alice.token, { displayName: 'Plain Other' });
    const upA = await uploadImages(server, alice.token, { patientId: hostile }, [
      { name: 'a.jpg', data: fixture(JPEGS[0]) },
      { name: 'b.jpg', data: fixture(JPEGS[1]) },
    ]);
    const upC = await uploadImages(server, alice.token, { patientId: other }, [
      { name: 'c.jpg', data: fixture(JPEGS[2]) },
    ]);
    const images = [
      { imageId: upA.data.uploadImages[0].id, patientId: hostile },
      { imageId: upA.data.uploadImages[1].id, patientId: hostile },
      { imageId: upC.data.uploadImages[0].id, patientId: other },
    ];
    const em = server.services.db.orm.em.fork();
    const row = (i: number, members: unknown[], when: Date) => ({ owner: alice.id, ...images[i], members, at: when });
    // Image A's latest label is formula-shaped; B is malignant; C was never classified.
    seedPrediction(em, row(0, [member('dg-cls')], new Date(base - 2000)), { label: 'nevus' });
    seedPrediction(em, row(0, [member('dg-cls')], new Date(base - 1000)), { label: '=cmd|calc' });
    seedPrediction(em, row(1, [member('dg-cls')], new Date(base - 1000)), { label: 'melanoma', malignant: true });
    for (let i = 0; i < ROWS; i++)
      seedSegmentation(em, row(i % 3, i % 5 ? [member('dg-a')] : [member('+evil'), member('dg-b')], at(i)), {
        severity: severities[Math.floor(i / 3) % 3],
        areaPercent: i / 100,
        stdIntensity: -(i + 1) / 1000,
        dice: i % 2 ? 0.8 : null,
        jaccard: i % 2 ? 0.66 : null,
      });
    await em.flush();
    secretIds = [hostile, other, alice.id, ...images.map((i) => i.imageId)];
  });

  afterAll(() => server.close());

  it('streams every row (not a page), exactly lesionMetrics’ rows and values, as a download', async () => {
    const url = await exportUrl(server, researcher.token);
    const res = await fetchText(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const day = new Date().toISOString().slice(0, 10);
    expect(res.headers.get('content-disposition')).toMatch(
      new RegExp(`^attachment; filename="lesion-metrics-${day}\\.csv"`),
    );
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('private, no-store');

    const csv = records(res.text);
    expect(csv).toHaveLength(ROWS);
    const pages = await allLesionMetrics(server, researcher.token);
    expect(pages).toHaveLength(ROWS);
    csv.forEach((r, i) => {
      const n = pages[i];
      expect(r).toEqual({
        id: r.id,
        subject: r.subject,
        image: r.image,
        created_at: n.createdAt,
        area_percent: numCell(n.metrics.areaPercent),
        area_pixels: numCell(n.metrics.areaPixels),
        perimeter_pixels: numCell(n.metrics.perimeterPixels),
        circularity: numCell(n.metrics.circularity),
        mean_intensity: numCell(n.metrics.meanIntensity),
        std_intensity: numCell(n.metrics.stdIntensity),
        dice: numCell(n.metrics.dice),
        jaccard: numCell(n.metrics.jaccard),
        severity: n.severity,
        label: inert(n.label),
        confidence: numCell(n.confidence),
        malignant: n.malignant === null ? '' : String(n.malignant),
        abstained: n.abstained === null ? '' : String(n.abstained),
        flags: n.flags.join('; '),
        model_versions: inert(n.modelVersions.join('; ')),
      });
    });
    // Two exports, two pseudonym keys: the same rows under different ids, in the same pattern.
    for (const key of ['id', 'subject', 'image'] as const) {
      const pairs = new Map<string, string>();
      csv.forEach((r, i) => pairs.set(r[key], pages[i][key]));
      expect(new Set(pairs.values()).size).toBe(pairs.size);
      csv.forEach((r, i) => expect(pairs.get(r[key])).toBe(pages[i][key]));
    }
    expect(new Set(csv.map((r) => r.id)).size).toBe(ROWS);
    // The seeded predictions predate the abstention checks: not assessed. Image C has no prediction: nothing.
    expect(new Set(csv.map((r) => `${r.label === ''}|${r.abstained}|${r.flags}`))).toEqual(
      new Set(['false||NOT_ASSESSED', 'true||']),
    );
    expect(new Set(csv.map((r) => r.subject)).size).toBe(2);
    expect(csv[0].id).not.toBe(pages[0].id);
  });

  it('hashes the real ids with the export key the link carries sealed, as lesionMetrics does', async () => {
    const url = await exportUrl(server, researcher.token);
    const token = decodeURIComponent(new URL(url).pathname.split('/')[3]);
    // The token is sealed: its bytes do not show the key, the user or the filter.
    expect(token).not.toContain(researcher.id);
    const links = new ResearchExportLinks({ secret: server.config.URL_SIGNING_SECRET, publicUrl: '', ttlSeconds: 300 });
    const { exportId, userId } = links.open(token);
    expect(userId).toBe(researcher.id);
    const hash = (kind: string, id: string) =>
      createHmac('sha256', exportId).update(`${kind}:${id}`).digest('base64url').slice(0, 22).replace(/^-/, '~');
    const real = (await server.services.db.orm.em
      .fork()
      .execute('select id, image_id, patient_id from segmentations order by created_at desc, id desc')) as Array<{
      id: string;
      image_id: string;
      patient_id: string;
    }>;
    const csv = records((await fetchText(url)).text);
    // About one id in 64 would start with a formula's `-`, which the CSV would have to quote.
    expect(csv.filter((r) => r.id.startsWith('~')).length).toBeGreaterThan(10);
    expect(csv.map((r) => [r.id, r.image, r.subject])).toEqual(
      real.map((r) => [hash('segmentation', r.id), hash('image', r.image_id), hash('patient', r.patient_id)]),
    );
  });

  it('holds no name, external id or real id, and neutralises text cells', async () => {
    const text = (await fetchText(await exportUrl(server, researcher.token))).text;
    for (const secret of [HOSTILE_NAME, 'HYPERLINK', EXTERNAL_ID, 'Plain Other', ...secretIds])
      expect(text).not.toContain(secret);
    const csv = records(text);
    expect(csv.filter((r) => r.label === "'=cmd|calc").length).toBeGreaterThan(1000);
    expect(csv.find((r) => r.model_versions.startsWith('+'))).toBeUndefined();
    expect(csv.filter((r) => r.model_versions === "'+evil@1.0.0; dg-b@1.0.0")).toHaveLength(Math.ceil(ROWS / 5));
    // No text cell starts a formula; negative numbers stay numbers.
    const formulas = csv.flatMap((r) => Object.entries(r).filter(([k, v]) => k !== 'std_intensity' && formula.test(v)));
    expect(formulas).toEqual([]);
    expect(csv.filter((r) => !/^-\d/.test(r.std_intensity))).toEqual([]);
    const std = new Set(csv.map((r) => r.std_intensity));
    expect([std.has('-0.001'), std.has(String(-ROWS / 1000)), std.size]).toEqual([true, true, ROWS]);
  });

  it('honours the filter as lesionMetrics does', async () => {
    const filters = [
      { severity: 'HIGH' },
      { label: 'melanoma' },
      { model: 'dg-b', version: '1.0.0' },
      { since: at(700).toISOString(), until: at(1400).toISOString(), severity: 'LOW' },
      { model: 'no-such-model' },
    ];
    for (const f of filters) {
      const csv = records((await fetchText(await exportUrl(server, researcher.token, f))).text);
      const expected = await allLesionMetrics(server, researcher.token, f);
      expect([f, csv.length]).toEqual([f, expected.length]);
      expect(csv.map((r) => [r.created_at, r.severity, r.label])).toEqual(
        expected.map((n) => [n.createdAt, n.severity, inert(n.label)]),
      );
    }
    const high = records((await fetchText(await exportUrl(server, researcher.token, { severity: 'HIGH' }))).text);
    expect(high.length).toBeGreaterThan(1500);
    expect(high.every((r) => r.severity === 'HIGH')).toBe(true);
    const win = records(
      (await fetchText(await exportUrl(server, researcher.token, { since: at(700).toISOString() }))).text,
    );
    expect(win.every((r) => new Date(r.created_at) >= at(700))).toBe(true);
  });

  it('reads the database only as fast as the reader takes the CSV', async () => {
    let statements: string[] = [];
    const counting: Database = await openDatabase(server.config, server.services.logger, {
      migrate: false,
      onQuery: (sql) => statements.push(sql),
    });
    try {
      const pageReads = () => statements.filter((s) => s.includes('from segmentations s')).length;
      const route = researchCsvRoute({
        config: server.config,
        forkEm: () => counting.orm.em.fork(),
        logger: server.services.logger,
        pageSize: 100,
      });
      const url = new URL(await exportUrl(server, researcher.token));
      const [, , , token, variant] = url.pathname.split('/');
      const file = await route.serve(
        { kind: RESEARCH_EXPORT_KIND, id: decodeURIComponent(token), variant },
        { ip: '127.0.0.1', userAgent: 'jest' },
      );
      if (!('open' in file)) throw new Error('not a stream');
      statements = [];
      const stream = file.open();
      const chunks = stream[Symbol.asyncIterator]();
      // The header comes before any read; the first row after the first page.
      await chunks.next();
      await chunks.next();
      // Nobody reads on: the stream fills its buffer to its high-water mark and stops pulling rows.
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      for (let i = 0; i < 200 && stream.readableLength < stream.readableHighWaterMark; i++) await sleep(20);
      await sleep(300); // a page already asked for is counted too
      const whileStalled = pageReads();
      expect(whileStalled).toBeGreaterThanOrEqual(1);
      expect(whileStalled).toBeLessThanOrEqual(8);
      let lines = 0;
      for (let c = await chunks.next(); !c.done; c = await chunks.next())
        lines += String(c.value).split('\n').length - 1;
      expect(lines).toBeGreaterThan(ROWS - 400);
      expect(pageReads()).toBe(Math.ceil(ROWS / 100));
    } finally {
      await counting.close();
    }
  });
});
