import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  BROWSER_TEST_TIMEOUT_MS,
  expectAccessible,
  watchConsole,
  apiToken,
  createUser,
  screenshot,
  signIn,
  startHarness,
  see,
  type Harness,
} from './harness';

/**
 * Issue [11], the admin and research pages of the web console in real Chromium against the real server process
 * and the shipped ONNX models. An admin (made by `dermagraph create-admin`) changes a user's role and disables and
 * enables another, uploads a model package built by `dermagraph models pack` (every check passed), sees the same
 * package refused by version.exists, activates the new version and rolls it back while a clinician's
 * classifications run (every one of them completes), watches the registry events arrive live, reads the audit log
 * and the system status. The researcher it made opens the research page, filters, and exports the CSV, which is
 * fetched and parsed. axe-core on every page: no serious or critical violation.
 */
jest.setTimeout(BROWSER_TEST_TIMEOUT_MS * 2);

const ROOT = path.resolve(__dirname, '../..');
const IMAGES = path.join(ROOT, 'datasets/isic-uda1/images');
const PASSWORD = 'correct horse battery 7';
const ADMIN = 'ada@example.org';
const CLINICIAN = 'grace@example.org';
const RESEARCHER = 'rosalind@example.org';
const OTHER = 'mallory@example.org';
const MODEL = 'dg-gap-classifier';

let h: Harness;
let clinicianToken = '';
let imageIds: string[] = [];
let packageFile = '';
let workDir = '';

/** A multipart uploadImages of `files` for the clinician (the setup's images; the upload page has its own test). */
async function uploadImages(patientId: string, files: string[], extra: string): Promise<string[]> {
  const query = `mutation($patientId: ID!, $files: [Upload!]!) {
    uploadImages(patientId: $patientId, files: $files, wait: true, ${extra}) { id }
  }`;
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { patientId, files: files.map(() => null) } }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((f, i) =>
    form.append(String(i), new Blob([readFileSync(f)], { type: 'image/jpeg' }), path.basename(f)),
  );
  const res = await fetch(`${h.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${clinicianToken}` },
    body: form,
  });
  const body = (await res.json()) as { data?: { uploadImages: { id: string }[] }; errors?: unknown };
  if (!body.data) throw new Error(`uploadImages failed: ${JSON.stringify(body.errors)}`);
  return body.data.uploadImages.map((i) => i.id);
}

