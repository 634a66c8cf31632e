import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { packPackage } from '../../src/models-registry/package/package';
import { gql } from './client';
import type { Answer, Recorder } from './recorder';

/** The model the admin hot-swaps: the shipped Grad-CAM classifier under another name, one package per version. */
export const SOAK_CLASSIFIER = 'soak-classifier';

/** Packs plugins/dg-gap-classifier as `soak-classifier` `version` (same weights and golden cases). */
export async function soakPackage(work: string, version: string): Promise<string> {
  const dir = path.join(work, `${SOAK_CLASSIFIER}-${version}`);
  await cp(path.join(projectRoot, 'plugins', 'dg-gap-classifier'), dir, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  Object.assign(manifest, { name: SOAK_CLASSIFIER, version });
  delete manifest.activate;
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return (await packPackage(dir, path.join(work, `${SOAK_CLASSIFIER}-${version}.zip`))).outFile;
}

const UPLOAD_MODEL =
  'mutation($file: Upload!, $activate: Boolean!) { uploadModelPackage(file: $file, activate: $activate) { version status } }';

async function uploadPackage(url: string, token: string, zip: string, activate: boolean): Promise<Answer> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD_MODEL, variables: { file: null, activate } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([await readFile(zip)]), path.basename(zip));
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  return { status: res.status, ...((await res.json()) as object) };
}

export async function adminToken(url: string, email: string, password: string): Promise<string> {
  const r = await gql(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
    e: email,
    p: password,
  });
  if (!r.data?.login?.accessToken) throw new Error(`admin sign-in failed: ${JSON.stringify(r.errors)}`);
  return r.data.login.accessToken;
}

/** Installs and activates version 1.0.0 before the clinicians start (they classify with it). */
export async function installFirst(rec: Recorder, url: string, token: string, work: string): Promise<void> {
  const r = await rec.time('uploadModelPackage', async () =>
    uploadPackage(url, token, await soakPackage(work, '1.0.0'), true),
  );
  if (r.errors) throw new Error(`first soak-classifier upload failed: ${JSON.stringify(r.errors)}`);
}

/**
 * The admin until `until`: every `periodMs`, a new version uploaded and activated (a hot swap on
 * every process), then a rollback to the one before, then the new one activated again.
 * Returns the swaps done (activations and rollbacks that succeeded).
 */
export async function hotSwapper(
  rec: Recorder,
  url: string,
  token: string,
  work: string,
  until: number,
  periodMs = 15_000,
): Promise<number> {
  let swaps = 0;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, until - Date.now()))));
  for (let v = 1; Date.now() < until; v++) {
    const version = `1.0.${v}`;
    const zip = await soakPackage(work, version);
    const up = await rec.time('uploadModelPackage', () => uploadPackage(url, token, zip, true));
    if (!up.errors) swaps++;
    await pause(periodMs / 3);
    if (Date.now() >= until) break;
    const back = await rec.time('rollbackModelVersion', () =>
      gql(url, `mutation { rollbackModelVersion(name: "${SOAK_CLASSIFIER}") { version } }`, {}, token),
    );
    if (!back.errors) swaps++;
    await pause(periodMs / 3);
    if (Date.now() >= until) break;
    const act = await rec.time('activateModelVersion', () =>
      gql(
        url,
        `mutation { activateModelVersion(name: "${SOAK_CLASSIFIER}", version: "${version}") { version } }`,
        {},
        token,
      ),
    );
    if (!act.errors) swaps++;
    await pause(periodMs / 3);
  }
  return swaps;
}
