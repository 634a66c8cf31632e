import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { parse } from 'csv-parse/sync';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { clinicServer } from '../support/clinic';
import { seedPrediction } from '../support/results';
import { fixture, JPEGS } from '../patients/helpers';
import { download, pdfText, R } from '../reports/helpers';
import { isicImage, seedImages } from './helpers';

/**
 * Abstention over HTTP with the real models and real images ([14], docs/inference.md "Image quality and
 * abstention"): uploads classified in the upload (the job reads the upload's decode), images classified
 * by a job that decodes the stored file, the PDF report, rows stored before the checks, and ABSTAIN_MARGIN.
 */
const FIELDS = `label confidence malignantProbability probabilities { label probability } abstained flags reasons
  decisionMargin abstainMargin quality { score sharpness darkFraction brightFraction meanBrightness skinFraction }`;
const UPLOAD = `mutation($p: ID!, $f: [Upload!]!) {
  uploadImages(patientId: $p, files: $f, classify: { explain: false }, wait: true) { id latestPrediction { ${FIELDS} } } }`;
const CLASSIFY = `mutation($id: ID!) { classifyImage(imageId: $id, explain: false, wait: true) { status predictions { ${FIELDS} } } }`;
const QUALITY_FLAGS = ['BLURRED', 'UNDER_EXPOSED', 'OVER_EXPOSED', 'NOT_DERMOSCOPY_LIKE'];
/** The threshold the cross-validation chose for the default classifier (0.29 as shipped). */
const GAP_THRESHOLD = (
  JSON.parse(readFileSync(path.join(__dirname, '../../plugins/dg-gap-classifier/manifest.json'), 'utf8')) as {
    postprocess: { decisionThreshold: number };
  }
).postprocess.decisionThreshold;

const png = (img: sharp.Sharp) => img.png().toBuffer();
const solid = (r: number, g: number, b: number) =>
  png(sharp({ create: { width: 250, height: 250, channels: 3, background: { r, g, b } } }));

