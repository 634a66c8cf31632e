import { createHash } from 'node:crypto';
import { Role } from '../../src/entities';
import type { LocalFileStore } from '../../src/infra/storage/file-store';
import { decodeMap } from '../../src/modules/jobs/cam-map-file';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { CLASSIFY_STAGES, Q, fetchPng, progressLog, seedImages, subscribeProgress, waitForJob } from './helpers';

let server: TestServer;
let alice: SignedInUser;
let imageIds: string[];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  imageIds = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000184', 'ISIC_0000151', 'ISIC_0000153']);
}, 60_000);

afterAll(() => server?.close());

describe('classifyImage', () => {
  it('classifies with Grad-CAM; the subscription sees every stage in order; the result reads back with decodable PNGs', async () => {
    const r = await server.gql<any>(
      Q.classify,
      { imageId: imageIds[0], models: [{ model: 'dg-gap-classifier' }] },
      alice.token,
    );
    expect(r.errors).toBeUndefined();
    const job = r.data.classifyImage;
    expect(job).toMatchObject({ kind: 'CLASSIFY', imageCount: 1 });
    const events = await progressLog(server.url, alice.token, job.id);
    const stages = events.map((e) => e.stage);
    expect(stages).toEqual(CLASSIFY_STAGES);
    expect(events.map((e) => e.seq)).toEqual(stages.map((_, i) => i + 1));
    const progress = events.map((e) => e.progress);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    const model = events.find((e) => e.stage === 'MODEL')!;
    expect(model).toMatchObject({ model: 'dg-gap-classifier', version: '1.0.0', device: { kind: 'CPU', index: null } });
    const cam = events.find((e) => e.stage === 'GRADCAM')!;
    expect(cam.gradCam.method).toBe('GRAD_CAM');
    const persisted = events.find((e) => e.stage === 'PERSISTED')!;
    expect(persisted.prediction.id).toBe(persisted.predictionId);

    const final = await waitForJob(server, alice.token, job.id);
    expect(final).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'DONE',
      progress: 1,
      attempts: 1,
      resultIds: [persisted.predictionId],
    });
    const p = (await server.gql<any>(Q.prediction, { id: persisted.predictionId }, alice.token)).data.prediction;
    expect(p.imageId).toBe(imageIds[0]);
    expect(p.probabilities.map((x: any) => x.label)).toEqual(['benign', 'malignant']);
    expect(p.probabilities.reduce((s: number, x: any) => s + x.probability, 0)).toBeCloseTo(1, 6);
    // The label follows the call at the model's threshold (below 0.5): its probability, whichever is larger.
    expect(p.label).toBe(p.malignant ? 'malignant' : 'benign');
    expect(p.confidence).toBe(p.probabilities.find((x: any) => x.label === p.label).probability);
    expect(p.members).toEqual([
      {
        model: 'dg-gap-classifier',
        version: '1.0.0',
        weight: 1,
        requestedDevice: { kind: 'CPU', index: null },
        device: { kind: 'CPU', index: null },
        fallbackReason: null,
      },
    ]);
    expect(p.gradCam).toMatchObject({ method: 'GRAD_CAM', targetClass: p.label, model: 'dg-gap-classifier@1.0.0' });
    for (const url of [
      p.gradCam.heatmapUrl,
      p.gradCam.overlayUrl,
      p.gradCam.overlay30,
      cam.gradCam.heatmapUrl,
      cam.gradCam.overlayUrl,
    ]) {
      const png = await fetchPng(server, url);
      expect(png).toMatchObject({ status: 200, type: 'image/png', width: 250, height: 250, channels: 3 });
    }
    // Different opacities render different overlays.
    const a = await fetchPng(server, p.gradCam.overlayUrl);
    const b = await fetchPng(server, p.gradCam.overlay30);
    expect(a.data.equals(b.data)).toBe(false);
  }, 60_000);

  it('keeps the Grad-CAM map in its prediction row, not in a file: the heatmap of the GRADCAM event answers at once, and a map kept as a file (rows stored before) renders the same', async () => {
    const files = server.services.files as LocalFileStore;
    const sql = (q: string, params: unknown[]) =>
      server.services.db.orm.em.fork().getConnection().execute(q, params) as Promise<any[]>;
    const filesBefore = await files.count();
    const r = await server.gql<any>(Q.classify, { imageId: imageIds[2] }, alice.token);
    expect(r.errors).toBeUndefined();
    let asAnnounced: ReturnType<typeof fetchPng> | undefined;
    const stream = await subscribeProgress(server.url, alice.token, r.data.classifyImage.id, Q.progress, (e) => {
      if (e.stage === 'GRADCAM') asAnnounced = fetchPng(server, e.gradCam.heatmapUrl);
    });
    await stream.done;
    await stream.close();
    const heatmapUrl = stream.events.find((e) => e.stage === 'GRADCAM')!.gradCam.heatmapUrl;
    const heatmap = await asAnnounced!;
    expect(heatmap).toMatchObject({ status: 200, type: 'image/png', width: 250, height: 250, channels: 3 });

    const job = await waitForJob(server, alice.token, r.data.classifyImage.id);
    const [row] = await sql('select grad_cam_map as map, grad_cam_map_sha256 as sha from predictions where id = ?', [
      job.resultIds[0],
    ]);
    expect(createHash('sha256').update(row.map).digest('hex')).toBe(row.sha);
    expect(decodeMap(row.map)).toMatchObject({ width: 250, height: 250 });
    expect(await files.exists(row.sha)).toBe(false);
    expect(await files.count()).toBe(filesBefore + 1); // the heatmap's rendering, and no map file

    // As a row stored before keeps it: the map in a file of the store, none in the row; renderings made anew.
    await files.remove(row.sha);
    await files.putBuffer(row.map);
    await sql('update predictions set grad_cam_map = null where id = ?', [job.resultIds[0]]);
    const fromFile = await fetchPng(server, heatmapUrl);
    expect(fromFile.status).toBe(200);
    expect(fromFile.data.equals(heatmap.data)).toBe(true);
  }, 60_000);

  it('explains a chosen class with the MLP head and skips Grad-CAM when explain is false', async () => {
    const r = await server.gql<any>(
      Q.classify,
      { imageId: imageIds[1], models: [{ model: 'dg-mlp-classifier' }], targetClass: 'malignant' },
      alice.token,
    );
    const job = await waitForJob(server, alice.token, r.data.classifyImage.id);
    expect(job.status).toBe('SUCCEEDED');
    const p = (await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, alice.token)).data.prediction;
    expect(p.gradCam).toMatchObject({ method: 'GRAD_CAM', targetClass: 'malignant', model: 'dg-mlp-classifier@1.0.0' });

    const r2 = await server.gql<any>(Q.classify, { imageId: imageIds[1], explain: false }, alice.token);
    const job2 = await waitForJob(server, alice.token, r2.data.classifyImage.id);
    const p2 = (await server.gql<any>(Q.prediction, { id: job2.resultIds[0] }, alice.token)).data.prediction;
    expect(p2.gradCam).toBeNull();
  }, 60_000);

  it('averages a weighted two-model ensemble', async () => {
    const members = [
      { model: 'dg-gap-classifier', weight: 3 },
      { model: 'dg-mlp-classifier', weight: 1 },
    ];
    const ids: string[] = [];
    for (const m of [...members.map((x) => [x]), members]) {
      const r = await server.gql<any>(Q.classify, { imageId: imageIds[0], models: m, explain: false }, alice.token);
      const job = await waitForJob(server, alice.token, r.data.classifyImage.id);
      ids.push(job.resultIds[0]);
    }
    const [gap, mlp, ens] = await Promise.all(
      ids.map(async (id) => (await server.gql<any>(Q.prediction, { id }, alice.token)).data.prediction),
    );
    ens.probabilities.forEach((x: any, i: number) =>
      expect(x.probability).toBeCloseTo(
        0.75 * gap.probabilities[i].probability + 0.25 * mlp.probabilities[i].probability,
        6,
      ),
    );
    expect(ens.members.map((m: any) => m.weight)).toEqual([0.75, 0.25]);
  }, 60_000);

  it('a subscription to a job whose event log has expired gets its end at once', async () => {
    const r = await server.gql<any>(Q.classify, { imageId: imageIds[0], explain: false }, alice.token);
    const job = await waitForJob(server, alice.token, r.data.classifyImage.id);
    await server.services.redis!.main.del(`${server.config.REDIS_PREFIX}job-events:${job.id}`);
    const stream = await subscribeProgress(server.url, alice.token, job.id);
    await stream.done;
    await stream.close();
    expect(stream.events).toEqual([
      expect.objectContaining({ seq: 1, stage: 'DONE', status: 'SUCCEEDED', progress: 1 }),
    ]);
  }, 60_000);

  it('exports Prometheus metrics for the queue, stages and jobs', async () => {
    const text = await server.services.metrics.registry.metrics();
    expect(text).toMatch(/dermagraph_inference_queue_depth\{queue="inference"\} 0/);
    expect(text).toMatch(/dermagraph_inference_stage_duration_seconds_count\{kind="classify",stage="model"\} [1-9]/);
    expect(text).toMatch(
      /dermagraph_inference_stage_duration_seconds_count\{kind="classify",stage="persisted"\} [1-9]/,
    );
    expect(text).toMatch(/dermagraph_inference_job_duration_seconds_count\{kind="classify",status="SUCCEEDED"\} [1-9]/);
  });
});

