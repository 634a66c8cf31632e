import path from 'node:path';
import type { Row } from '../harness';

/**
 * CPU by step of the one-image path, for the peer bench: the server under test is started with
 * `--require dist/bench/peer/cpu-steps-preload.js`, which wraps the functions named here and adds up, per step,
 * the process's CPU (every thread: process.cpuUsage) from a call's start until what it returns settles.
 *
 * Only meaningful with one request at a time (c=1): then nothing else runs in the process while a step runs,
 * except what the step set off itself (its thread-pool and libvips work, its model thread, its garbage
 * collection), which is what it should be charged. Steps nest as the code does: a step's figure includes
 * the steps indented under it. This file holds the list and the arithmetic; the preload does the wrapping.
 */
export interface CpuStep {
  /** What the table calls it. */
  step: string;
  /** Nesting under the step above with a smaller depth (display only). */
  depth: number;
  /** Module under src/ (no extension). */
  module: string;
  /** The export: a function, or a class whose prototype has `method`. */
  name: string;
  method?: string;
}

/** The whole HTTP exchange, from the request event to the response's end: not a function, wrapped by the preload. */
export const HTTP_STEP = 'HTTP request, all of it';

export const CPU_STEPS: CpuStep[] = [
  {
    step: 'authenticate (token, session row)',
    depth: 1,
    module: 'modules/accounts/sessions/authentication',
    name: 'Authentication',
    method: 'authenticate',
  },
  { step: 'multipart parse', depth: 1, module: 'infra/http/multipart-request', name: 'processMultipart' },
  {
    step: 'upload, and its job classified in the request or queued',
    depth: 1,
    module: 'modules/jobs/api/upload-jobs.service',
    name: 'uploadAndQueue',
  },
  {
    step: 'access + quota read (one round trip)',
    depth: 2,
    module: 'modules/patients/access-policy',
    name: 'requireAccess',
  },
  {
    step: 'stage the file (hash + write)',
    depth: 2,
    module: 'infra/storage/file-store',
    name: 'LocalFileStore',
    method: 'stage',
  },
  { step: 'probe the header', depth: 2, module: 'modules/images/image-processing', name: 'probeImage' },
  { step: 'decode + resize (sharp)', depth: 2, module: 'inference/preprocess', name: 'decodeAndResize' },
  // In the request (inline mode, wait): the image is classified here, and the job recorded finished in the commit.
  { step: 'classify the image', depth: 2, module: 'modules/jobs/runner/pipeline', name: 'classifyImage' },
  {
    step: 'tensor + model (batcher, model thread)',
    depth: 3,
    module: 'modules/jobs/runner/batcher',
    name: 'DynamicBatcher',
    method: 'run',
  },
  {
    step: 'the job and prediction rows (statements)',
    depth: 2,
    module: 'modules/jobs/runner/in-request',
    name: 'InRequestClassification',
    method: 'record',
  },
  {
    step: 'transaction round trips',
    depth: 2,
    module: 'infra/database/batched-transaction',
    name: 'BatchedTransaction',
    method: 'run',
  },
  {
    step: 'progress events, once committed',
    depth: 2,
    module: 'modules/jobs/runner/in-request',
    name: 'InRequestClassification',
    method: 'announce',
  },
  // On the queue (no wait, queue mode, or what could not be done in the request).
  { step: 'job run (claim to done)', depth: 1, module: 'modules/jobs/runner/runner', name: 'JobRunner', method: 'run' },
  { step: 'claim', depth: 2, module: 'modules/jobs/job.repository', name: 'JobRepository', method: 'claim' },
  {
    step: 'store the result row',
    depth: 2,
    module: 'modules/jobs/runner/result-writer',
    name: 'ResultSink',
    method: 'store',
  },
  { step: 'progress events', depth: 2, module: 'modules/jobs/runner/runner', name: 'JobRunner', method: 'publish' },
];

/** Calls and CPU of one step, as the preload writes them. */
export interface StepTotal {
  calls: number;
  cpuMs: number;
  wallMs: number;
}

/**
 * Where a step's function is: the object that holds it and its key, so it can be replaced. Throws when it is
 * not a function, so a renamed function fails the bench (and its test) instead of dropping out of the table.
 */
export function stepTarget(srcRoot: string, s: CpuStep): { holder: Record<string, unknown>; key: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path.join(srcRoot, s.module)) as Record<string, unknown>;
  const holder = (s.method === undefined ? mod : (mod[s.name] as { prototype?: unknown } | undefined)?.prototype) as
    Record<string, unknown> | undefined;
  const key = s.method ?? s.name;
  if (typeof holder?.[key] !== 'function')
    throw new Error(`cpu step "${s.step}": ${s.module}.${s.name}${s.method ? `.${s.method}` : ''} is not a function`);
  return { holder, key };
}

/** The table: per image, each step's calls and CPU, in the list's order, nested steps indented. */
export function cpuStepRows(mode: string, totals: Record<string, StepTotal>, images: number): Row[] {
  const steps = [{ step: HTTP_STEP, depth: 0 }, ...CPU_STEPS.map(({ step, depth }) => ({ step, depth }))];
  return steps
    .filter(({ step }) => totals[step])
    .map(({ step, depth }) => {
      const t = totals[step];
      return {
        mode,
        step: `${'  '.repeat(depth)}${step}`,
        'calls per image': t.calls / images,
        'CPU ms per image': t.cpuMs / images,
        'CPU ms per call': t.cpuMs / t.calls,
        'wall ms per call': t.wallMs / t.calls,
      };
    });
}

export const CPU_STEPS_DESCRIPTION =
  "where the server's CPU goes per image of the main flow (one image per request, upload + classify + Grad-CAM + wait), measured in a server of its own started with bench/peer/cpu-steps-preload.js, one client (c=1): each step's figure is the API process's CPU (all its threads, process.cpuUsage) from the step's start until what it returns settles, summed and divided by the images; nested steps (indented) are included in the step above them; PostgreSQL's own CPU is not in it. At c=1 nothing else runs in the process during a step but what the step set off itself, so the figures add up: what the request's total has beyond its steps is Apollo, Express, the GraphQL answer and the wait";
