import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import {
  BROWSER_TEST_TIMEOUT_MS,
  apiToken,
  expectAccessible,
  createUser,
  screenshot,
  signIn,
  startHarness,
  see,
  type Harness,
} from './harness';

/**
 * Issue [11], the clinical pages of the web console in real Chromium against the real server process and the
 * shipped ONNX models: a clinician (registered and verified through the mailed link) creates a patient, uploads
 * two real dermoscopy images (and a file that is not an image, refused beside its own progress bar), classifies
 * them with Grad-CAM, moves the Grad-CAM opacity slider with the keyboard, builds a two-model segmentation
 * ensemble whose stages stream into the page, reads the mask, metrics and severity, and downloads the PDF
 * report. axe-core on every page: no serious or critical violation.
 */
jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

const IMAGES = path.resolve(__dirname, '../../datasets/isic-uda1/images');
const FILES = ['ISIC_0000150.jpg', 'ISIC_0000151.jpg'].map((f) => path.join(IMAGES, f));
const EMAIL = 'grace@example.org';
const PASSWORD = 'correct horse battery 7';
const PATIENT = 'Mary Anning';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await createUser(h, { email: EMAIL, password: PASSWORD, name: 'Dr Grace Hopper' });
  await signIn(h.page, EMAIL, PASSWORD);
});
afterAll(async () => {
  await h?.close();
});

/** The text of the element that `control`'s aria-describedby names last (its error). */
async function describedError(page: Page, control: ReturnType<Page['getByLabel']>): Promise<string> {
  await see(control).toHaveAttribute('aria-invalid', 'true');
  const ids = (await control.getAttribute('aria-describedby'))!.split(' ');
  return page.locator(`[id="${ids[ids.length - 1]}"]`).innerText();
}

/** The computed CSS opacity of the first element matching `selector`. */
const opacityOf = (page: Page, selector: string): Promise<string> =>
  page
    .locator(selector)
    .first()
    .evaluate((e) => getComputedStyle(e).opacity);

let patientPath = '';
let resultPath = '';

it('patients: create a patient (a refused field is explained beside it), then a lesion', async () => {
  const { page } = h;
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('heading', { name: 'Patients' }).waitFor();
  await see(page.getByText('0 patients')).toBeVisible();
  await expectAccessible(page, 'patients, empty');

  await page.getByRole('link', { name: 'New patient' }).click();
  // Nothing filled in: the server's BAD_USER_INPUT (field input.externalId) reads under External ID.
  await page.getByRole('button', { name: 'Create patient' }).click();
  expect(await describedError(page, page.getByLabel('External ID (MRN)'))).toMatch(/externalId|empty|required/i);
  await expectAccessible(page, 'new patient with an error');

  await page.getByLabel('External ID (MRN)').fill('MRN-1799');
  await page.getByLabel('Display name').fill(PATIENT);
  await page.getByLabel('Date of birth').fill('1979-05-21');
  await page.getByLabel('Sex').selectOption('FEMALE');
  await page.getByRole('button', { name: 'Create patient' }).click();
  await page.getByRole('heading', { name: PATIENT }).waitFor();
  patientPath = new URL(page.url()).pathname;
  expect(patientPath).toMatch(/^\/patients\/[^/]+$/);

  await page.getByLabel('Lesion label').fill('mole 1');
  await page.getByLabel('Body site').fill('left forearm');
  await page.getByRole('button', { name: 'Add lesion' }).click();
  await see(page.locator('.clinical-lesions')).toContainText('left forearm');
  // The timeline read the new lesion too.
  await see(page.locator('.clinical-timeline')).toContainText('Lesion “mole 1” added');
  await expectAccessible(page, 'patient page');

  // The list finds the patient by a part of the name, and not by something else.
  await page.goto('/patients');
  await page.getByLabel('Search patients').fill('anni');
  await see(page.getByRole('link', { name: PATIENT })).toBeVisible();
  await see(page.getByText('1 patient matching “anni”')).toBeVisible();
  await page.getByLabel('Search patients').fill('nobody-like-this');
  await see(page.getByText('0 patients matching “nobody-like-this”')).toBeVisible();
  await page.getByLabel('Search patients').fill('');
  await see(page.getByRole('link', { name: PATIENT })).toBeVisible();
});

