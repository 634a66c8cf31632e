// Scaled-out check, run by hand (needs nginx, PostgreSQL and Redis; not part of `npm test`):
// two api processes behind nginx, one inference worker, all on one PostgreSQL database, one Redis
// prefix and one DATA_DIR. Through nginx: sign in, create a patient, upload a real image, subscribe
// to a classification's progress over WebSocket and run it; the worker does the inference and the
// subscription (on whichever api nginx chose) receives every stage.
//   npm run build && node scripts/scaled-smoke.mjs
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import pg from 'pg';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const PG = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-scaled-'));
const db = `dg_scaled_${process.pid}`;
const admin = new pg.Client({ connectionString: PG });
await admin.connect();
await admin.query(`create database "${db}"`);
const dbUrl = new URL(PG);
dbUrl.pathname = `/${db}`;
const env = {
  PATH: process.env.PATH,
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  DATABASE_URL: dbUrl.toString(),
  REDIS_URL: REDIS,
  REDIS_PREFIX: `dg:scaled:${process.pid}:`,
  DATA_DIR: path.join(work, 'data'),
  TOTP_ENCRYPTION_KEY: 'k'.repeat(40),
  URL_SIGNING_SECRET: 's'.repeat(40),
  PUBLIC_URL: 'http://127.0.0.1:8089',
  ADMIN_EMAIL: 'admin@example.test',
  ADMIN_PASSWORD: 'a long admin passphrase 1',
  HOST: '127.0.0.1',
  GRAPHIQL: '1',
};
const children = [];
const logs = {};
function run(name, args, extra = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/src/cli.js'), ...args], {
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    logs[name] = [];
    child.stderr.on('data', (d) => logs[name].push(String(d)));
    child.once('exit', (code) =>
      code ? reject(new Error(`${name} exited ${code}: ${logs[name].join('')}`)) : resolve(child),
    );
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      logs[name].push(l);
      if (/"msg":"dermagraph (worker )?ready"/.test(l)) resolve(child);
    });
  });
}
const step = (s) => console.log(`scaled-smoke: ${s}`);
let nginx;
try {
  execFileSync(process.execPath, [path.join(root, 'dist/src/cli.js'), 'migrate'], { env, stdio: 'inherit' });
  await Promise.all([
    run('api1', ['serve'], { PORT: '4201' }),
    run('api2', ['serve'], { PORT: '4202' }),
    run('worker', ['worker']),
  ]);
  step('two api processes and a worker are ready');
  const conf = fs
    .readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8')
    .replace('server api1:4000', 'server 127.0.0.1:4201')
    .replace('server api2:4000', 'server 127.0.0.1:4202')
    .replace('listen 80;', 'listen 127.0.0.1:8089;');
  fs.writeFileSync(
    path.join(work, 'nginx.conf'),
    `pid ${work}/nginx.pid; error_log ${work}/nginx.err; events {} http { access_log ${work}/access.log; client_body_temp_path ${work}; proxy_temp_path ${work}; ${conf} }`,
  );
  nginx = spawn('nginx', ['-c', path.join(work, 'nginx.conf'), '-p', work, '-g', 'daemon off;'], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 500));
  const url = 'http://127.0.0.1:8089/graphql';
  const gql = async (query, variables, token) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const { login } = await gql('mutation($e:String!,$p:String!){ login(email:$e,password:$p){ accessToken } }', {
    e: env.ADMIN_EMAIL,
    p: env.ADMIN_PASSWORD,
  });
  const token = login.accessToken;
  const { createPatient } = await gql(
    'mutation($i:PatientInput!){ createPatient(input:$i){ id } }',
    { i: { externalId: 'MRN-1', displayName: 'Scaled Smoke' } },
    token,
  );
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: 'mutation($p:ID!,$f:[Upload!]!){ uploadImages(patientId:$p, files:$f){ id } }',
      variables: { p: createPatient.id, f: [null] },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.f.0'] }));
  form.append(
    '0',
    new Blob([fs.readFileSync(path.join(root, 'datasets/isic-uda1/images/ISIC_0000150.jpg'))], { type: 'image/jpeg' }),
    'lesion.jpg',
  );
  const up = await (
    await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
      body: form,
    })
  ).json();
  if (up.errors) throw new Error(JSON.stringify(up.errors));
  const imageId = up.data.uploadImages[0].id;
  step(`uploaded image ${imageId} through nginx`);
  const { classifyImage } = await gql(
    'mutation($i:ID!){ classifyImage(imageId:$i, explain:true){ id status } }',
    { i: imageId },
    token,
  );
  const client = createClient({
    url: url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  const stages = [];
  for await (const r of client.iterate({
    query:
      'subscription($j:ID!){ inferenceProgress(jobId:$j){ seq stage status progress device prediction { label confidence } gradCam { method heatmapUrl } } }',
    variables: { j: classifyImage.id },
  })) {
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    const e = r.data.inferenceProgress;
    stages.push(e.stage);
    if (e.prediction) step(`prediction ${e.prediction.label} ${e.prediction.confidence.toFixed(3)}`);
    if (e.gradCam) {
      const png = await fetch(new URL(e.gradCam.heatmapUrl, 'http://127.0.0.1:8089'));
      step(`Grad-CAM (${e.gradCam.method}) heatmap via nginx: HTTP ${png.status} ${png.headers.get('content-type')}`);
    }
    if (e.status === 'SUCCEEDED' || e.status === 'FAILED') break;
  }
  await client.dispose();
  step(`stages over WebSocket through nginx: ${stages.join(' > ')}`);
  // With REDIS_URL the api processes only enqueue (JOB_MODE=auto): the worker ran the job.
  const served = ['api1', 'api2'].map(
    (n) => `${n}: ${logs[n].filter((l) => l.includes('request completed')).length} HTTP requests`,
  );
  step(served.join('; '));
  if (stages.at(-1) !== 'done') throw new Error('the job did not finish');
  step('ok');
} finally {
  nginx?.kill('SIGTERM');
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  await admin.query(`drop database if exists "${db}" with (force)`);
  await admin.end();
  fs.rmSync(work, { recursive: true, force: true });
}