/** Waits until the clinician has no QUEUED or RUNNING job; answers the statuses of their jobs that did not succeed. */
async function jobsWhenDone(): Promise<string[]> {
  for (;;) {
    const r = await h.gql<{ jobs: { edges: { node: { status: string } }[] } }>(
      'query { jobs(first: 100) { edges { node { status } } } }',
      {},
      clinicianToken,
    );
    const statuses = r.data!.jobs.edges.map((e) => e.node.status);
    if (!statuses.some((st) => st === 'QUEUED' || st === 'RUNNING')) return statuses.filter((st) => st !== 'SUCCEEDED');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** dg-gap-classifier relabelled 1.1.0 and packed with the CLI, as an admin would make a new version. */
async function packNewVersion(): Promise<string> {
  const dir = path.join(workDir, `${MODEL}-1.1.0`);
  await fs.cp(path.join(ROOT, 'plugins', MODEL), dir, { recursive: true });
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { version: string };
  manifest.version = '1.1.0';
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const out = path.join(workDir, `${MODEL}-1.1.0.zip`);
  execFileSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'models', 'pack', dir, '--out', out], {
    env: { ...process.env, DOTENV_PATH: '/dev/null' },
    stdio: 'pipe',
  });
  return out;
}

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-admin-test-'));
  packageFile = await packNewVersion();
  h = await startHarness({
    admin: { email: ADMIN, password: PASSWORD },
    // The classification loops below ask for many predictions; the free plan's monthly quota is not under test.
    env: { QUOTA_FREE_PREDICTIONS_PER_MONTH: '1000000' },
  });
  await createUser(h, { email: CLINICIAN, password: PASSWORD, name: 'Dr Grace Hopper' });
  await createUser(h, { email: RESEARCHER, password: PASSWORD, name: 'Rosalind Franklin' });
  await createUser(h, { email: OTHER, password: PASSWORD });
  clinicianToken = await apiToken(h, CLINICIAN, PASSWORD);

  // Results for the research page: 12 images classified and segmented by dg-seg-stats, 4 of them segmented again
  // by dg-seg-skin-distance, so a model filter narrows the rows.
  const patient = await h.gql<{ createPatient: { id: string } }>(
    'mutation { createPatient(input: { externalId: "MRN-1820", displayName: "Florence Nightingale" }) { id } }',
    {},
    clinicianToken,
  );
  const patientId = patient.data!.createPatient.id;
  const files = (await fs.readdir(IMAGES)).filter((f) => f.endsWith('.jpg')).slice(0, 12);
  imageIds = await uploadImages(
    patientId,
    files.map((f) => path.join(IMAGES, f)),
    'classify: { explain: false }, segment: { members: [{ model: "dg-seg-stats" }] }',
  );
  const again = await h.gql<{ segmentImages: { id: string } }>(
    `mutation($ids: [ID!]!) {
      segmentImages(imageIds: $ids, members: [{ model: "dg-seg-skin-distance" }], wait: true) { id }
    }`,
    { ids: imageIds.slice(0, 4) },
    clinicianToken,
  );
  expect(again.data?.segmentImages.id).toBeTruthy();
  // A wait answers after JOB_WAIT_TIMEOUT_MS at most: on a slow machine, follow the jobs to their end.
  expect(await jobsWhenDone()).toEqual([]);
  watchConsole(h.page, consoleErrors);
  await signIn(h.page, ADMIN, PASSWORD);
});