it('upload: two real images with a progress bar each, a non-image refused beside its own bar, classified at once', async () => {
  const { page } = h;
  await page.goto(`${patientPath}/upload`);
  await page.getByRole('heading', { name: `Upload images for ${PATIENT}` }).waitFor();
  await page.getByLabel('Lesion').selectOption({ label: 'mole 1 (left forearm)' });
  // Dropped files join the list (a real DataTransfer on the drop zone), and can be taken off it before sending.
  await page.getByTestId('drop-zone').evaluate((zone) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array([0xff, 0xd8, 0xff])], 'dropped.jpg', { type: 'image/jpeg' }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await see(page.getByRole('progressbar', { name: 'dropped.jpg' })).toBeVisible();
  await page.getByRole('button', { name: 'Remove dropped.jpg' }).click();
  await see(page.getByRole('progressbar', { name: 'dropped.jpg' })).toHaveCount(0);

  // Playwright takes paths or buffers, not both in one call: the images as buffers, read from the dataset.
  const files = FILES.map((f) => ({ name: path.basename(f), mimeType: 'image/jpeg', buffer: readFileSync(f) }));
  const notImage = { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('these are notes, not a JPEG') };
  await page.getByLabel('Choose images').setInputFiles([...files, notImage]);
  await see(page.getByRole('button', { name: 'Upload 3 images' })).toBeVisible();
  await page.getByRole('button', { name: 'Upload 3 images' }).click();

  // Each file has its own bar; the two images reach 100 %, the text file is refused by the server in words.
  for (const f of FILES.map((p) => path.basename(p))) {
    // An upload is a long action on a busy machine: more time than see()'s 15 s.
    await page.getByRole('link', { name: `Open the result of ${f}` }).waitFor({ timeout: 60_000 });
    expect(await page.getByRole('progressbar', { name: f }).getAttribute('value')).toBe('1');
  }
  const refused = page.locator('.clinical-files li[data-state="failed"]');
  await see(refused).toHaveCount(1);
  await see(refused).toContainText('notes.jpg');
  await see(refused.getByRole('alert')).toContainText('JPEG');

  // Classification (with Grad-CAM) of the two uploaded images streams to DONE.
  const job = page.locator('.clinical-job').filter({ hasText: 'Classification' });
  await job.locator('[data-stage="DONE"]').waitFor({ timeout: 60_000 });
  const stages = await job.locator('[data-stage]').evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
  expect(stages.filter((s) => s === 'GRADCAM')).toHaveLength(2);
  expect(stages.filter((s) => s === 'PERSISTED')).toHaveLength(2);
  await expectAccessible(page, 'upload page after the upload');
  await screenshot(page, 'upload');

  await page.getByRole('link', { name: `Open the result of ${path.basename(FILES[0])}` }).click();
  await page.getByRole('heading', { name: path.basename(FILES[0]) }).waitFor();
  resultPath = new URL(page.url()).pathname;
});

it('result: label, confidence and every probability; the Grad-CAM overlay follows its opacity slider', async () => {
  const { page } = h;
  const verdict = page.getByTestId('prediction-label');
  await see(verdict).toContainText('confidence');
  const rows = page.getByRole('table', { name: 'Every label’s probability' }).locator('tbody tr');
  await see(rows).toHaveCount(2);
  const texts = await rows.allInnerTexts();
  const sum = texts.map((t) => Number(/([\d.]+)%/.exec(t)![1])).reduce((a, b) => a + b, 0);
  expect(sum).toBeCloseTo(100, 0);

  // The heatmap is a real image laid over the photo.
  const overlay = page.getByTestId('gradcam-overlay');
  await see(overlay).toBeVisible();
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('[data-testid="gradcam-overlay"]');
    return !!img && img.complete && img.naturalWidth > 0;
  });
  expect(await opacityOf(page, '[data-testid="gradcam-overlay"]')).toBe('0.5');
  // Keyboard: four steps of 5 % up.
  const slider = page.getByRole('slider', { name: 'Grad-CAM opacity' });
  await slider.focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  expect(await opacityOf(page, '[data-testid="gradcam-overlay"]')).toBe('0.7');
  await slider.fill('0.15');
  expect(await opacityOf(page, '[data-testid="gradcam-overlay"]')).toBe('0.15');
});

