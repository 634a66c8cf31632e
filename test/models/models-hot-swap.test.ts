import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import http from 'node:http';
import * as ort from 'onnxruntime-node';
import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { Role } from '../../src/entities';
import { softmax } from '../../src/inference/softmax';
import { packPackage } from '../../src/models-registry/package/package';
import type { AppContext } from '../../src/schema/context';
import {
  IMAGES,
  INPUT,
  makeClassifierPackage,
  referenceProbabilities,
  tempDir,
  tensorOf,
} from '../fixtures/models/packages';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, uploadFile } from './helpers';

let tensor: Float32Array;

/** Test only: one inference the way a resolver does it (lease, run, release), held a few ms so swaps land mid-request. */
@Resolver()
class HotSwapProbeResolver {
  @Authorized()
  @Query(() => String)
  async hotSwapProbe(@Arg('model', () => String) model: string, @Ctx() ctx: AppContext): Promise<string> {
    const activeAtStart = ctx.services.models.activeVersion(model);
    const lease = ctx.services.models.acquire(model);
    try {
      await new Promise((r) => setTimeout(r, 3));
      const out = await lease.run({
        [INPUT.name]: new ort.Tensor('float32', tensor, [1, 3, INPUT.height, INPUT.width]),
      });
      return JSON.stringify({
        activeAtStart,
        version: lease.version,
        probabilities: softmax(Array.from(out.logits.data as Float32Array)),
      });
    } finally {
      lease.release();
    }
  }
}

/** POSTs JSON over the given keep-alive agent (one socket per request loop). */
function post(url: string, body: object, headers: Record<string, string>, agent: http.Agent): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

let server: TestServer;
let admin: SignedInUser;
let work: string;

beforeAll(async () => {
  tensor = await tensorOf(IMAGES[2]);
  server = await startTestServer({ extraResolvers: [HotSwapProbeResolver] });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  work = await tempDir();
  for (const [version, model] of [
    ['1.0.0', 'v1'],
    ['2.0.0', 'v2'],
  ] as const) {
    const dir = await makeClassifierPackage(join(work, version), { version, model });
    const res = await uploadFile(
      server,
      (await packPackage(dir, join(work, `${version}.zip`))).outFile,
      admin.token,
      version === '1.0.0',
    );
    expect(res.errors).toBeUndefined();
  }
});
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

it('requests on 4 connections while versions are activated back and forth 20 times: none fails, each answered by the version active when it began', async () => {
  const reference = {
    '1.0.0': referenceProbabilities(tensor, 'v1'),
    '2.0.0': referenceProbabilities(tensor, 'v2'),
  } as Record<string, number[]>;
  const answers: Array<{ activeAtStart: string; version: string; probabilities: number[] }> = [];
  const failures: unknown[] = [];
  let swapping = true;
  const loops = Array.from({ length: 4 }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // one connection per loop
    try {
      while (swapping) {
        const body = (await post(
          server.url,
          { query: 'query($m: String!) { hotSwapProbe(model: $m) }', variables: { m: 'tiny-classifier' } },
          { authorization: `Bearer ${admin.token}` },
          agent,
        )) as {
          data?: { hotSwapProbe: string };
          errors?: unknown[];
        };
        if (body.errors || !body.data) failures.push(body.errors ?? body);
        else answers.push(JSON.parse(body.data.hotSwapProbe));
      }
    } finally {
      agent.destroy();
    }
  });
  const versions: string[] = [];
  for (let i = 0; i < 20; i++) {
    const version = i % 2 === 0 ? '2.0.0' : '1.0.0';
    const res = await server.gql<any>(Q.activate, { name: 'tiny-classifier', version }, admin.token);
    expect(res.errors).toBeUndefined();
    versions.push(res.data.activateModelVersion.version);
    await new Promise((r) => setTimeout(r, 30));
  }
  swapping = false;
  await Promise.all(loops);

  expect(failures).toEqual([]);
  expect(versions).toHaveLength(20);
  expect(answers.length).toBeGreaterThan(40);
  expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['1.0.0', '2.0.0']));
  for (const a of answers) {
    expect(a.version).toBe(a.activeAtStart);
    a.probabilities.forEach((p, i) => expect(Math.abs(p - reference[a.version][i])).toBeLessThan(1e-4));
  }
  // Every swapped-out session was released once its last request ended: one live session for the model.
  const info = server.services.models.model('tiny-classifier')!;
  expect(info.versions.map((v) => [v.version, v.status, v.leases])).toEqual([
    ['2.0.0', 'UNLOADED', 0],
    ['1.0.0', 'ACTIVE', 0],
  ]);
});
