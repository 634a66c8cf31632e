import { readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  BROWSER_TEST_TIMEOUT_MS,
  expectAccessible,
  watchConsole,
  apiToken,
  createUser,
  mailedLink,
  screenshot,
  see,
  signIn,
  startHarness,
  type Harness,
} from './harness';

/**
 * Issues [11] and [13], the admin console's user administration and live server logs, in real Chromium against the
 * real server process (`dermagraph serve`, embedded PGlite, the shipped ONNX models) with its mail caught by a real
 * SMTP server. An admin invites someone, who gets the mail, chooses a password through the link and signs in; the
 * admin renames them, changes their plan, mails them a password reset that ends their sessions, deletes a clinician
 * who owns a patient (the dialog names the consequences; the patient goes to the successor chosen) and then the
 * invitee. On the logs page, at level WARN, a model fallback caused meanwhile through the API arrives live; the
 * page narrows to its request and holds new lines while paused. On the jobs page, two classifications made to fail
 * (their image's stored file taken away) are listed with their reason; one retried meanwhile through the API is
 * refused with the API's reason next to its button, the other is queued again. axe-core on every page: no serious
 * violation.
 */
jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

const PASSWORD = 'correct horse battery 7';
const INVITEE_PASSWORD = 'a new password of mine 9';
const ADMIN = 'ada@example.org';
const SUCCESSOR = 'grace@example.org';
const LEAVING = 'leaving@example.org';
const INVITEE = 'lin@example.org';
const IMAGE = path.resolve(__dirname, '../fixtures/images/ISIC_0000150.jpg');

let h: Harness;
let adminToken = '';
const consoleErrors: string[] = [];

/** One real image uploaded to a new patient of the clinician's, through the API (the upload page has its own test). */
async function patientWithImage(token: string): Promise<void> {
  const created = await h.gql<{ createPatient: { id: string } }>(
    'mutation { createPatient(input: { externalId: "MRN-2207", displayName: "Ida Lovelace" }) { id } }',
    {},
    token,
  );
  const query = 'mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f) { id } }';
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { p: created.data!.createPatient.id, f: [null] } }));
  form.append('map', JSON.stringify({ 0: ['variables.f.0'] }));
  form.append('0', new Blob([readFileSync(IMAGE)], { type: 'image/jpeg' }), path.basename(IMAGE));
  const res = await fetch(`${h.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${token}` },
    body: form,
  });
  expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
}

/** The users page row of one account. */
const row = (page: Page, email: string) => page.getByRole('row').filter({ hasText: email });

beforeAll(async () => {
  // One attempt per job, so a job made to fail is FAILED at once (no retries with backoff).
  h = await startHarness({ admin: { email: ADMIN, password: PASSWORD }, env: { JOB_ATTEMPTS: '1' } });
  adminToken = await apiToken(h, ADMIN, PASSWORD);
  await createUser(h, { email: SUCCESSOR, password: PASSWORD, name: 'Dr Grace Hopper' });
  await createUser(h, { email: LEAVING, password: PASSWORD, name: 'Dr Leaving' });
  await patientWithImage(await apiToken(h, LEAVING, PASSWORD));
  watchConsole(h.page, consoleErrors);
  await signIn(h.page, ADMIN, PASSWORD);
});

afterAll(async () => {
  await h?.close();
  expect(consoleErrors).toEqual([]);
});

