import sharp from 'sharp';
import { clinicServer } from '../support/clinic';
import { fixture, JPEGS, snapshot } from '../patients/helpers';
import { fetchPng } from './helpers';

/**
 * uploadImages with classify in a process that runs its jobs: the upload's decode is the job's
 * preprocessing (DecodedPixels). The prediction must be the one a job decoding the stored file makes,
 * to the last bit, and a file that does not decode is still refused with nothing stored.
 */
const UPLOAD = `mutation($p: ID!, $f: [Upload!]!, $c: ClassifyInput) {
  uploadImages(patientId: $p, files: $f, classify: $c, wait: true) {
    id latestPrediction { label confidence probabilities { label probability } } } }`;
const CLASSIFY = `mutation($id: ID!) { classifyImage(imageId: $id, wait: true) {
  status predictions { label confidence probabilities { label probability } } } }`;

const clinic = clinicServer();

it('predicts from the upload-decoded pixels exactly what a job decoding the stored file predicts', async () => {
  const file = { name: 'a.jpg', data: fixture(JPEGS[1]), type: 'image/jpeg' };
  // First an upload alone (no pixels kept) and a classification that decodes the stored file.
  const plain = await clinic.upload(UPLOAD, [file], { c: null });
  expect(plain.errors).toBeUndefined();
  const fromFile = await clinic.server.gql<any>(
    CLASSIFY,
    { id: plain.data.uploadImages[0].id },
    clinic.clinician.token,
  );
  expect(fromFile.data.classifyImage.status).toBe('SUCCEEDED');
  // Then the same bytes with classify: the job starts from the pixels the upload decoded.
  const withClassify = await clinic.upload(UPLOAD, [file], { c: { explain: false } });
  expect(withClassify.errors).toBeUndefined();
  const expected = fromFile.data.classifyImage.predictions[0];
  expect(withClassify.data.uploadImages[0].latestPrediction).toEqual(expected);
  expect(expected.probabilities).toHaveLength(2);
}, 60_000);

it('explains a turned photo at its displayed size from the upload, as a job reading the stored file does', async () => {
  // 300x200 pixels stored, EXIF orientation 6: displayed 200 wide and 300 high.
  const turned = await sharp(fixture(JPEGS[2])).resize(300, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const EXPLAINED = `mutation($p: ID!, $f: [Upload!]!, $c: ClassifyInput) {
    uploadImages(patientId: $p, files: $f, classify: $c, wait: true) { id latestPrediction { gradCam { heatmapUrl } } } }`;
  const file = { name: 'turned.jpg', data: turned, type: 'image/jpeg' };
  const up = await clinic.upload(EXPLAINED, [file], { c: { explain: true } });
  expect(up.errors).toBeUndefined();
  const fromUpload = await fetchPng(clinic.server, up.data.uploadImages[0].latestPrediction.gradCam.heatmapUrl);
  expect(fromUpload).toMatchObject({ status: 200, width: 200, height: 300 });
  const again = await clinic.server.gql<any>(
    `mutation($id: ID!) { classifyImage(imageId: $id, wait: true) { status predictions { gradCam { heatmapUrl } } } }`,
    { id: up.data.uploadImages[0].id },
    clinic.clinician.token,
  );
  expect(again.data.classifyImage.status).toBe('SUCCEEDED');
  const fromFile = await fetchPng(clinic.server, again.data.classifyImage.predictions[0].gradCam.heatmapUrl);
  expect(fromFile.data.equals(fromUpload.data)).toBe(true);
}, 60_000);

it('refuses a truncated file with classify as without, and stores nothing', async () => {
  const whole = fixture(JPEGS[0]);
  const before = await snapshot(clinic.server);
  const cut = { name: 'cut.jpg', data: whole.subarray(0, Math.floor(whole.length * 0.6)), type: 'image/jpeg' };
  const ok = { name: 'ok.jpg', data: fixture(JPEGS[2]), type: 'image/jpeg' };
  const r = await clinic.upload(UPLOAD, [ok, cut], { c: {} });
  expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'files.1' });
  expect(await snapshot(clinic.server)).toEqual(before);
}, 60_000);
