import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { MAX_IMAGES_PER_JOB } from '../../src/modules/jobs/api/jobs.service';

/** The inference bench's knobs, from BENCH_* environment variables (README, "Inference"). */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 9);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const MODEL = 'dg-gap-classifier';
/** BENCH_HEAVY=0 leaves out the realistic-size models. */
export const HEAVY_MODELS = process.env.BENCH_HEAVY !== '0';
/** Profiling aid: BENCH_E2E_ONLY=1 measures only the e2e/bare rows (at BENCH_CONCURRENCY, default 1,8) and prints them. */
export const E2E_ONLY = process.env.BENCH_E2E_ONLY === '1';
export const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
/** Profiling aid: BENCH_ROWS=a,b measures only the e2e rows whose name contains one of them (and skips the stage breakdown pass). */
export const ONLY_ROWS = process.env.BENCH_ROWS?.split(',');
/** Profiling aid: BENCH_PROFILE=dir writes the main thread's CPU profile of each e2e row's windows there. */
export const PROFILE_DIR = process.env.BENCH_PROFILE;
/** Images per classifyImages call in the batch rows; FULL is the most one call takes. */
export const BATCH = Number(process.env.BENCH_BATCH ?? 32);
export const FULL = MAX_IMAGES_PER_JOB;
const NAMES = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154', 'ISIC_0000184'];
export const IMAGES = NAMES.map((n) => path.join(projectRoot, 'datasets/isic-uda1/images', `${n}.jpg`));
