/**
 * The measurement behind the image-quality thresholds and ABSTAIN_MARGIN (docs/inference.md, "Image
 * quality and abstention"): every figure of src/inference/image-quality.ts on the 320 ISIC UDA-1
 * images, on blurred / darkened / brightened copies of them, and on inputs that are not dermoscopy
 * (solid colours, noise, text, a checkerboard), each decoded as the job runner decodes for the
 * classifiers (128 x 128, 'fill'); then how many of each group the default thresholds flag, and, for
 * each shipped classifier, how many images fall within a margin of the decision threshold and how
 * accurate the rest are (test split only, the others were trained on).
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/measure-quality.js
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { decodeAndResize } from '../src/inference/preprocess';
import { measureQuality, scoreQuality, type QualityFigures } from '../src/inference/image-quality';
import { qualityThresholds } from '../src/inference/abstain';
import { envSchema } from '../src/infra/config/env';
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

  // Abstention margin: share of images within each margin of the threshold, accuracy outside it (test split),
  // for each shipped classifier and for the default-classifier ensemble (their equal-weight mean).
  const labels = new Map((await readLabels(DATASET)).map((r) => [r.id, r.label]));
  const test = new Set((await readSplits()).test);
  const ids = files.map((f) => path.basename(f, '.jpg'));
  const byModel: [string, number[]][] = [];
  for (const plugin of ['plugins/dg-gap-classifier', 'plugins/dg-mlp-classifier']) {
    const runner = await PluginRunner.open(plugin);
    const p: number[] = [];
    for (let i = 0; i < files.length; i += 32) p.push(...(await runner.malignantProbability(files.slice(i, i + 32))));
    byModel.push([runner.manifest.name, p]);
    await runner.release();
  }
  byModel.push(['default-classifier (mean)', byModel[0][1].map((v, i) => (v + byModel[1][1][i]) / 2)]);
  const t = 0.5; // both manifests' decisionThreshold
  for (const [name, p] of byModel) {
    console.log(`\n${name}: P(malignant) min ${f3(Math.min(...p))} max ${f3(Math.max(...p))}`);
    for (const m of [0, 0.05, 0.1, 0.15, 0.2]) {
      const all = ids.map((id, i) => ({ id, i }));
      const kept = all.filter(({ i }) => Math.abs(p[i] - t) >= m);
      const keptTest = kept.filter(({ id }) => test.has(id));
      const inBand = all.filter(({ id, i }) => test.has(id) && Math.abs(p[i] - t) < m);
      const right = (xs: { id: string; i: number }[]) =>
        xs.filter(({ id, i }) => p[i] >= t === (labels.get(id) === 'malignant')).length;
      const acc = (xs: { id: string; i: number }[]) => (xs.length ? (right(xs) / xs.length).toFixed(3) : '-');
      const abstain = ids.length - kept.length;
      console.log(
        `  margin ${m.toFixed(2)}: abstains on ${abstain}/${ids.length} (${((abstain / ids.length) * 100).toFixed(1)}%); test split: accuracy kept ${acc(keptTest)} (${keptTest.length}), within the band ${right(inBand)}/${inBand.length}`,
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
