/**
 * Loaded into the server under test with `node --require` (bench/peer/cpu-steps.ts says what and why): wraps
 * the steps' functions and the HTTP server's requests, starts over on SIGUSR2, and on exit writes the totals,
 * as JSON, to BENCH_CPU_STEPS_OUT. Never loaded by the product.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CPU_STEPS, HTTP_STEP, stepTarget, type StepTotal } from './cpu-steps';

const out = process.env.BENCH_CPU_STEPS_OUT;
if (!out) throw new Error('cpu-steps-preload: set BENCH_CPU_STEPS_OUT');
const totals: Record<string, StepTotal> = {};

/** Starts a measurement; the function it returns adds it to `step`. */
function measure(step: string): () => void {
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return () => {
    const used = process.cpuUsage(cpu);
    const t = (totals[step] ??= { calls: 0, cpuMs: 0, wallMs: 0 });
    t.calls++;
    t.cpuMs += (used.user + used.system) / 1000;
    t.wallMs += Number(process.hrtime.bigint() - t0) / 1e6;
  };
}

// dist/bench/peer → dist/src
const srcRoot = path.join(__dirname, '..', '..', 'src');
for (const s of CPU_STEPS) {
  const { holder, key } = stepTarget(srcRoot, s);
  const fn = holder[key] as (...args: unknown[]) => unknown;
  holder[key] = function (this: unknown, ...args: unknown[]) {
    const done = measure(s.step);
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (err) {
      done();
      throw err;
    }
    if (result instanceof Promise) return result.finally(done);
    done();
    return result;
  };
}

const emit = http.Server.prototype.emit as (this: http.Server, event: string, ...args: unknown[]) => boolean;
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
  if (event === 'request') (args[1] as http.ServerResponse).once('finish', measure(HTTP_STEP));
  return emit.call(this, event, ...args);
};

// SIGUSR2: start over (after the bench's sign-up, log-in and warm-up requests).
process.on('SIGUSR2', () => {
  for (const step of Object.keys(totals)) delete totals[step];
});
process.once('exit', () => fs.writeFileSync(out, JSON.stringify(totals)));
