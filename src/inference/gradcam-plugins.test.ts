/**
 * Grad-CAM of the shipped classifiers against the PyTorch-autograd references the training
 * script writes to test/fixtures/gradcam/<plugin>/<image>.json: the model runs in
 * onnxruntime-node on the stored input tensor, the head is differentiated here, and the map must
 * correlate >= 0.99 with autograd's and peak at the same place.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { correlation, decodeF32, maxRelativeError } from './__fixtures__/load';
import { camToImage } from './cam-map';
import { gradCam, loadGradCamHead } from './gradcam';
import { argmax } from './softmax';

const ROOT = path.join(__dirname, '../..');
const REFS = path.join(ROOT, 'test/fixtures/gradcam');

interface PluginReference {
  imageId: string;
  inputShape: number[];
  input: string;
  logits: number[];
  targetClass: number;
  featureShape: [number, number, number];
  alpha: number[];
  cam: number[];
  camNormalized: number[];
}

/** Output names from the plugin's manifest when it has one, else the names the training script exports. */
function outputNames(plugin: string): { features: string; logits: string } {
  const file = path.join(ROOT, 'plugins', plugin, 'manifest.json');
  if (!fs.existsSync(file)) return { features: 'features', logits: 'logits' };
  const outputs = (JSON.parse(fs.readFileSync(file, 'utf8')) as { outputs: { name: string; role: string }[] }).outputs;
  const byRole = (role: string) => outputs.find((o) => o.role === role)?.name ?? role;
  return { features: byRole('gradcam_features'), logits: byRole('logits') };
}

const cases = fs.existsSync(REFS)
  ? fs.readdirSync(REFS).flatMap((plugin) =>
      fs.existsSync(path.join(ROOT, 'plugins', plugin, 'model.onnx'))
        ? fs
            .readdirSync(path.join(REFS, plugin))
            .filter((f) => f.endsWith('.json'))
            .map((f) => [plugin, f] as const)
        : [],
    )
  : [];

if (cases.length === 0) {
  it.skip('no Grad-CAM references under test/fixtures/gradcam yet', () => undefined);
} else {
  describe.each(cases)('Grad-CAM of plugin %s on %s vs PyTorch autograd', (plugin, file) => {
    const ref = JSON.parse(fs.readFileSync(path.join(REFS, plugin, file), 'utf8')) as PluginReference;
    const names = outputNames(plugin);
    const modelFile = path.join(ROOT, 'plugins', plugin, 'model.onnx');

    it('correlates >= 0.99 and peaks at the same place', async () => {
      const plan = loadGradCamHead(fs.readFileSync(modelFile), names.features, names.logits);
      if (!plan.differentiable) throw new Error(`head not differentiable: ${plan.reason}`);
      const session = await ort.InferenceSession.create(modelFile);
      try {
        const out = await session.run({ input: new ort.Tensor('float32', decodeF32(ref.input), ref.inputShape) });
        const [channels, height, width] = ref.featureShape;
        const r = gradCam(plan.head, { data: out[names.features].data as Float32Array, channels, height, width });
        expect(r.targetClass).toBe(ref.targetClass);
        expect(maxRelativeError(r.logits, ref.logits)).toBeLessThan(1e-4);
        expect(maxRelativeError(r.weights, ref.alpha)).toBeLessThan(1e-4);
        const lowRes = correlation(r.cam, ref.cam);
        const [h, w] = ref.inputShape.slice(2);
        const mine = camToImage(r.cam, width, height, w, h);
        const theirs = camToImage(ref.camNormalized, width, height, w, h);
        const full = correlation(mine, theirs);
        expect(lowRes).toBeGreaterThanOrEqual(0.99);
        expect(full).toBeGreaterThanOrEqual(0.99);
        expect(argmax(r.cam)).toBe(argmax(ref.cam));
        expect(argmax(mine)).toBe(argmax(theirs));
        console.log(
          `${plugin}/${file}: corr ${lowRes.toFixed(10)} (feature res), ${full.toFixed(10)} (${w}x${h}); max rel err alpha ${maxRelativeError(r.weights, ref.alpha).toExponential(2)}, cam ${maxRelativeError(r.cam, ref.cam).toExponential(2)}`,
        );
      } finally {
        await session.release();
      }
    });
  });
}
