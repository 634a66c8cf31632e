import {
  formatPath,
  isSafeRelativePath,
  ManifestError,
  parseManifest,
  parseManifestText,
  safeParseManifest,
} from './manifest';

const sha = (c: string) => c.repeat(64);

/** A manifest as the contract shows it, valid. */
function valid(): Record<string, any> {
  return {
    schemaVersion: 1,
    name: 'dg-gap-classifier',
    version: '1.0.0',
    task: 'classification',
    description: 'test',
    modelFile: 'model.onnx',
    files: { 'model.onnx': sha('a'), 'golden/ISIC_0000150.jpg': sha('b'), 'MODEL_CARD.md': sha('c') },
    input: {
      name: 'input',
      dtype: 'float32',
      layout: 'NCHW',
      width: 128,
      height: 128,
      colorOrder: 'RGB',
      scale: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
      resize: 'fill',
    },
    outputs: [
      { name: 'logits', role: 'logits' },
      { name: 'features', role: 'gradcam_features' },
    ],
    labels: ['benign', 'malignant'],
    malignantLabels: ['malignant'],
    postprocess: { activation: 'softmax', decisionThreshold: 0.5 },
    devices: ['cuda', 'webgpu', 'cpu'],
    batching: { maxBatch: 8, maxDelayMs: 5 },
    threads: { intraOp: 1, interOp: 1 },
    license: 'Apache-2.0',
    provenance: { authors: 'a', trainingData: 'ISIC', trainingScript: 'training/x.py', createdAt: '2026-11-21' },
    metrics: { test: { rocAuc: 0.8 } },
    goldenCases: [{ image: 'golden/ISIC_0000150.jpg', expected: { probabilities: [0.31, 0.69] }, tolerance: 0.001 }],
    activate: false,
  };
}

function issuesOf(m: unknown): Array<{ path: string; message: string }> {
  const r = safeParseManifest(m);
  if (r.ok) throw new Error('expected the manifest to be refused');
  return r.issues;
}

describe('manifest schema', () => {
  it('accepts the contract example and fills defaults', () => {
    const m = valid();
    delete m.batching;
    delete m.threads;
    delete m.devices;
    delete m.input.resize;
    const parsed = parseManifest(m);
    expect(parsed.batching).toEqual({ maxBatch: 1, maxDelayMs: 0 });
    expect(parsed.threads).toEqual({ intraOp: 1, interOp: 1 });
    expect(parsed.devices).toEqual(['cpu']);
    expect(parsed.input.resize).toBe('fill');
  });

  it('names the field path of a wrong type', () => {
    const m = valid();
    m.input.mean[2] = 'x';
    expect(issuesOf(m)).toEqual([{ path: 'input.mean[2]', message: 'expected number, received string' }]);
  });

  it('names unknown fields (typos) and missing ones', () => {
    const m = valid();
    m.labells = ['a'];
    delete m.license;
    const issues = issuesOf(m);
    expect(issues).toContainEqual({ path: 'labells', message: 'unknown field' });
    expect(issues.map((i) => i.path)).toContain('license');
  });

  it('refuses bad names, versions, devices and hashes with the field', () => {
    const m = valid();
    m.name = 'Bad_Name';
    m.version = '1.0';
    m.devices = ['gpu'];
    m.files['model.onnx'] = 'abc';
    const paths = issuesOf(m).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'version', 'devices[0]', 'files["model.onnx"]']));
  });

  it('refuses file names that leave the package', () => {
    const m = valid();
    m.files['../evil'] = sha('d');
    expect(issuesOf(m)[0].path).toBe('files["../evil"]');
    expect(issuesOf(m)[0].message).toMatch(/relative path inside the package/);
  });

  it('checks cross-field rules at the field at fault', () => {
    const m = valid();
    m.malignantLabels = ['melanoma'];
    m.goldenCases[0].expected.probabilities = [1];
    m.goldenCases[0].image = 'golden/other.jpg';
    m.modelFile = 'weights.onnx';
    const issues = issuesOf(m);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'malignantLabels[0]', message: '"melanoma" is not one of labels' },
        { path: 'goldenCases[0].expected.probabilities', message: 'expected 2 probabilities (one per label), got 1' },
        { path: 'goldenCases[0].image', message: '"golden/other.jpg" is not listed in files' },
        { path: 'modelFile', message: '"weights.onnx" is not listed in files' },
      ]),
    );
  });

  it('requires one score output for classification and a mask for segmentation', () => {
    const c = valid();
    c.outputs = [{ name: 'features', role: 'gradcam_features' }];
    expect(issuesOf(c)[0]).toEqual({
      path: 'outputs',
      message: 'classification needs exactly one output with role logits or probabilities',
    });
    const s = valid();
    s.task = 'segmentation';
    s.postprocess = { activation: 'sigmoid', maskThreshold: 0.5 };
    s.goldenCases = [{ image: 'golden/ISIC_0000150.jpg', expectedMask: 'golden/ISIC_0000150.jpg', minIoU: 0.9 }];
    expect(issuesOf(s).map((i) => i.message)).toContain('segmentation needs exactly one output with role mask');
    s.outputs = [{ name: 'mask', role: 'mask' }];
    expect(parseManifest(s).task).toBe('segmentation');
  });

  it('throws ManifestError with a stable code and the first field', () => {
    const m = valid();
    m.input.width = 0;
    try {
      parseManifest(m);
      throw new Error('not refused');
    } catch (e) {
      expect(e).toBeInstanceOf(ManifestError);
      expect((e as ManifestError).code).toBe('BAD_USER_INPUT');
      expect((e as ManifestError).field).toBe('input.width');
      expect((e as ManifestError).message).toMatch(/^invalid manifest: input\.width: /);
    }
  });

  it('reports JSON syntax errors at the root', () => {
    expect(() => parseManifestText('{ nope')).toThrow(/\(root\): not valid JSON/);
  });
});

describe('formatPath and isSafeRelativePath', () => {
  it('formats paths as people write them', () => {
    expect(formatPath(['input', 'mean', 2])).toBe('input.mean[2]');
    expect(formatPath(['files', 'golden/a.jpg'])).toBe('files["golden/a.jpg"]');
    expect(formatPath([])).toBe('(root)');
  });

  it('accepts only relative paths inside the package', () => {
    expect(isSafeRelativePath('golden/a.jpg')).toBe(true);
    for (const bad of ['../a', 'a/../../b', '/etc/passwd', 'C:/x', 'a\\b', 'a//b', './a', ''])
      expect(isSafeRelativePath(bad)).toBe(false);
  });
});