describe('with the default ABSTAIN_MARGIN and QUALITY_* limits', () => {
  const clinic = clinicServer();

  const upload = async (name: string, data: Buffer) => {
    const r = await clinic.upload(UPLOAD, [{ name, data }]);
    expect(r.errors).toBeUndefined();
    return r.data.uploadImages[0] as { id: string; latestPrediction: any };
  };
  const pdfOf = async (imageId: string) => {
    const r = await clinic.server.gql<any>(
      R.generate,
      { input: { kind: 'PDF', imageIds: [imageId] }, wait: true },
      clinic.clinician.token,
    );
    expect(r.errors).toBeUndefined();
    return pdfText((await download(clinic.server, r.data.generateReport.url)).body).replace(/\s+/g, ' ');
  };

  it('a real lesion image has no quality flag; LOW_MARGIN only when its call is within the margin', async () => {
    for (const name of JPEGS) {
      const p = (await upload(name, fixture(name))).latestPrediction;
      expect(p.flags.filter((f: string) => QUALITY_FLAGS.includes(f))).toEqual([]);
      expect(p.quality.score).toBeGreaterThan(0.5);
      expect(p.quality.skinFraction).toBeGreaterThan(0.1);
      expect(p.abstainMargin).toBe(0.1);
      // The default classifier is dg-gap-classifier alone: its manifest's decision threshold.
      expect(p.decisionMargin).toBeCloseTo(Math.abs(p.malignantProbability - GAP_THRESHOLD), 12);
      expect(p.flags).toEqual(p.decisionMargin < 0.1 ? ['LOW_MARGIN'] : []);
      expect(p.abstained).toBe(p.flags.length > 0);
    }
  }, 60_000);

  it.each([
    ['a solid skin-coloured image', () => solid(224, 172, 140), ['BLURRED']],
    ['a black image', () => solid(0, 0, 0), ['BLURRED', 'UNDER_EXPOSED', 'NOT_DERMOSCOPY_LIKE']],
    ['a white image', () => solid(255, 255, 255), ['BLURRED', 'OVER_EXPOSED', 'NOT_DERMOSCOPY_LIKE']],
    ['a green image', () => solid(0, 160, 0), ['BLURRED', 'NOT_DERMOSCOPY_LIKE']],
    ['a heavily blurred real lesion', () => png(sharp(isicImage('ISIC_0000150')).blur(8)), ['BLURRED']],
    [
      'noise',
      () =>
        png(
          sharp({
            create: {
              width: 250,
              height: 250,
              channels: 3,
              background: '#000',
              noise: { type: 'gaussian', mean: 128, sigma: 60 },
            },
          }),
        ),
      ['NOT_DERMOSCOPY_LIKE'],
    ],
  ])(
    '%s is flagged and abstains, label and probabilities kept',
    async (_, make, quality) => {
      const p = (await upload('x.png', await make())).latestPrediction;
      expect(p.abstained).toBe(true);
      expect(p.flags.filter((f: string) => QUALITY_FLAGS.includes(f))).toEqual(quality);
      expect(p.quality.score).toBeLessThan(0.5);
      expect(p.probabilities).toHaveLength(2);
      expect(['benign', 'malignant']).toContain(p.label);
    },
    60_000,
  );

  it('a job that decodes the stored file measures what the upload measured', async () => {
    const up = await upload('blue.png', await solid(20, 40, 200));
    const r = await clinic.server.gql<any>(CLASSIFY, { id: up.id }, clinic.clinician.token);
    expect(r.errors).toBeUndefined();
    const p = r.data.classifyImage.predictions[0];
    expect(p).toEqual(up.latestPrediction);
    expect(p.flags).toContain('NOT_DERMOSCOPY_LIKE');
  }, 60_000);

  it('the PDF report says "Indeterminate" with the reasons in words instead of a bare label', async () => {
    const black = await upload('black.png', await solid(0, 0, 0));
    const t = await pdfOf(black.id);
    expect(t).toContain('Result: Indeterminate');
    // Two columns: pdftotext interleaves their lines, so each reason is looked for alone.
    for (const words of [
      'The image is blurred or featureless;',
      'too dark;',
      'does not look like',
      'dermoscopy of skin.',
    ])
      expect(t).toContain(words);
    expect(t).toContain(`For reference only, the model's leaning: ${black.latestPrediction.label}`);
    expect(t).not.toContain('Predicted class:');
  }, 60_000);

  it('the clinical CSV has abstained and flags beside the label', async () => {
    const black = await upload('black.png', await solid(0, 0, 0));
    const lesion = await upload('lesion.jpg', fixture(JPEGS[2]));
    const r = await clinic.server.gql<any>(
      R.generate,
      { input: { kind: 'CSV', imageIds: [black.id, lesion.id] }, wait: true },
      clinic.clinician.token,
    );
    expect(r.errors).toBeUndefined();
    const rows = parse((await download(clinic.server, r.data.generateReport.url)).body, {
      columns: true,
      bom: true,
    }) as Record<string, string>[];
    const cols = Object.keys(rows[0]);
    expect(cols.slice(cols.indexOf('label'), cols.indexOf('label') + 4)).toEqual([
      'label',
      'confidence',
      'abstained',
      'flags',
    ]);
    expect(rows[0]).toMatchObject({ abstained: 'true', flags: 'BLURRED; UNDER_EXPOSED; NOT_DERMOSCOPY_LIKE' });
    const p = lesion.latestPrediction;
    expect(rows[1]).toMatchObject({ abstained: String(p.abstained), flags: p.flags.join('; ') });
  }, 60_000);

  it("the README's example runs as written: no flag on a real lesion, three on a black image", async () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const start = readme.indexOf('# Reading the flags of a classification');
    expect(start).toBeGreaterThan(0);
    const op = readme.slice(readme.indexOf('\n', start) + 1, readme.indexOf('```', start));
    const [lesion] = await seedImages(clinic.server, clinic.clinician.id, ['ISIC_0000150'], clinic.patientId);
    const black = await upload('black.png', await solid(0, 0, 0));
    const run = async (id: string) => {
      const r = await clinic.server.gql<any>(op.replace('<image id>', id), {}, clinic.clinician.token);
      expect(r.errors).toBeUndefined();
      return r.data.classifyImage.predictions[0];
    };
    const a = await run(lesion);
    expect(a.flags).toEqual(a.decisionMargin < 0.1 ? ['LOW_MARGIN'] : []);
    expect(a.quality.score).toBeGreaterThan(0.9);
    const b = await run(black.id);
    expect(b).toMatchObject({ abstained: true, flags: ['BLURRED', 'UNDER_EXPOSED', 'NOT_DERMOSCOPY_LIKE'] });
    expect(b.reasons).toEqual([
      'the image is blurred or featureless',
      'the image is too dark',
      'the image does not look like dermoscopy of skin',
    ]);
    expect(b.quality).toMatchObject({ score: 0, sharpness: 0, darkFraction: 1 });
  }, 60_000);

  it("the patient's timeline marks each classification abstained or not (null before the checks)", async () => {
    const black = await upload('black.png', await solid(0, 0, 0));
    const r = await clinic.server.gql<any>(
      `query($id: ID!) { patient(id: $id) { timeline(first: 100) { edges { node {
        ... on PredictionEvent { predictionId imageId label abstained } } } } } }`,
      { id: clinic.patientId },
      clinic.clinician.token,
    );
    expect(r.errors).toBeUndefined();
    const events = r.data.patient.timeline.edges.map((e: any) => e.node).filter((n: any) => n.predictionId);
    expect(events.find((e: any) => e.imageId === black.id)).toMatchObject({ abstained: true });
    expect(events.every((e: any) => typeof e.abstained === 'boolean')).toBe(true);
  }, 60_000);

  it('a prediction stored before the checks reads as not assessed', async () => {
    const [imageId] = await seedImages(clinic.server, clinic.clinician.id, ['ISIC_0000150'], clinic.patientId);
    const em = clinic.server.services.db.orm.em.fork();
    // No Grad-CAM map (the seeded row's map file does not exist).
    const noCam = { gradCamMethod: null, gradCamTarget: null, gradCamModel: null, gradCamMapSha256: null };
    const old = seedPrediction(
      em,
      { owner: clinic.clinician.id, imageId, patientId: clinic.patientId, members: [], at: new Date() },
      noCam,
    );
    await em.flush();
    const r = await clinic.server.gql<any>(
      `query($id: ID!) { prediction(id: $id) { ${FIELDS} } }`,
      { id: old.id },
      clinic.clinician.token,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.prediction).toMatchObject({
      abstained: null,
      flags: ['NOT_ASSESSED'],
      reasons: ['it was classified before image quality and confidence were checked'],
      quality: null,
      decisionMargin: null,
      abstainMargin: null,
    });
    // The report shows it as it always did; the CSV says it was not assessed.
    expect(await pdfOf(imageId)).toContain('Predicted class: nevus');
    const csv = await clinic.server.gql<any>(
      R.generate,
      { input: { kind: 'CSV', imageIds: [imageId] }, wait: true },
      clinic.clinician.token,
    );
    const [row] = parse((await download(clinic.server, csv.data.generateReport.url)).body, {
      columns: true,
      bom: true,
    }) as Record<string, string>[];
    expect(row).toMatchObject({ label: 'nevus', abstained: '', flags: 'NOT_ASSESSED' });
    const t = await clinic.server.gql<any>(
      `query($id: ID!) { patient(id: $id) { timeline(first: 100) { edges { node {
        ... on PredictionEvent { predictionId abstained } } } } } }`,
      { id: clinic.patientId },
      clinic.clinician.token,
    );
    const event = t.data.patient.timeline.edges.map((e: any) => e.node).find((n: any) => n.predictionId === old.id);
    expect(event).toEqual({ predictionId: old.id, abstained: null });
  }, 60_000);
});

describe('ABSTAIN_MARGIN=0.5', () => {
  let server: TestServer;
  afterAll(() => server?.close());

  it('every classification of real images abstains with LOW_MARGIN (and no quality flag)', async () => {
    server = await startTestServer({
      env: { JOB_MODE: 'inline', ABSTAIN_MARGIN: '0.5' },
    });
    const alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    const ids = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000184', 'ISIC_0000151', 'ISIC_0000249']);
    for (const id of ids) {
      const r = await server.gql<any>(CLASSIFY, { id }, alice.token);
      expect(r.errors).toBeUndefined();
      const p = r.data.classifyImage.predictions[0];
      expect(p).toMatchObject({ abstained: true, flags: ['LOW_MARGIN'], abstainMargin: 0.5 });
      expect(p.decisionMargin).toBeLessThan(0.5);
    }
  }, 120_000);

  it('refuses a garbage margin at start', async () => {
    await expect(startTestServer({ env: { ABSTAIN_MARGIN: 'lots' } })).rejects.toThrow(/ABSTAIN_MARGIN/);
  });
});