it('users: invite someone, who sets a password through the mailed link and signs in; a taken address is refused', async () => {
  const { page } = h;
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  // This month's usage: the clinician's upload.
  await see(row(page, LEAVING).getByRole('list')).toContainText('1 upload');
  await see(row(page, LEAVING).getByRole('list')).toContainText('0 predictions');

  const before = h.mail.messages.length;
  await page.getByLabel('Email to invite').fill(INVITEE);
  await page.getByLabel('Their name (optional)').fill('Dr Lin');
  await page.getByLabel('Their role').selectOption('CLINICIAN');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await see(page.getByRole('status').filter({ hasText: `Invitation mailed to ${INVITEE}` })).toBeVisible();
  await see(row(page, INVITEE)).toContainText('invited');
  // The table fits the page: no sideways scrolling at a laptop's width.
  expect(await page.locator('.table-wrap').evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  await expectAccessible(page, 'users after an invitation');
  await screenshot(page, 'admin-users-invite');

  // The same address again: the refusal reads under the email.
  await page.getByLabel('Email to invite').fill(INVITEE);
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await see(page.getByLabel('Email to invite')).toHaveAttribute('aria-invalid', 'true');

  const mail = await h.mail.waitFor(INVITEE, before, 30_000);
  expect(mail.headers.subject).toBe('You are invited to Dermagraph');
  const link = await mailedLink(h, INVITEE, before);
  const invitee = await h.newPage();
  watchConsole(invitee, consoleErrors);
  await invitee.goto(`${link.pathname}${link.search}`);
  await invitee.getByLabel('New password').fill(INVITEE_PASSWORD);
  await invitee.getByLabel('The same password again').fill(INVITEE_PASSWORD);
  await invitee.getByRole('button', { name: 'Set the new password' }).click();
  await invitee.getByRole('heading', { name: 'Password changed' }).waitFor();
  await signIn(invitee, INVITEE, INVITEE_PASSWORD);

  await page.reload();
  await see(row(page, INVITEE)).toBeVisible();
  await see(row(page, INVITEE).getByText('invited', { exact: true })).toHaveCount(0);
});

it('users: rename, change the plan, mail a password reset that ends their sessions', async () => {
  const { page } = h;
  await page.getByLabel(`Name of ${INVITEE}`, { exact: true }).fill('Dr Lin Wei');
  await page.getByRole('button', { name: `Save name of ${INVITEE}` }).click();
  await see(row(page, INVITEE).getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await page.getByLabel(`Plan of ${INVITEE}`, { exact: true }).selectOption('PRO');
  await page.getByRole('button', { name: `Save plan of ${INVITEE}` }).click();
  // The name's "Saved" and the plan's.
  await see(row(page, INVITEE).getByRole('status').filter({ hasText: 'Saved' })).toHaveCount(2);
  const read = await h.gql<{ users: { edges: { node: { name: string; plan: string } }[] } }>(
    'query { users(filter: { search: "lin@" }) { edges { node { name plan } } } }',
    {},
    adminToken,
  );
  expect(read.data?.users.edges.map((e) => e.node)).toEqual([{ name: 'Dr Lin Wei', plan: 'PRO' }]);

  const token = await apiToken(h, INVITEE, INVITEE_PASSWORD);
  const before = h.mail.messages.length;
  await page.getByRole('button', { name: `Reset password of ${INVITEE}` }).click();
  await page.getByLabel('End their sessions now').check();
  await page.getByRole('button', { name: `Send password reset to ${INVITEE}` }).click();
  await see(row(page, INVITEE).getByRole('status').filter({ hasText: 'Reset link sent' })).toBeVisible();
  expect((await h.mail.waitFor(INVITEE, before, 30_000)).headers.subject).toBe('Reset your password');
  const me = await h.gql<{ me: { id: string } | null }>('query { me { id } }', {}, token);
  expect(me.data?.me ?? null).toBeNull();
});

it('users: deleting a clinician who owns a patient asks for a successor, who then owns it; then the invitee', async () => {
  const { page } = h;
  await page.getByRole('button', { name: `Delete ${LEAVING}` }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${LEAVING}?` });
  await see(dialog).toContainText('ACCOUNT_DELETION_PATIENTS');
  // No successor for an owner of patients: the refusal reads under the successor.
  await dialog.getByRole('button', { name: 'Delete the account' }).click();
  const successor = dialog.getByLabel('Successor for their patients');
  await see(successor).toHaveAttribute('aria-invalid', 'true');
  await see(dialog).toContainText('owns 1 patient');
  await expectAccessible(page, 'delete dialog with an error');
  // The whole page in the viewport, so the modal's backdrop covers all of it in the picture.
  await page.setViewportSize({ width: 1280, height: await page.evaluate(() => document.body.scrollHeight) });
  await screenshot(page, 'admin-users-delete');
  await page.setViewportSize({ width: 1280, height: 860 });
  await successor.selectOption({ label: `Dr Grace Hopper (${SUCCESSOR})` });
  await dialog.getByRole('button', { name: 'Delete the account' }).click();
  await see(page.getByRole('status').filter({ hasText: `Deleted ${LEAVING}` })).toContainText(
    `1 patient moved to ${SUCCESSOR}`,
  );
  await see(row(page, LEAVING)).toHaveCount(0);
  const owned = await h.gql<{ patients: { totalCount: number } }>(
    'query { patients { totalCount } }',
    {},
    await apiToken(h, SUCCESSOR, PASSWORD),
  );
  expect(owned.data?.patients.totalCount).toBe(1);

  // Nothing points at the invitee's account: it goes entirely. Cancel first, then delete.
  await page.getByRole('button', { name: `Delete ${INVITEE}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await see(page.getByRole('dialog')).toHaveCount(0);
  // The focus is back where it was.
  expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Delete ${INVITEE}`);
  await page.getByRole('button', { name: `Delete ${INVITEE}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete the account' }).click();
  await see(page.getByRole('status').filter({ hasText: `Deleted ${INVITEE}` })).toContainText('the account is removed');
  await see(row(page, INVITEE)).toHaveCount(0);
  const login = await h.gql('mutation { login(email: "lin@example.org", password: "x") { accessToken } }');
  expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});

it('logs: at level WARN, a model fallback caused meanwhile arrives live; narrowed to its request; held while paused', async () => {
  const { page } = h;
  await page.getByRole('link', { name: 'Logs' }).click();
  await page.getByRole('heading', { name: 'Server logs' }).waitFor();
  const table = page.getByRole('table');
  // The first page: this process's recent lines, each naming it.
  await see(page.getByText(/From 1 process: api \d+ on /)).toBeVisible();
  const infoLines = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'INFO', exact: true }) });
  await see(infoLines.first()).toContainText('api ');

  // The page reads serverLogs at WARN, then once more from its newest line; after that second look, what an action
  // causes can only come by the live tail.
  const secondLook = page.waitForResponse((r) => {
    const body = r.request().postData() ?? '';
    return body.includes('AdminServerLogs') && body.includes('"level":"WARN"') && body.includes('"since":"');
  });
  await page.getByLabel('Level and above').selectOption('WARN');
  await secondLook;
  const place = (model: string) =>
    h.gql(`mutation { setModelDevice(name: "${model}", device: { kind: WEBGPU }) { version } }`, {}, adminToken);
  expect((await place('dg-gap-classifier')).errors).toBeUndefined();
  const fallback = page.getByRole('row').filter({ hasText: 'model registry: fell_back' });
  await see(fallback).toHaveCount(1);
  await see(fallback).toContainText('WARN');
  await see(fallback).toContainText('api ');
  // Only WARN and above at this level.
  await see(infoLines).toHaveCount(0);
  await expectAccessible(page, 'logs at WARN');

  // The request that placed it: its button fills the request filter.
  await fallback.getByRole('button', { name: /^Show only request / }).click();
  expect(await page.getByLabel('Request ID').inputValue()).not.toBe('');
  await see(page.getByRole('row').filter({ hasText: 'model registry' })).toHaveCount(1);
  await page.getByLabel('Request ID').fill('no-such-request');
  await see(table).toContainText('No line matches.');
  await page.getByRole('button', { name: 'Clear filters' }).click();

  // Paused, a new line is counted but not shown; resuming shows it.
  await page.getByRole('button', { name: 'Pause' }).click();
  expect((await place('dg-mlp-classifier')).errors).toBeUndefined();
  await see(page.getByRole('status').filter({ hasText: 'Paused: 1 new line arrived since' })).toBeVisible();
  await see(page.getByRole('row').filter({ hasText: 'fell_back' })).toHaveCount(1);
  await page.getByRole('button', { name: 'Resume' }).click();
  await see(page.getByRole('row').filter({ hasText: 'fell_back' })).toHaveCount(2);
  // The newest line's whole JSON, on demand.
  await page.getByRole('row').filter({ hasText: 'fell_back' }).first().getByText('JSON').click();
  await see(page.getByRole('table')).toContainText('"model": "dg-mlp-classifier"');
  await expectAccessible(page, 'logs with a JSON line open');
  await screenshot(page, 'admin-logs');

  // Two requests' lines: choosing the older one's request leaves its line alone.
  const older = page.getByRole('row').filter({ hasText: 'fell_back' }).last();
  const olderRequest = older.getByRole('button', { name: /^Show only request / });
  const olderId = await olderRequest.getAttribute('title');
  await olderRequest.click();
  await see(page.getByRole('row').filter({ hasText: 'fell_back' })).toHaveCount(1);
  expect(await page.getByLabel('Request ID').inputValue()).toBe(olderId);
  await page.getByRole('button', { name: 'Clear filters' }).click();

  await page.getByLabel('Search messages').fill('dg-mlp-classifier');
  await see(page.getByRole('row').filter({ hasText: 'fell_back' })).toHaveCount(1);
  await expectAccessible(page, 'logs, searched');
});

