import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, fetchPng, seedImages, subscribeProgress, waitForJob } from './helpers';

/**
 * Issue [7], "Resource limits": segmentImages had no quota (two 49-Mpx images stalled /healthz
 * for 23 s and added 1.1 GB RSS), and every distinct `device` string (cuda:0 ... cuda:99) kept
 * another session and thread for good. Each test below fails on the code before that fix.
 */
let server: TestServer;
let alice: SignedInUser;
let work: string;
const seg = [{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }];

/** A synthetic dermoscopy-like photo: a dark lesion on mottled skin, drawn small and enlarged to `width` x `height` (JPEG). */
async function largePhoto(file: string, width: number, height: number): Promise<string> {
  const [w, h] = [Math.round(width / 10), Math.round(height / 10)];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><ellipse cx="${w / 2}" cy="${h / 2}" rx="${w / 6}" ry="${h / 5}" fill="#4a2a1c"/></svg>`;
  const small = await sharp({
    create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 180, sigma: 20 } },
  })
    .composite([{ input: Buffer.from(svg) }])
    .png()
    .toBuffer();
  await writeFile(file, await sharp(small).resize(width, height).jpeg({ quality: 80 }).toBuffer());
  return file;
}

/** Threads of this process (the test server runs in it): onnxruntime sessions each hold some. */
const threadCount = () => readdirSync('/proc/self/task').length;

async function metric(name: string): Promise<number> {
  const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'dg-limits-'));
  server = await startTestServer({
    env: {
      JOB_MODE: 'inline',
      QUOTA_FREE_SEGMENTATIONS_PER_MONTH: '6',
      SEGMENT_MAX_PIXELS_IN_FLIGHT: '20000000',
      JOB_IMAGE_CONCURRENCY: '8',
    },
  });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

describe('resource limits', () => {
  it('two 17.5-Mpx images: one at a time under SEGMENT_MAX_PIXELS_IN_FLIGHT, the heavy work on an image thread while /healthz answers', async () => {
    const photo = await largePhoto(path.join(work, 'large.jpg'), 5000, 3500);
    const imageIds = await seedImages(server, alice.id, [photo, photo]);
    const r = await server.gql<any>(Q.segment, { imageIds, members: seg }, alice.token);
    expect(r.errors).toBeUndefined();
    const stream = await subscribeProgress(server.url, alice.token, r.data.segmentImages.id);
    // Once the first image reaches its full-resolution stage, the event loop still answers.
    while (!stream.events.some((e) => e.stage === 'ENSEMBLING')) await new Promise((ok) => setTimeout(ok, 5));
    const health = await fetch(server.url.replace('/graphql', '/healthz'));
    const persistedBeforeHealth = stream.events.filter((e) => e.stage === 'PERSISTED').length;
    expect(health.status).toBe(200);
    expect(persistedBeforeHealth).toBe(0);
    await stream.done;
    await stream.close();
    const job = await waitForJob(server, alice.token, r.data.segmentImages.id, 180_000);
    expect(job.status).toBe('SUCCEEDED');
    // Never both images' pixels at once (2 x 17.5 Mpx > 20 Mpx).
    expect(server.services.inference.pixels.peak).toBe(17_500_000);
    expect(server.services.inference.pixels.used).toBe(0);
    const [a, b] = await Promise.all(
      job.resultIds.map(
        async (id: string) => (await server.gql<any>(Q.segmentation, { id }, alice.token)).data.segmentation,
      ),
    );
    expect(a).toMatchObject({ width: 5000, height: 3500 });
    expect(a.metrics).toEqual(b.metrics);
    expect(a.metrics.areaPercent).toBeGreaterThan(5);
    const mask = await fetchPng(server, a.maskUrl);
    expect(mask).toMatchObject({ status: 200, width: 5000, height: 3500, channels: 1 });
    // The ensembles, metrics and PNGs ran on the image threads.
    expect(await metric('dermagraph_image_task_duration_seconds_count{task="finishSegmentation"}')).toBe(2);
  }, 240_000);

  it('a large image classified: the Grad-CAM map is kept at 1024 px on its long side, its overlay at the image size', async () => {
    const [imageId] = await seedImages(server, alice.id, [path.join(work, 'large.jpg')]);
    const r = await server.gql<any>(Q.classify, { imageId }, alice.token);
    const job = await waitForJob(server, alice.token, r.data.classifyImage.id, 120_000);
    expect(job.status).toBe('SUCCEEDED');
    const p = (await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, alice.token)).data.prediction;
    expect(await fetchPng(server, p.gradCam.heatmapUrl)).toMatchObject({ status: 200, width: 1024, height: 717 });
    expect(await fetchPng(server, p.gradCam.overlay30)).toMatchObject({ status: 200, width: 5000, height: 3500 });
  }, 120_000);

  it('segmentation is metered like classification: the monthly quota counts queued images and refuses past it, leaving no job', async () => {
    const bob = await createSignedInUser(server, { role: Role.CLINICIAN });
    const ids = await seedImages(server, bob.id, ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154']);
    const first = await server.gql<any>(Q.segment, { imageIds: ids, members: seg }, bob.token);
    expect(first.errors).toBeUndefined();
    // 4 queued or done + 3 more > 6: refused at once, before the first job has even finished.
    const over = await server.gql<any>(Q.segment, { imageIds: ids.slice(0, 3), members: seg }, bob.token);
    expect(over.errors?.[0].extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'QUOTA_EXCEEDED',
      quota: 'segmentations',
      limit: 6,
      used: 4,
    });
    expect((await waitForJob(server, bob.token, first.data.segmentImages.id)).status).toBe('SUCCEEDED');
    const jobs = (await server.services.db.orm.em
      .fork()
      .getConnection()
      .execute('select count(*)::int as n from inference_jobs where owner_id = ?', [bob.id])) as Array<{ n: number }>;
    expect(jobs[0].n).toBe(1);
    const dash = await server.gql<any>(
      'query { myDashboard { segmentationQuota { limit used remaining } } }',
      {},
      bob.token,
    );
    expect(dash.data.myDashboard.segmentationQuota).toEqual({ limit: 6, used: 4, remaining: 2 });
    expect(
      (await server.gql<any>(Q.segment, { imageIds: ids.slice(0, 2), members: seg }, bob.token)).errors,
    ).toBeUndefined();
  }, 120_000);

  it('members asking for cuda:0 ... cuda:23 on a machine without CUDA open no session: each falls back to the registry session, with the reason', async () => {
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000150']);
    const before = threadCount();
    for (let batch = 0; batch < 3; batch++) {
      const members = Array.from({ length: 8 }, (_, i) => ({
        model: 'dg-seg-stats',
        device: { kind: 'CUDA', index: batch * 8 + i },
      }));
      const r = await server.gql<any>(Q.segment, { imageIds: [imageId], members }, alice.token);
      expect(r.errors).toBeUndefined();
      const job = await waitForJob(server, alice.token, r.data.segmentImages.id);
      expect(job.status).toBe('SUCCEEDED');
      const s = (await server.gql<any>(Q.segmentation, { id: job.resultIds[0] }, alice.token)).data.segmentation;
      s.members.forEach((m: any, i: number) => {
        expect(m).toMatchObject({
          requestedDevice: { kind: 'CUDA', index: batch * 8 + i },
          device: { kind: 'CPU', index: null },
        });
        expect(m.fallbackReason).toMatch(new RegExp(`^cuda:${batch * 8 + i}: `));
      });
    }
    expect(await metric('dermagraph_member_device_sessions')).toBe(0);
    // Before, each device string kept a session and its threads for good (24 more sessions here).
    expect(threadCount() - before).toBeLessThan(8);
  }, 120_000);
});
