import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { quantile, report, type Row } from '../harness';
import type { CpuTargets } from './cpu';
import {
  askPeer,
  bareFlow,
  floorFlow,
  type Flow,
  peerFlows,
  serverFlows,
  upload,
  unique,
  UPLOAD_OPERATION,
} from './flows';
import { startFloor } from './floor-process';
import { startPeer } from './peer-process';
import { type Mode, startServerUnderTest } from './server';
import { StageBreakdown, STAGES_DESCRIPTION } from './stages';
import { CPU_STEPS_DESCRIPTION } from './cpu-steps';
import { measureCpuSteps } from './measure-cpu-steps';
import { runWindow, warmUp, WARMUP_SECONDS, type Window } from './window';

/**
 * BENCH_HEAVY=1: longer windows, warm-up and more rounds (the final measurement); otherwise about 8 minutes on an idle
 * 2-core machine, half of it warm-up (a busy one stretches the windows that wait for enough requests).
 */
const HEAVY = process.env.BENCH_HEAVY === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (HEAVY ? 5 : 3));
/** Seconds per measuring window (the 20-image row gets three). */
const SECONDS = Number(process.env.BENCH_PEER_SECONDS ?? (HEAVY ? 4 : 1));
/** BENCH_PEER_MODES=embedded or =postgresql: only that database mode. */
const MODES = (process.env.BENCH_PEER_MODES ?? 'embedded,postgresql').split(',') as Mode[];
const CLIENTS = [1, 8];
/** A real ISIC dermoscopy image (250x250 JPEG), the same for every row. */
const IMAGE = path.join(projectRoot, 'datasets', 'isic-uda1', 'images', 'ISIC_0000150.jpg');

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const perImage = (ws: Window[], ms: (w: Window) => number) => sum(ws.map(ms)) / sum(ws.map((w) => w.images));
const rate = (ws: Window[]) => sum(ws.map((w) => w.images)) / sum(ws.map((w) => w.seconds));

/**
 * The seeds' stack (FastAPI + PyTorch, bench/peer/peer_service.py) beside this server and the bare runtime,
 * on the same image and model, in interleaved windows of one run, per database mode.
 */
