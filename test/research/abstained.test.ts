import sharp from 'sharp';
import { Role } from '../../src/entities';
import { clinicServer } from '../support/clinic';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { fixture, JPEGS } from '../patients/helpers';
import { allLesionMetrics, exportUrl, fetchText, records } from './helpers';

/**
 * The research rows (lesionMetrics) and the de-identified CSV say whether the image's latest prediction
 * abstained, and why, as Prediction does: real uploads classified and segmented by the shipped models.
 * ABSTAIN_MARGIN=0 never abstains on the margin, so a clean lesion image stands whatever its probability
 * and a black image abstains on its quality alone.
 */
const UPLOAD = `mutation($p: ID!, $f: [Upload!]!) {
  uploadImages(patientId: $p, files: $f, classify: { explain: false },
    segment: { members: [{ model: "dg-seg-stats" }] }, wait: true) {
    id latestPrediction { label abstained flags } segmentations { totalCount } } }`;
const BLACK_FLAGS = ['BLURRED', 'UNDER_EXPOSED', 'NOT_DERMOSCOPY_LIKE'];

const clinic = clinicServer({ ABSTAIN_MARGIN: '0' });
let researcher: SignedInUser;
const uploaded: Record<'lesion' | 'black', { label: string; abstained: boolean; flags: string[] }> = {} as never;

beforeAll(async () => {
  researcher = await createSignedInUser(clinic.server, { role: Role.RESEARCHER });
  const black = await sharp({ create: { width: 250, height: 250, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  // One upload after the other: the research rows are newest first, so the lesion's row comes first.
  for (const [key, file] of [
    ['black', { name: 'black.png', data: black }],
    ['lesion', { name: 'lesion.jpg', data: fixture(JPEGS[0]) }],
  ] as const) {
    const r = await clinic.upload(UPLOAD, [file]);
    expect(r.errors).toBeUndefined();
    const [image] = r.data.uploadImages;
    expect(image.segmentations.totalCount).toBe(1);
    uploaded[key] = image.latestPrediction;
  }
  // What the rows must say, as Prediction says it.
  expect(uploaded.black).toMatchObject({ abstained: true, flags: BLACK_FLAGS });
  expect(uploaded.lesion).toMatchObject({ abstained: false, flags: [] });
}, 60_000);

it('lesionMetrics rows carry the latest prediction’s abstained and flags', async () => {
  const rows = await allLesionMetrics(clinic.server, researcher.token);
  expect(rows.map((r) => ({ label: r.label, abstained: r.abstained, flags: r.flags }))).toEqual([
    uploaded.lesion,
    uploaded.black,
  ]);
});

it('the de-identified CSV has abstained and flags beside the call', async () => {
  const csv = records((await fetchText(await exportUrl(clinic.server, researcher.token))).text);
  const cols = Object.keys(csv[0]);
  expect(cols.slice(cols.indexOf('label'), cols.indexOf('label') + 5)).toEqual([
    'label',
    'confidence',
    'malignant',
    'abstained',
    'flags',
  ]);
  expect(csv.map((r) => [r.label, r.abstained, r.flags])).toEqual([
    [uploaded.lesion.label, 'false', ''],
    [uploaded.black.label, 'true', BLACK_FLAGS.join('; ')],
  ]);
});
