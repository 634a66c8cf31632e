import { ConfigError } from '../../src/infra/config';
import { apiLoadsModels } from '../../src/models-registry';
import { startTestServer, type TestServer } from '../support/server';

/**
 * API_LOAD_MODELS: an api process whose jobs run on workers keeps the model catalogue (names,
 * versions, labels, the active pointer: what requests are checked against) without onnxruntime
 * sessions; one that runs jobs itself loads them. nginx.test.ts shows the catalogue-only api
 * answering, refusing unknown models and following activations beside workers that run them.
 */
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

it('auto loads sessions only where jobs run inline; always loads them anyway; never refuses to run jobs inline', () => {
  expect(apiLoadsModels({ API_LOAD_MODELS: 'auto' }, 'inline')).toBe(true);
  expect(apiLoadsModels({ API_LOAD_MODELS: 'auto' }, 'queue')).toBe(false);
  expect(apiLoadsModels({ API_LOAD_MODELS: 'always' }, 'queue')).toBe(true);
  expect(apiLoadsModels({ API_LOAD_MODELS: 'never' }, 'queue')).toBe(false);
  expect(() => apiLoadsModels({ API_LOAD_MODELS: 'never' }, 'inline')).toThrow(ConfigError);
});

it('queue mode: the catalogue with every active version and no session; always: the sessions too', async () => {
  const lean = await startTestServer({ env: { JOB_MODE: 'queue', API_LOAD_MODELS: 'auto' } });
  servers.push(lean);
  const models = lean.services.models.list();
  expect(models.map((m) => m.name)).toEqual(
    expect.arrayContaining(['dg-gap-classifier', 'dg-mlp-classifier', 'dg-seg-skin-distance', 'dg-seg-stats']),
  );
  expect(models.every((m) => m.activeVersion !== null)).toBe(true);
  expect(models.flatMap((m) => m.versions).every((v) => !v.loaded)).toBe(true);
  expect(lean.services.models.sessionCounts().size).toBe(0);
  const mlp = lean.services.models.model('dg-mlp-classifier')!;
  expect(lean.services.models.versionInfo(mlp.name, mlp.activeVersion!)?.labels.length).toBeGreaterThan(1);
  expect((await fetch(lean.url.replace('/graphql', '/readyz'))).status).toBe(200);

  const full = await startTestServer({ env: { JOB_MODE: 'queue', API_LOAD_MODELS: 'always' } });
  servers.push(full);
  expect([...full.services.models.sessionCounts().values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
}, 120_000);

it('never with jobs inline: the server refuses to start, naming the setting', async () => {
  await expect(startTestServer({ env: { JOB_MODE: 'inline', API_LOAD_MODELS: 'never' } })).rejects.toThrow(
    /API_LOAD_MODELS/,
  );
}, 60_000);

it('a garbage API_LOAD_MODELS is a configuration error', async () => {
  await expect(startTestServer({ env: { API_LOAD_MODELS: 'sometimes' } })).rejects.toThrow(ConfigError);
});
