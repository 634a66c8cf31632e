/**
 * The measurement behind the image-quality thresholds and ABSTAIN_MARGIN (docs/inference.md, "Image
 * quality and abstention"): every figure of src/inference/image-quality.ts on the 320 ISIC UDA-1
 * images, on blurred / darkened / brightened copies of them, and on inputs that are not dermoscopy
 * (solid colours, noise, text, a checkerboard), each decoded as the job runner decodes for the
 * classifiers (128 x 128, 'fill'); then how many of each group the default thresholds flag, and, for
 * the default classifier, dg-mlp-classifier and the gap-mlp-average pair, how many predictions fall within
 * a margin of the decision threshold and how the rest do: on the cross-validation's out-of-fold predictions
 * and on the test split (not on the development images through the shipped models: they trained on them).
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/measure-quality.js
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { decodeAndResize } from '../src/inference/preprocess';
import { measureQuality, scoreQuality, type QualityFigures } from '../src/inference/image-quality';
import { qualityThresholds } from '../src/inference/abstain';
import { envSchema } from '../src/infra/config/env';
import { ensembleDecisionThreshold } from '../src/inference/ensemble';
import { cvEntry, readCvResults } from './cv-results';
import { readLabels, readSplits } from './dataset';
import { PluginRunner } from './plugin-runner';

const DATASET = 'datasets/isic-uda1';
const spec = { width: 128, height: 128, resize: 'fill' as const };
const thresholds = qualityThresholds(envSchema.parse({}));

async function figures(input: Buffer | string): Promise<QualityFigures> {
  const px = await decodeAndResize(input, spec);
  return measureQuality(px.data, px.width, px.height);
}

const solid = (r: number, g: number, b: number, w = 250, h = 250) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
const noise = (mean: number, sigma: number) =>
  sharp({
    create: { width: 250, height: 250, channels: 3, background: '#000', noise: { type: 'gaussian', mean, sigma } },
  })
    .png()
    .toBuffer();
const svg = (body: string) =>
  sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="250" height="250">${body}</svg>`))
    .png()
    .toBuffer();
const text = (bg: string, fg: string) =>
  svg(
    `<rect width="250" height="250" fill="${bg}"/><text x="10" y="80" font-size="40" fill="${fg}">Invoice</text><text x="10" y="160" font-size="40" fill="${fg}">No. 4711</text>`,
  );
function checkerboard(cell: number): Promise<Buffer> {
  const data = Buffer.alloc(256 * 256 * 3);
  for (let y = 0; y < 256; y++)
    for (let x = 0; x < 256; x++)
      data.fill(((x / cell) ^ (y / cell)) & 1 ? 255 : 0, (y * 256 + x) * 3, (y * 256 + x) * 3 + 3);
  return sharp(data, { raw: { width: 256, height: 256, channels: 3 } })
    .png()
    .toBuffer();
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
};
const f3 = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));

function summary(name: string, rows: QualityFigures[]): void {
  const flagged = rows.map((r) => scoreQuality(r, thresholds).reasons);
  const byReason = new Map<string, number>();
  for (const rs of flagged) for (const r of rs) byReason.set(r, (byReason.get(r) ?? 0) + 1);
  console.log(
    `\n${name}: ${rows.length} images, flagged ${flagged.filter((r) => r.length).length}`,
    Object.fromEntries(byReason),
  );
  for (const k of ['sharpness', 'darkFraction', 'brightFraction', 'meanBrightness', 'skinFraction'] as const) {
    const xs = rows.map((r) => r[k]);
    console.log(
      `  ${k.padEnd(15)} min ${f3(pct(xs, 0))}  p1 ${f3(pct(xs, 0.01))}  p5 ${f3(pct(xs, 0.05))}  median ${f3(pct(xs, 0.5))}  p99 ${f3(pct(xs, 0.99))}  max ${f3(pct(xs, 1))}`,
    );
  }
}

async function main(): Promise<void> {
  const dir = path.join(DATASET, 'images');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).map((f) => path.join(dir, f));
  console.log('thresholds', thresholds);
  const real = await Promise.all(files.map(figures));
  summary('ISIC UDA-1 (real dermoscopy)', real);
  for (const [i, r] of real.entries()) {
    const reasons = scoreQuality(r, thresholds).reasons;
    if (reasons.length)
      console.log(
        `   flagged: ${path.basename(files[i])} ${reasons.join(',')} sharpness ${f3(r.sharpness)} skin ${f3(r.skinFraction)}`,
      );
  }
  const some = files.filter((_, i) => i % 8 === 0);
  for (const sigma of [2, 3, 5, 8])
    summary(
      `blurred copies, sigma ${sigma}`,
      await Promise.all(some.map(async (f) => figures(await sharp(f).blur(sigma).toBuffer()))),
    );
  summary(
    'darkened copies (x0.15)',
    await Promise.all(some.map(async (f) => figures(await sharp(f).linear(0.15, 0).toBuffer()))),
  );
  summary(
    'brightened copies (x3)',
    await Promise.all(some.map(async (f) => figures(await sharp(f).linear(3, 0).toBuffer()))),
  );
  const synthetic: [string, Promise<Buffer>][] = [
    ['grey 128', solid(128, 128, 128)],
    ['black', solid(0, 0, 0)],
    ['white', solid(255, 255, 255)],
    ['blue', solid(0, 0, 255)],
    ['green', solid(0, 255, 0)],
    ['skin tone (solid)', solid(224, 172, 140)],
    ['noise mean 128 sigma 60', noise(128, 60)],
    ['noise mean 200 sigma 30', noise(200, 30)],
    ['text black on white', text('white', 'black')],
    ['text white on blue', text('#1040a0', 'white')],
    ['checkerboard 1 px', checkerboard(1)],
    ['checkerboard 8 px', checkerboard(8)],
  ];
  console.log('\nnot dermoscopy:');
  for (const [name, img] of synthetic) {
    const { quality, reasons } = scoreQuality(await figures(await img), thresholds);
    console.log(
      `  ${name.padEnd(26)} score ${quality.score.toFixed(2)} sharp ${f3(quality.sharpness)} dark ${f3(quality.darkFraction)} bright ${f3(quality.brightFraction)} skin ${f3(quality.skinFraction)} -> ${reasons.join(',') || '(none)'}`,
    );
  }
  // Cost per image of the figures alone, at the working size (what the job runner adds).
  const px = await decodeAndResize(files[0], spec);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) measureQuality(px.data, px.width, px.height);
  console.log(
    `\nmeasureQuality at 128 x 128: ${(Number(process.hrtime.bigint() - t0) / 1e6 / 2000).toFixed(3)} ms per image`,
  );
  const big = await decodeAndResize(files[0], { width: 224, height: 224, resize: 'fill' });
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < 500; i++) measureQuality(big.data, big.width, big.height);
  console.log(
    `measureQuality from 224 x 224 (resampled): ${(Number(process.hrtime.bigint() - t1) / 1e6 / 500).toFixed(3)} ms per image`,
  );

  await measureMargins(files);
}

/** An abstention band's figures on one set of predictions: how many abstain, how the rest and the band's calls do. */
function bandFigures(p: readonly number[], malignant: readonly boolean[], t: number, m: number): string {
  const idx = p.map((_, i) => i);
  const kept = idx.filter((i) => Math.abs(p[i] - t) >= m);
  const band = idx.filter((i) => Math.abs(p[i] - t) < m);
  const right = (xs: number[]) => xs.filter((i) => p[i] >= t === malignant[i]).length;
  const rate = (xs: number[], want: boolean) => {
    const of = xs.filter((i) => malignant[i] === want);
    return of.length ? of.filter((i) => p[i] >= t === want).length / of.length : NaN;
  };
  const f = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(3));
  const sens = rate(kept, true);
  const spec = rate(kept, false);
  return `abstains ${band.length}/${p.length} (${((band.length / p.length) * 100).toFixed(1)}%); kept: accuracy ${f(right(kept) / kept.length)}, sensitivity ${f(sens)}, specificity ${f(spec)}, balanced ${f((sens + spec) / 2)}; band: ${right(band)}/${band.length} right, ${band.filter((i) => malignant[i]).length} melanomas`;
}