/** A classification of the image with its stored file away: it fails in the runner, with JOB_ATTEMPTS=1 at once. */
async function failedClassification(imageId: string, token: string): Promise<string> {
  const r = await h.gql<{ classifyImage: { id: string; status: string } }>(
    'mutation($id: ID!) { classifyImage(imageId: $id, explain: false, wait: true) { id status } }',
    { id: imageId },
    token,
  );
  expect(r.data?.classifyImage.status).toBe('FAILED');
  return r.data!.classifyImage.id;
}

it('jobs: failed jobs are listed with their reason; Retry queues one again and shows the refusal of another', async () => {
  const { page } = h;
  // The patient moved to the successor, with its one image.
  const token = await apiToken(h, SUCCESSOR, PASSWORD);
  const images = await h.gql<{
    patients: { edges: { node: { images: { edges: { node: { id: string; sha256: string } }[] } } }[] };
  }>('query { patients { edges { node { images { edges { node { id sha256 } } } } } } }', {}, token);
  const image = images.data!.patients.edges[0].node.images.edges[0].node;
  const file = path.join(h.dataDir, 'files', image.sha256.slice(0, 2), image.sha256.slice(2, 4), image.sha256);
  await rename(file, `${file}.away`);
  const refused = await failedClassification(image.id, token);
  const retried = await failedClassification(image.id, token);
  await rename(`${file}.away`, file);

  await page.getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  expect(await page.getByLabel('Status').inputValue()).toBe('FAILED');
  const jobRow = (id: string) =>
    page.getByRole('row').filter({ has: page.getByRole('button', { name: `Retry job ${id}` }) });
  for (const id of [refused, retried]) {
    await see(jobRow(id)).toContainText(SUCCESSOR);
    await see(jobRow(id)).toContainText('classify, 1 image');
    await see(jobRow(id)).toContainText('failed');
  }
  await see(page.getByText('2 jobs, newest first')).toBeVisible();
  await expectAccessible(page, 'failed jobs');
  await screenshot(page, 'admin-jobs');

  // Retried meanwhile elsewhere: no longer FAILED, so the API refuses, and its reason reads by the button.
  const elsewhere = await h.gql('mutation($id: ID!) { retryJob(id: $id) { id } }', { id: refused }, adminToken);
  expect(elsewhere.errors).toBeUndefined();
  await jobRow(refused).getByRole('button', { name: 'Retry' }).click();
  await see(jobRow(refused).getByRole('alert')).toContainText('JOB_NOT_FAILED');
  await expectAccessible(page, 'a refused retry');

  await jobRow(retried).getByRole('button', { name: 'Retry' }).click();
  await see(page.getByRole('status').filter({ hasText: `Job ${retried} queued again.` })).toBeVisible();
  await see(page.getByText('No job has this status.')).toBeVisible();
});
