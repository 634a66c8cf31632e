import path from 'node:path';
import sharp from 'sharp';
import { projectRoot } from '../../src/infra/paths';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, fetchPng, seedImages, subscribeProgress, waitForJob } from './helpers';

let server: TestServer;
let alice: SignedInUser;
let imageIds: string[];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  imageIds = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153']);
}, 60_000);

afterAll(() => server?.close());

const members = [
  { model: 'dg-seg-stats', weight: 2, device: { kind: 'WEBGPU' } },
  { model: 'dg-seg-skin-distance', weight: 1, device: { kind: 'CPU' } },
];

describe('segmentImages', () => {
  it('runs a two-member ensemble on different devices (webgpu falls back), streams per-image stages in order, stores mask, map, overlay and metrics', async () => {
    const r = await server.gql<any>(Q.segment, { imageIds, members, threshold: 0.5 }, alice.token);
    expect(r.errors).toBeUndefined();
    const job = r.data.segmentImages;
    expect(job).toMatchObject({ kind: 'SEGMENT', imageCount: 3 });
    const stream = await subscribeProgress(server.url, alice.token, job.id);
    await stream.done;
    await stream.close();
    expect(stream.errors).toEqual([]);
    const events = stream.events;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0].stage).toBe('QUEUED');
    expect(events.at(-1)!.stage).toBe('DONE');
    // Per image: preprocessing, one model event per member, ensembling, metrics, persisted - in that order.
    imageIds.forEach((id, index) => {
      const mine = events.filter((e) => e.imageId === id);
      expect(mine.every((e) => e.imageIndex === index)).toBe(true);
      const stages = mine.map((e) => e.stage);
      expect(stages).toEqual(['PREPROCESSING', 'MODEL', 'MODEL', 'ENSEMBLING', 'METRICS', 'PERSISTED']);
      const models = mine.filter((e) => e.stage === 'MODEL');
      expect(models.map((e) => e.model).sort()).toEqual(['dg-seg-skin-distance', 'dg-seg-stats']);
      const gpu = models.find((e) => e.model === 'dg-seg-stats')!;
      expect(gpu).toMatchObject({
        requestedDevice: { kind: 'WEBGPU', index: null },
        device: { kind: 'CPU', index: null },
      });
      expect(gpu.fallbackReason).toMatch(/webgpu/);
      expect(models.find((e) => e.model === 'dg-seg-skin-distance')).toMatchObject({
        requestedDevice: { kind: 'CPU', index: null },
        device: { kind: 'CPU', index: null },
        fallbackReason: null,
      });
      expect(mine.at(-1)!.segmentation.id).toBe(mine.at(-1)!.segmentationId);
    });
    const progress = events.filter((e) => e.stage === 'PERSISTED').map((e) => e.progress);
    expect(progress.at(-1)).toBe(1);

    const final = await waitForJob(server, alice.token, job.id);
    expect(final).toMatchObject({ status: 'SUCCEEDED', progress: 1 });
    expect(final.resultIds).toHaveLength(3);
    for (const [i, id] of final.resultIds.entries()) {
      const s = (await server.gql<any>(Q.segmentation, { id }, alice.token)).data.segmentation;
      expect(s).toMatchObject({ imageId: imageIds[i], threshold: 0.5, width: 250, height: 250 });
      expect(s.members).toEqual([
        expect.objectContaining({
          model: 'dg-seg-stats',
          version: '1.0.0',
          requestedDevice: { kind: 'WEBGPU', index: null },
          device: { kind: 'CPU', index: null },
        }),
        expect.objectContaining({
          model: 'dg-seg-skin-distance',
          requestedDevice: { kind: 'CPU', index: null },
          device: { kind: 'CPU', index: null },
          fallbackReason: null,
        }),
      ]);
      expect(s.members[0].weight).toBeCloseTo(2 / 3, 10);
      expect(['LOW', 'MODERATE', 'HIGH']).toContain(s.severity);
      const mask = await fetchPng(server, s.maskUrl);
      expect(mask).toMatchObject({ status: 200, width: 250, height: 250, channels: 1 });
      const area = mask.data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);
      expect(area).toBe(s.metrics.areaPixels);
      expect(s.metrics.areaPercent).toBeCloseTo((100 * area) / (250 * 250), 10);
      expect(s.metrics.circularity).toBeGreaterThanOrEqual(0);
      expect(s.metrics.circularity).toBeLessThanOrEqual(1);
      const prob = await fetchPng(server, s.probabilityUrl);
      expect(prob).toMatchObject({ status: 200, width: 250, height: 250, channels: 1 });
      // The mask is the probability map at the threshold, less what the post-processing removes (docs/inference.md).
      let agree = 0;
      for (let p = 0; p < mask.data.length; p++) if (prob.data[p] >= 128 === (mask.data[p] === 255)) agree++;
      expect(agree / mask.data.length).toBeGreaterThan(0.99);
      const overlay = await fetchPng(server, s.overlayUrl);
      const overlay80 = await fetchPng(server, s.overlay80);
      expect(overlay).toMatchObject({ status: 200, width: 250, height: 250, channels: 3 });
      expect(overlay80).toMatchObject({ status: 200, width: 250, height: 250, channels: 3 });
      if (area > 0) expect(overlay.data.equals(overlay80.data)).toBe(false);
    }
  }, 90_000);

  it('refuses a tampered or expired file URL', async () => {
    const r = await server.gql<any>(Q.segment, { imageIds: [imageIds[0]], members: [members[1]] }, alice.token);
    const job = await waitForJob(server, alice.token, r.data.segmentImages.id);
    const s = (await server.gql<any>(Q.segmentation, { id: job.resultIds[0] }, alice.token)).data.segmentation;
    expect((await fetchPng(server, s.maskUrl.replace('/mask?', '/probability?'))).status).toBe(403);
    expect((await fetchPng(server, s.maskUrl.replace(/sig=[^&]+/, 'sig=AAAA'))).status).toBe(403);
    expect((await fetchPng(server, s.maskUrl.replace(/exp=\d+/, 'exp=1'))).status).toBe(403);
    void sharp;
  }, 60_000);

  const aliceOther = '00000000-0000-4000-8000-000000000000';
  it('scores against a ground-truth mask (Dice, Jaccard) when one is given', async () => {
    const golden = path.join(projectRoot, 'plugins/dg-seg-stats/golden');
    const [image] = await seedImages(server, alice.id, ['ISIC_0000150']);
    const patientId = (
      await server.services.db.orm.em
        .fork()
        .getConnection()
        .execute('select patient_id from images where id = ?', [image])
    )[0].patient_id;
    const [mask] = await seedImages(server, alice.id, [path.join(golden, 'ISIC_0000150.mask.png')], patientId);
    const bad = await server.gql<any>(
      Q.segment,
      { imageIds: [image], members: [members[0]], groundTruth: [{ imageId: aliceOther, maskImageId: mask }] },
      alice.token,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'groundTruth[0].imageId' });
    const r = await server.gql<any>(
      Q.segment,
      { imageIds: [image], members: [{ model: 'dg-seg-stats' }], groundTruth: [{ imageId: image, maskImageId: mask }] },
      alice.token,
    );
    expect(r.errors).toBeUndefined();
    const job = await waitForJob(server, alice.token, r.data.segmentImages.id);
    const s = (await server.gql<any>(Q.segmentation, { id: job.resultIds[0] }, alice.token)).data.segmentation;
    // The model's own golden mask (its output at 128 px, scaled to 250 px): close agreement, and Jaccard = D / (2 - D).
    expect(s.metrics.dice).toBeGreaterThan(0.8);
    expect(s.metrics.jaccard).toBeCloseTo(s.metrics.dice / (2 - s.metrics.dice), 10);
    const plain = (
      await server.gql<any>(
        Q.segmentation,
        {
          id: (
            await waitForJob(
              server,
              alice.token,
              (await server.gql<any>(Q.segment, { imageIds: [image], members: [members[0]] }, alice.token)).data
                .segmentImages.id,
            )
          ).resultIds[0],
        },
        alice.token,
      )
    ).data.segmentation;
    expect(plain.metrics).toMatchObject({ dice: null, jaccard: null });
  }, 60_000);
});