afterAll(async () => {
  await h?.close();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

/** Console errors and uncaught exceptions of the pages (a CSP refusal of a lazy chunk or a style would show here). */
const consoleErrors: string[] = [];
afterAll(() => {
  expect(consoleErrors).toEqual([]);
});

it('users: search, change a role (saved) and a plan, disable and enable an account', async () => {
  const { page } = h;
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  await see(page.getByText('4 accounts')).toBeVisible();
  await expectAccessible(page, 'users');

  await page.getByLabel('Search email or name').fill('rosalind');
  await page.getByRole('button', { name: 'Search' }).click();
  await see(page.getByText('1 account', { exact: true })).toBeVisible();
  await page.getByLabel(`Role of ${RESEARCHER}`, { exact: true }).selectOption('RESEARCHER');
  await page.getByRole('button', { name: `Save role of ${RESEARCHER}` }).click();
  await see(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  const me = await h.gql<{ users: { edges: { node: { role: string } }[] } }>(
    'query { users(filter: { search: "rosalind" }) { edges { node { role } } } }',
    {},
    await apiToken(h, ADMIN, PASSWORD),
  );
  expect(me.data?.users.edges.map((e) => e.node.role)).toEqual(['RESEARCHER']);

  // A plan: the clinician's dashboard then shows the PRO quotas.
  await page.getByLabel('Search email or name').fill('grace');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByLabel(`Plan of ${CLINICIAN}`, { exact: true }).selectOption('PRO');
  await page.getByRole('button', { name: `Save plan of ${CLINICIAN}` }).click();
  await see(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  const dashboard = await h.gql<{ myDashboard: { plan: string } }>(
    'query { myDashboard { plan } }',
    {},
    clinicianToken,
  );
  expect(dashboard.data?.myDashboard.plan).toBe('PRO');

  // Only disabled accounts, then none; disable one (its row says so) and enable it again.
  await page.getByLabel('Search email or name').fill('');
  await page.getByLabel('Status').selectOption('disabled');
  await page.getByRole('button', { name: 'Search' }).click();
  await see(page.getByText('0 accounts')).toBeVisible();
  await page.getByLabel('Status').selectOption('');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: `Disable ${OTHER}` }).click();
  await see(page.getByRole('button', { name: `Enable ${OTHER}` })).toBeVisible();
  expect((await apiLogin(OTHER)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  await page.getByRole('button', { name: `Enable ${OTHER}` }).click();
  await see(page.getByRole('button', { name: `Disable ${OTHER}` })).toBeVisible();
  expect((await apiLogin(OTHER)).data?.login.accessToken).toBeTruthy();

  // The admin may not demote the last admin: the refusal reads beside that row's role.
  await page.getByLabel(`Role of ${ADMIN}`, { exact: true }).selectOption('CLINICIAN');
  await page.getByRole('button', { name: `Save role of ${ADMIN}` }).click();
  await see(page.getByLabel(`Role of ${ADMIN}`, { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'users with an error');
  await screenshot(page, 'admin-users');
  // Choosing the role it has again puts the refusal away.
  await page.getByLabel(`Role of ${ADMIN}`, { exact: true }).selectOption('ADMIN');
  await see(page.getByText('This is the last active admin')).toHaveCount(0);
});

function apiLogin(email: string) {
  return h.gql<{ login: { accessToken: string } }>(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: email, p: PASSWORD },
  );
}

it('models: a package is uploaded with every check passed; the same package again is refused by version.exists', async () => {
  const { page } = h;
  await page.getByRole('link', { name: 'Models' }).click();
  await page.getByRole('heading', { name: 'Models', exact: true }).waitFor();
  const card = page.getByRole('region', { name: MODEL, exact: true });
  await see(card).toContainText('Active: 1.0.0');
  await expectAccessible(page, 'models');

  await page.getByLabel('Package archive').setInputFiles(packageFile);
  await page.getByRole('button', { name: 'Upload package' }).click();
  await see(page.getByText(`Installed ${MODEL}@1.1.0`)).toBeVisible();
  const checks = page.getByRole('table', { name: 'Package checks' });
  await see(checks.getByText('passed', { exact: true })).toHaveCount(15);
  await see(card).toContainText('1.1.0');

  await page.getByLabel('Package archive').setInputFiles(packageFile);
  await page.getByRole('button', { name: 'Upload package' }).click();
  await see(page.getByText('The package was refused by version.exists.')).toBeVisible();
  const refused = checks.getByRole('row').filter({ hasText: 'version.exists' });
  await see(refused).toContainText('failed');
  await see(checks.getByText('passed', { exact: true })).toHaveCount(8);
  await see(checks.getByText('not run', { exact: true })).toHaveCount(6);
  await expectAccessible(page, 'models after a refused package');
});

interface JobRun {
  startedAt: number;
  endedAt: number;
  status: string;
  versions: string[];
}

/** Classifies the images with dg-gap-classifier (Grad-CAM on) again and again until `done()`, as a clinician would. */
async function classifyUntil(done: () => boolean, runs: JobRun[]): Promise<void> {
  while (!done()) {
    const startedAt = Date.now();
    const r = await h.gql<{
      classifyImages: { id: string; status: string; predictions: { members: { model: string; version: string }[] }[] };
    }>(
      `mutation($ids: [ID!]!) {
        classifyImages(imageIds: $ids, models: [{ model: "${MODEL}" }], explain: true, wait: true) {
          id status predictions { members { model version } }
        }
      }`,
      { ids: imageIds },
      clinicianToken,
    );
    let job = r.data?.classifyImages;
    // A wait answers after JOB_WAIT_TIMEOUT_MS with the job as it stands: follow it to its end.
    while (job && (job.status === 'QUEUED' || job.status === 'RUNNING')) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const again = await h.gql<{ job: NonNullable<typeof job> }>(
        `query($id: ID!) { job(id: $id) { id status predictions { members { model version } } } }`,
        { id: job.id },
        clinicianToken,
      );
      job = again.data?.job;
    }
    runs.push({
      startedAt,
      endedAt: Date.now(),
      status: job?.status ?? `error: ${JSON.stringify(r.errors)}`,
      versions: [...new Set(job?.predictions.flatMap((p) => p.members.map((m) => m.version)) ?? [])],
    });
  }
}

it("models: activate the new version and roll it back while a clinician's classifications run; events arrive live", async () => {
  const { page } = h;
  const card = page.getByRole('region', { name: MODEL, exact: true });
  const events = page.getByRole('list', { name: 'Registry events, newest first' });
  const runs: JobRun[] = [];
  let uiDone = false;
  // Two clinicians' loops (one token, two connections), so a job is in flight throughout the swaps.
  const loops = Promise.all([classifyUntil(() => uiDone, runs), classifyUntil(() => uiDone, runs)]);
  let swaps: { from: number; to: number };
  try {
    const from = Date.now();
    await page.getByRole('button', { name: `Activate ${MODEL}@1.1.0` }).click();
    await see(card).toContainText('Active: 1.1.0');
    await see(events).toContainText(`activated ${MODEL}@1.1.0`);
    await page.getByRole('button', { name: `Roll back ${MODEL}` }).click();
    await see(card).toContainText('Active: 1.0.0');
    await see(events).toContainText(`activated ${MODEL}@1.0.0`);
    swaps = { from, to: Date.now() };
  } finally {
    uiDone = true;
    await loops;
  }
  // Every classification completed, on one of the two versions; some ran while the swaps happened.
  expect(runs.length).toBeGreaterThan(0);
  expect(runs.filter((r) => r.status !== 'SUCCEEDED')).toEqual([]);
  for (const r of runs) expect(['1.0.0', '1.1.0']).toEqual(expect.arrayContaining(r.versions));
  expect(runs.some((r) => r.startedAt <= swaps.to && r.endedAt >= swaps.from)).toBe(true);
  await expectAccessible(page, 'models after the swaps');
});

it('models: a version placed on WebGPU falls back to the CPU, and the page says why; unload and activate again', async () => {
  const { page } = h;
  const label = 'dg-mlp-classifier@1.0.0';
  const card = page.getByRole('region', { name: 'dg-mlp-classifier', exact: true });
  await page.getByLabel(`Device for ${label}`, { exact: true }).selectOption('WEBGPU');
  await page.getByRole('button', { name: `Place ${label}` }).click();
  await see(card).toContainText('webgpu → cpu');
  await see(card).toContainText('Fell back: webgpu');
  const events = page.getByRole('list', { name: 'Registry events, newest first' });
  await see(events).toContainText(`fell back ${label}`);
  await expectAccessible(page, 'models after a fallback');
  await screenshot(page, 'admin-models');

  // Unloading the active version leaves the model with none (and /readyz not ready); activating loads it again.
  await page.getByRole('button', { name: `Unload ${label}` }).click();
  await see(card).toContainText('Active: none');
  await see(events).toContainText(`unloaded ${label}`);
  await page.getByRole('button', { name: `Activate ${label}` }).click();
  await see(card).toContainText('Active: 1.0.0');
});

it('audit log: the role change, filtered by action; system status', async () => {
  const { page } = h;
  // One account's entries, from its row on the users page.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('link', { name: `Audit log of ${OTHER}` }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await see(page.getByRole('table')).toContainText('Account disabled');
  await see(page.getByRole('table')).toContainText('Account enabled');
  expect(await page.getByLabel('Account ID').inputValue()).not.toBe('');

  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await see(page.getByRole('table')).toContainText('Sign-in succeeded');
  // The refused demotion of the last admin is logged too; only what succeeded here.
  await page.getByLabel('Action').selectOption('ROLE_CHANGED');
  await page.getByLabel('Outcome').selectOption('true');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const table = page.getByRole('table');
  await see(page.getByText('1 entry, newest first')).toBeVisible();
  await see(table).toContainText(RESEARCHER);
  await see(table).toContainText('RESEARCHER');
  await see(table).toContainText(ADMIN);
  await expectAccessible(page, 'audit log');
  await screenshot(page, 'admin-audit');

  await page.getByLabel('Action').selectOption('MODEL_ROLLED_BACK');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await see(page.getByText('1 entry, newest first')).toBeVisible();

  await page.getByRole('link', { name: 'System' }).click();
  await page.getByRole('heading', { name: 'System status' }).waitFor();
  await see(page.getByRole('row', { name: /Database/ })).toContainText('up');
  await see(page.getByRole('row', { name: /Redis/ })).toContainText('embedded');
  await see(page.getByText('This process is ready')).toBeVisible();
  // The deployment: the queue is empty, no worker runs (jobs run in this process), one api process holding the model
  // the clinician's uploads were classified with.
  const processes = page.getByRole('table', { name: 'Processes seen in the last minute' });
  await see(processes.getByRole('row')).toHaveCount(2);
  const fact = (name: string) =>
    page.getByLabel('This server process').locator('div').filter({ hasText: name }).locator('dd').innerText();
  expect(await fact('Jobs waiting')).toBe('0 jobs');
  expect(await fact('Workers seen in the last minute')).toBe('0 workers');
  const api = processes.getByRole('row').filter({ hasText: 'api (this one)' });
  await see(api).toContainText(`${MODEL} `);
  await see(api).toContainText(' on cpu');
  expect(await api.innerText()).toMatch(/\d+(\.\d)? MiB/);
  expect(await api.innerText()).toMatch(/\d+(\.\d)? ms \/ \d+(\.\d)? ms/);
  await expectAccessible(page, 'system status');
  await screenshot(page, 'admin-system');
});

it('research: the researcher filters the metrics, reads the charts and exports the CSV', async () => {
  const page = await h.newPage();
  watchConsole(page, consoleErrors);
  await signIn(page, RESEARCHER, PASSWORD);
  await page.getByRole('link', { name: 'Research' }).click();
  await page.getByRole('heading', { name: 'Research metrics' }).waitFor();
  await see(page.getByText('16 segmentations, newest first')).toBeVisible();
  await see(page.getByRole('img', { name: /Lesion area per model version/ })).toBeVisible();
  await see(page.getByRole('img', { name: /Border circularity per model version/ })).toBeVisible();
  // The charts' numbers, as tables for anyone who cannot read the picture.
  await page.getByText('Data table: Border circularity per model version').click();
  const data = page.getByRole('table', { name: /Border circularity per model version/ });
  await see(data).toContainText('dg-seg-stats@');
  await see(data).toContainText('dg-seg-skin-distance@');
  await expectAccessible(page, 'research');
  await screenshot(page, 'research');

  // A version without a model: the server's refusal reads under the control it names.
  await page.getByLabel('Version', { exact: true }).fill('1.0.0');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await see(page.getByLabel('Version', { exact: true })).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Version', { exact: true }).fill('');
  await page.getByLabel('Model', { exact: true }).fill('dg-seg-skin-distance');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await see(page.getByText('4 segmentations, newest first')).toBeVisible();
  await expectAccessible(page, 'research, filtered');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const link = new URL(download.url());
  const res = await fetch(new URL(`${link.pathname}${link.search}`, h.baseUrl));
  expect(res.status).toBe(200);
  const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
  expect(rows).toHaveLength(4);
  for (const row of rows) {
    expect(row.model_versions).toContain('dg-seg-skin-distance@');
    expect(Number(row.area_percent)).toBeGreaterThanOrEqual(0);
  }
  // No names or record numbers in the export.
  expect(JSON.stringify(rows)).not.toMatch(/Florence|MRN-1820/);
});

it('pages loaded on first visit open at their own address (a reload, a bookmark) without a console complaint', async () => {
  const { page } = h;
  // A fresh load on a lazily loaded route: the router wants something to show while its chunk arrives (its
  // warning would land in consoleErrors, checked after all).
  for (const [address, title] of [
    ['/admin/system', 'System status'],
    ['/research', 'Research metrics'],
  ]) {
    await page.goto(address);
    await see(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  }
});