it('result: a two-model segmentation ensemble streams its stages, then the mask, metrics and severity', async () => {
  const { page } = h;
  await page.getByRole('heading', { name: 'Segmentation ensemble' }).waitFor();
  const use = (m: string) => page.getByLabel(`Use ${m}`);
  await see(use('dg-seg-stats')).toBeVisible();
  expect(await use('dg-seg-stats').isChecked()).toBe(true);
  expect(await use('dg-seg-skin-distance').isChecked()).toBe(true);

  // A device the server refuses (cuda:100): its error reads beside that member's device, nothing runs.
  await page.getByLabel('Device for dg-seg-stats').selectOption('CUDA');
  await page.getByLabel('GPU index for dg-seg-stats').fill('100');
  await page.getByRole('button', { name: 'Run segmentation' }).click();
  expect(await describedError(page, page.getByLabel('Device for dg-seg-stats'))).toMatch(/index|99/i);
  await expect(page.locator('.clinical-job').filter({ hasText: 'Segmentation' }).count()).resolves.toBe(0);

  // The ensemble: dg-seg-stats on the CPU at weight 2, dg-seg-skin-distance where it is placed, threshold 0.4.
  await page.getByLabel('Device for dg-seg-stats').selectOption('CPU');
  await page.getByLabel('Weight of dg-seg-stats').fill('2');
  await page.getByLabel(/^Threshold/).fill('0.4');
  // Record every state of the stage list the page draws, to see the stages arrive one after another.
  await page.evaluate(() => {
    const seen: string[][] = [];
    (window as unknown as { seenStages: string[][] }).seenStages = seen;
    new MutationObserver(() => {
      const list = document.querySelector('#ensemble-heading ~ .clinical-job ol');
      if (!list) return;
      const now = [...list.querySelectorAll('[data-stage]')].map((e) => e.getAttribute('data-stage')!);
      if (now.join() !== seen.at(-1)?.join()) seen.push(now);
    }).observe(document.body, { childList: true, subtree: true });
  });
  await page.getByRole('button', { name: 'Run segmentation' }).click();
  const job = page.locator('#ensemble-heading ~ .clinical-job');
  await job.locator('[data-stage="DONE"]').waitFor({ timeout: 60_000 });
  const stages = await job.locator('[data-stage]').evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
  expect(stages).toEqual(['QUEUED', 'PREPROCESSING', 'MODEL', 'MODEL', 'ENSEMBLING', 'METRICS', 'PERSISTED', 'DONE']);
  await see(job).toContainText('dg-seg-stats@1.0.0 · on cpu');
  await see(job).toContainText('dg-seg-skin-distance@1.0.0');
  const seen = await page.evaluate(() => (window as unknown as { seenStages: string[][] }).seenStages);
  // The page drew the list before the job was done, and each state extends the one before.
  expect(seen[0]).not.toContain('DONE');
  for (let i = 1; i < seen.length; i++) expect(seen[i].slice(0, seen[i - 1].length)).toEqual(seen[i - 1]);

  // The new segmentation: weights normalised 2:1, the threshold, the severity with the rule that gave it.
  const metrics = page.getByTestId('metrics-table');
  await see(metrics).toContainText('0.40');
  const members = page.getByRole('table', { name: 'Ensemble members' });
  await see(members).toContainText('0.67');
  await see(members).toContainText('0.33');
  const severity = await metrics.locator('.clinical-badge').innerText();
  expect(['LOW', 'MODERATE', 'HIGH']).toContain(severity);
  expect(await page.getByTestId('severity-rule').innerText()).toMatch(/Area|Circularity|Neither|empty/);

  // The mask over the image, with its own slider.
  await page.waitForFunction(() => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid="mask-overlay"]');
    return !!c && c.width > 0;
  });
  expect(await opacityOf(page, '[data-testid="mask-overlay"]')).toBe('0.4');
  await page.getByRole('slider', { name: 'Mask opacity' }).fill('0.9');
  expect(await opacityOf(page, '[data-testid="mask-overlay"]')).toBe('0.9');
  // The mask drew some lesion pixels (red, opaque) on the canvas.
  const lesionPixels = await page.getByTestId('mask-overlay').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] === 255) n++;
    return n;
  });
  expect(lesionPixels).toBeGreaterThan(0);
  await expectAccessible(page, 'result page');
  // The screenshot with both layers half seen.
  await page.getByRole('slider', { name: 'Grad-CAM opacity' }).fill('0.55');
  await page.getByRole('slider', { name: 'Mask opacity' }).fill('0.45');
  await screenshot(page, 'result');

  // Another label explained: classified again, the map now explains "benign".
  await page.getByLabel('Grad-CAM of the label').selectOption('benign');
  await page.getByRole('button', { name: 'Classify again with Grad-CAM' }).click();
  const classifying = page.locator('#prediction-heading ~ .clinical-job');
  await classifying.locator('[data-stage="DONE"]').waitFor({ timeout: 60_000 });
  await see(page.getByText('Grad-CAM of “benign” on dg-gap-classifier@1.0.0')).toBeVisible();
});