export async function peerBench(): Promise<void> {
  const image = await fs.readFile(IMAGE);
  const peer = await startPeer();
  const floor = await startFloor();
  const bare = await bareFlow(image);
  const rows: Row[] = [];
  const stageRows: Row[] = [];
  const cpuStepRows: Row[] = [];
  const summary: Record<string, number | string> = {
    'peer torch threads': peer.threads,
    peer: peer.versions,
    'rounds x window s': `${ROUNDS} x ${SECONDS}`,
    'warm-up s per flow (c=8, unmeasured)': WARMUP_SECONDS,
    'load average at start': os.loadavg()[0],
  };
  try {
    const peerAnswer = await askPeer(peer, image, true);
    for (const mode of MODES) {
      const server = await startServerUnderTest(mode);
      try {
        // Same weights, same answer: the server's prediction on the image against the peer's.
        const [{ latestPrediction: p }] = await upload(server, [unique(image)], { explain: true });
        const serverMalignant = p!.probabilities.find((x) => x.label === 'malignant')!.probability;
        summary[`${mode}: P(malignant) server / peer`] =
          `${serverMalignant.toFixed(4)} / ${peerAnswer.probabilities.malignant.toFixed(4)}`;
        // The persisted floor keeps its answers in PostgreSQL: its row is in that mode's table only.
        const flows = [
          bare,
          ...peerFlows(peer, image, peerAnswer),
          ...(mode === 'postgresql' ? [floorFlow(floor, image, peerAnswer)] : []),
          ...(await serverFlows(server, image)),
        ];
        const targets = (f: Flow): CpuTargets =>
          f.runs === 'bare'
            ? { roots: [] }
            : f.runs === 'peer'
              ? { roots: [peer.child.pid!] }
              : f.runs === 'floor'
                ? { roots: [floor.child.pid!], database: floor.database }
                : { roots: [server.pid], database: server.database };
        for (const f of flows) {
          process.stderr.write(`  ${mode} warm-up ${WARMUP_SECONDS} s: ${f.name}\n`);
          await warmUp(f.once);
        }
        const windows = new Map<string, Window[]>();
        const stages = new StageBreakdown(server.url, UPLOAD_OPERATION);
        for (let round = 0; round < ROUNDS; round++)
          for (const clients of CLIENTS)
            for (const f of flows) {
              process.stderr.write(`  ${mode} round ${round + 1}/${ROUNDS} c=${clients} ${f.name}\n`);
              const window = () => runWindow(clients, SECONDS * f.span, targets(f), f.once);
              const w = f.breakdown ? await stages.measure(clients, window) : await window();
              const key = `${f.name}@${clients}`;
              windows.set(key, [...(windows.get(key) ?? []), w]);
            }
        rows.push(...modeRows(mode, flows, windows));
        stageRows.push(...stages.rows(mode, flows.find((f) => f.breakdown)!.name));
        summary[`${mode}: server env`] = JSON.stringify(server.env);
      } finally {
        await server.stop();
      }
      process.stderr.write(`  ${mode} CPU by step, c=1\n`);
      cpuStepRows.push(...(await measureCpuSteps(mode, image, SECONDS * 3)));
    }
  } finally {
    await bare.release();
    await floor.stop();
    await peer.stop();
  }
  summary['load average at end'] = os.loadavg()[0];
  report({
    bench: 'peer',
    description: `the seeds' stack (FastAPI + PyTorch, bench/peer/peer_service.py, dg-gap-classifier's weights read from its ONNX file) vs this server (npm start, production, one image per request over multipart unless said) vs the bare runtime (sharp + onnxruntime-node in the bench process) vs, in PostgreSQL mode, the persisted floor (bench/peer/floor-service.ts: the peer's job with the answer kept, as directly as Node allows: http, busboy, the file written, sharp, onnxruntime-node with Grad-CAM, one SQL statement storing image, job and prediction rows), same image (${path.basename(IMAGE)}), one client (Node fetch + FormData) for all; every flow first runs ${WARMUP_SECONDS} s at c=8 unmeasured (warm-up), then ${ROUNDS} interleaved rounds of ${SECONDS} s windows (c=1 then c=8, every flow), pooled; CPU per image from /proc: the server's (or the floor's) process tree + its database's PostgreSQL backends and background processes, the peer's process, the bench process for bare`,
    rows,
    summary,
    tables: [
      { title: 'peer: stage breakdown', description: STAGES_DESCRIPTION, rows: stageRows },
      { title: 'peer: CPU by step', description: CPU_STEPS_DESCRIPTION, rows: cpuStepRows },
    ],
  });
}

function modeRows(mode: Mode, flows: Flow[], windows: Map<string, Window[]>): Row[] {
  const rows: Row[] = [];
  // The CPU a row is charged: the bench process's own for bare, else the peer's or the server's (+ PostgreSQL).
  const cpuOf = (f: Flow) => (w: Window) => (f.runs === 'bare' ? w.cpu.clientMs : w.cpu.serviceMs + w.cpu.postgresMs);
  for (const clients of CLIENTS) {
    const of = (f: Flow) => windows.get(`${f.name}@${clients}`)!;
    const bare = flows.find((f) => f.runs === 'bare')!;
    const refs = new Map(
      flows.filter((f) => f.is).map((f) => [f.is, { rate: rate(of(f)), cpu: perImage(of(f), cpuOf(f)) }]),
    );
    for (const f of flows) {
      const ws = of(f);
      const r = rate(ws);
      const cpu = perImage(ws, cpuOf(f));
      const ref = f.ref ? refs.get(f.ref)! : null;
      rows.push({
        mode,
        flow: f.name,
        clients,
        'img/s': r,
        'img/s per round': ws.map((w) => (w.images / w.seconds).toFixed(0)).join(' '),
        'vs peer': ref ? r / ref.rate : null,
        'vs bare': f === bare ? null : r / rate(of(bare)),
        'p50 ms/request': quantile(
          ws.flatMap((w) => w.latencies),
          0.5,
        ),
        'CPU ms/img': cpu,
        'CPU vs peer': ref ? cpu / ref.cpu : null,
        'of which PostgreSQL':
          (f.runs === 'server' || f.runs === 'floor') && mode === 'postgresql'
            ? perImage(ws, (w) => w.cpu.postgresMs)
            : null,
        'client CPU ms/img': f === bare ? null : perImage(ws, (w) => w.cpu.clientMs),
      });
    }
  }
  return rows;
}