describe('classifyImages', () => {
  it('runs one job over many images: per-image stages in order, each result as it lands, the same answers as one at a time', async () => {
    const batch = imageIds.slice(0, 4);
    // A repeated id (in another case) is one image.
    const r = await server.gql<any>(
      Q.classifyMany,
      { imageIds: [...batch, batch[2].toUpperCase()], models: [{ model: 'dg-gap-classifier' }] },
      alice.token,
    );
    expect(r.errors).toBeUndefined();
    const job = r.data.classifyImages;
    expect(job).toMatchObject({ kind: 'CLASSIFY', imageCount: 4 });
    const stream = await subscribeProgress(server.url, alice.token, job.id);
    await stream.done;
    await stream.close();
    expect(stream.errors).toEqual([]);
    expect(stream.events.map((e) => e.seq)).toEqual(stream.events.map((_, i) => i + 1));
    expect(stream.events[0].stage).toBe('QUEUED');
    expect(stream.events.at(-1)!.stage).toBe('DONE');
    const progress = stream.events.map((e) => e.progress);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    const persisted = new Map<string, string>();
    for (const [index, imageId] of batch.entries()) {
      const mine = stream.events.filter((e) => e.imageId === imageId);
      expect(mine.every((e) => e.imageIndex === index && e.imageCount === 4)).toBe(true);
      expect(mine.map((e) => e.stage)).toEqual(['PREPROCESSING', 'MODEL', 'ENSEMBLING', 'GRADCAM', 'PERSISTED']);
      const p = mine.at(-1)!;
      expect(p.prediction.id).toBe(p.predictionId);
      persisted.set(imageId, p.predictionId);
    }
    const final = await waitForJob(server, alice.token, job.id);
    expect(final).toMatchObject({ status: 'SUCCEEDED', stage: 'DONE', progress: 1, attempts: 1 });
    expect(final.resultIds).toEqual(batch.map((id) => persisted.get(id)));
    for (const [i, imageId] of batch.entries()) {
      const p = (await server.gql<any>(Q.prediction, { id: final.resultIds[i] }, alice.token)).data.prediction;
      expect(p).toMatchObject({ imageId, jobId: job.id, gradCam: { method: 'GRAD_CAM' } });
      const one = await server.gql<any>(
        Q.classify,
        { imageId, models: [{ model: 'dg-gap-classifier' }], explain: false },
        alice.token,
      );
      const alone = (
        await server.gql<any>(
          Q.prediction,
          { id: (await waitForJob(server, alice.token, one.data.classifyImage.id)).resultIds[0] },
          alice.token,
        )
      ).data.prediction;
      expect(p.probabilities).toEqual(alone.probabilities);
    }
  }, 120_000);
});