it('downloads the PDF report of the image; it names the patient', async () => {
  const { page } = h;
  await page.goto(resultPath);
  const button = page.getByRole('button', { name: 'Download PDF report' });
  await see(button).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), button.click()]);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-clinical-pdf-'));
  try {
    const file = path.join(dir, 'report.pdf');
    await download.saveAs(file);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
    expect(text).toContain(PATIENT);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

it('patient page: the thumbnails open the results, the timeline lists what happened', async () => {
  const { page } = h;
  await page.goto(patientPath);
  await page.getByRole('heading', { name: PATIENT }).waitFor();
  const thumbs = page.locator('.clinical-grid img');
  await see(thumbs).toHaveCount(2);
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLImageElement>('.clinical-grid img')].every((i) => i.complete && i.naturalWidth),
  );
  const timeline = page.locator('.clinical-timeline');
  await see(timeline).toContainText('Segmented');
  await see(timeline).toContainText('Classified');
  await see(timeline).toContainText('ISIC_0000151.jpg');
  await see(timeline).toContainText('Exported: PDF report of 1 image');

  // Sharing with a colleague: an unknown ID is refused beside the field, the colleague's ID works, and back.
  const colleague = await createUser(h, { email: 'alan@example.org', password: PASSWORD, name: 'Dr Alan Turing' });
  const userId = page.getByLabel('Colleague’s user ID');
  await userId.fill('00000000-0000-4000-8000-000000000000');
  await page.getByRole('button', { name: 'Share patient' }).click();
  expect(await describedError(page, userId)).toContain('No enabled account has this user ID');
  await userId.fill(colleague.id);
  await page.getByRole('button', { name: 'Share patient' }).click();
  const sharees = page.locator('.clinical-sharees');
  await see(sharees).toContainText('alan@example.org');

  await expectAccessible(page, 'patient page with images');
  await screenshot(page, 'patient');
  await page.getByRole('button', { name: 'Stop sharing with Dr Alan Turing' }).click();
  await see(sharees).toHaveCount(0);
  await see(page.getByText('Not shared with anyone.')).toBeVisible();

  // Editing the record: an emptied external ID is refused beside it; notes are saved and the timeline says so.
  await page.getByRole('button', { name: 'Edit record' }).click();
  await page.getByLabel('External ID (MRN)').fill('');
  await page.getByRole('button', { name: 'Save record' }).click();
  expect(await describedError(page, page.getByLabel('External ID (MRN)'))).toMatch(/externalId|empty|required/i);
  await page.getByLabel('External ID (MRN)').fill('MRN-1799');
  await page.getByLabel('Notes').fill('Follow up in three months');
  await page.getByRole('button', { name: 'Save record' }).click();
  await see(page.locator('.clinical-notes')).toContainText('Follow up in three months');
  await see(timeline).toContainText('changed notes');

  // Archived: read-only (no upload, no new lesion), and back.
  await page.getByRole('button', { name: 'Archive record' }).click();
  await see(page.getByRole('heading', { name: `${PATIENT} archived` })).toBeVisible();
  await see(page.getByRole('link', { name: 'Upload images' })).toHaveCount(0);
  await see(page.getByLabel('Lesion label')).toHaveCount(0);
  await page.getByRole('button', { name: 'Unarchive record' }).click();
  await see(page.getByRole('link', { name: 'Upload images' })).toBeVisible();

  // The patient's CSV: one row per image, both images.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page.getByRole('button', { name: 'Download CSV of results' }).click(),
  ]);
  const rows = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
  expect(rows).toHaveLength(2);

  await page
    .getByRole('link', { name: /^ISIC_0000150\.jpg/ })
    .first()
    .click();
  await page.getByRole('heading', { name: 'ISIC_0000150.jpg' }).waitFor();

  // Back on the list: the patient with both images and the latest classification.
  await page.getByRole('link', { name: 'Patients' }).click();
  const row = page.getByRole('row').filter({ hasText: PATIENT });
  // The label the server holds as the patient's latest (the shipped models decide which one it is).
  const latest = await h.gql<{ patients: { edges: { node: { latestPrediction: { label: string } } }[] } }>(
    `query { patients(first: 1, search: "${PATIENT}") { edges { node { latestPrediction { label } } } } }`,
    {},
    await apiToken(h, EMAIL, PASSWORD),
  );
  expect(latest.errors).toBeUndefined();
  await see(row).toContainText(latest.data!.patients.edges[0].node.latestPrediction.label);
  expect(await row.getByRole('cell').nth(3).innerText()).toBe('2');
  await expectAccessible(page, 'patients with a patient');
  await screenshot(page, 'patients');
});