/**
 * Abstention margin, for the default classifier (dg-gap-classifier alone), dg-mlp-classifier and the
 * gap-mlp-average pair, each at the threshold it decides at: on the cross-validation's out-of-fold
 * calibrated probabilities (256 development images x 2 repeats, each predicted by a model that did not
 * train on it: the larger sample) and on the held-out test split through the shipped models (64 images).
 * The 256 development images through the shipped models are left out: those models trained on them.
 */
async function measureMargins(files: string[]): Promise<void> {
  const cv = await readCvResults();
  const labels = new Map((await readLabels(DATASET)).map((r) => [r.id, r.label]));
  const testIds = (await readSplits()).test;
  const testFiles = testIds.map((id) => files.find((f) => path.basename(f, '.jpg') === id)!);
  const testMalignant = testIds.map((id) => labels.get(id) === 'malignant');
  const names = ['dg-gap-classifier', 'dg-mlp-classifier'];
  const oof: number[][] = [];
  const test: number[][] = [];
  const thresholds: number[] = [];
  let oofMalignant: boolean[] = [];
  for (const name of names) {
    const runner = await PluginRunner.open(path.join('plugins', name));
    thresholds.push(runner.manifest.postprocess.decisionThreshold ?? 0.5);
    const p: number[] = [];
    for (let i = 0; i < testFiles.length; i += 32)
      p.push(...(await runner.malignantProbability(testFiles.slice(i, i + 32))));
    test.push(p);
    await runner.release();
    const o = JSON.parse(await readFile(path.join('training/cv', `${name}.oof.json`), 'utf8')) as {
      labels: number[];
      z: number[][];
    };
    const { temperature, shift } = cvEntry(cv, name).calibration;
    oof.push(o.z.flat().map((z) => 1 / (1 + Math.exp(-(z / temperature + shift)))));
    oofMalignant = o.z.flatMap(() => o.labels.map((y) => y === 1));
  }
  const mean = (sets: number[][]) => sets[0].map((v, i) => (v + sets[1][i]) / 2);
  const rows: [string, number, number[], number[]][] = [
    ['default-classifier (dg-gap-classifier alone)', thresholds[0], oof[0], test[0]],
    ['dg-mlp-classifier', thresholds[1], oof[1], test[1]],
    ['gap-mlp-average (equal-weight mean)', ensembleDecisionThreshold(thresholds, [1, 1]), mean(oof), mean(test)],
  ];
  for (const [name, t, o, p] of rows) {
    console.log(`\n${name}, threshold ${t}:`);
    for (const m of [0, 0.02, 0.05, 0.1, 0.15, 0.2]) {
      console.log(`  margin ${m.toFixed(2)} out-of-fold: ${bandFigures(o, oofMalignant, t, m)}`);
      console.log(`              test:        ${bandFigures(p, testMalignant, t, m)}`);
    }
    // Where the calls stop being coin flips: out-of-fold calls by their distance from the threshold.
    const edges = [0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 1];
    for (let k = 0; k + 1 < edges.length; k++) {
      const ring = o
        .map((_, i) => i)
        .filter((i) => Math.abs(o[i] - t) >= edges[k] && Math.abs(o[i] - t) < edges[k + 1]);
      const rate = (want: boolean) => {
        const of = ring.filter((i) => oofMalignant[i] === want);
        return of.filter((i) => o[i] >= t === want).length / of.length;
      };
      console.log(
        `  out-of-fold ring [${edges[k].toFixed(2)}, ${edges[k + 1].toFixed(2)}): ${ring.length} calls, ${ring.filter((i) => o[i] >= t === oofMalignant[i]).length} right, balanced accuracy ${((rate(true) + rate(false)) / 2).toFixed(3)}`,
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
