import { z } from 'zod';
import { AppError } from '../../infra/errors';

/**
 * The model package manifest (manifest.json), shared by the registry and the shipped plugins.
 * The shape is the team's contract (/docs/models.md); docs/manifest.schema.json is generated from
 * this file by scripts/emit-manifest-schema.ts. Rules that JSON Schema cannot say (labels vs.
 * golden probabilities, files that must be listed, roles per task) are in `crossFieldRules`.
 */

export const MANIFEST_FILE = 'manifest.json';
export const MODEL_CARD_FILE = 'MODEL_CARD.md';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Device strings a manifest or an admin may ask for. */
export const DEVICE_PATTERN = /^(cpu|webgpu|cuda(:\d{1,2})?|tensorrt(:\d{1,2})?)$/;

/** A relative path inside the package: forward slashes, no `..`, no absolute or drive paths. */
const packagePath = z
  .string()
  .min(1)
  .max(255)
  .refine((p) => isSafeRelativePath(p), {
    message: 'must be a relative path inside the package (no "..", no leading "/", no "\\")',
  });

export function isSafeRelativePath(p: string): boolean {
  if (p.startsWith('/') || p.includes('\\') || /^[a-zA-Z]:/.test(p) || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

const sha256Hex = z.string().regex(/^[a-f0-9]{64}$/, 'expected a sha256 as 64 lowercase hex digits');
const rgbTriple = z.tuple([z.number(), z.number(), z.number()]);
const positiveTriple = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);
const unit = z.number().min(0).max(1);

export const deviceSchema = z
  .string()
  .regex(DEVICE_PATTERN, 'expected cpu, webgpu, cuda[:N] or tensorrt[:N]')
  .meta({ description: 'Execution device: cpu, webgpu, cuda[:N], tensorrt[:N]' });

export const inputSchema = z.strictObject({
  name: z.string().min(1).meta({ description: 'Name of the ONNX input tensor' }),
  dtype: z.literal('float32'),
  layout: z.enum(['NCHW', 'NHWC']),
  width: z.int().min(1).max(4096),
  height: z.int().min(1).max(4096),
  colorOrder: z.enum(['RGB', 'BGR']),
  scale: z.number().positive().meta({ description: 'Multiplied into each 0..255 byte before mean/std, e.g. 1/255' }),
  mean: rgbTriple,
  std: positiveTriple,
  resize: z.enum(['fill', 'cover']).default('fill'),
});

export const outputRoles = ['logits', 'probabilities', 'mask', 'gradcam_features'] as const;
export const outputSchema = z.strictObject({
  name: z.string().min(1),
  role: z.enum(outputRoles),
});

export const postprocessSchema = z.strictObject({
  activation: z.enum(['softmax', 'sigmoid', 'none']),
  decisionThreshold: unit
    .optional()
    .meta({ description: 'classification: P(malignant) at or above which the prediction is malignant (default 0.5)' }),
  maskThreshold: unit
    .optional()
    .meta({ description: 'segmentation: mask value at or above which a pixel is lesion (default 0.5)' }),
});

export const classificationGoldenSchema = z.strictObject({
  image: packagePath,
  expected: z.strictObject({ probabilities: z.array(unit).min(1) }),
  tolerance: z.number().positive().max(1).default(0.001),
});

export const segmentationGoldenSchema = z.strictObject({
  image: packagePath,
  expectedMask: packagePath.meta({ description: 'Binary PNG at the model output size (mask >= maskThreshold)' }),
  minIoU: unit,
});

export const goldenCaseSchema = z.union([classificationGoldenSchema, segmentationGoldenSchema]);

const manifestObject = z.strictObject({
  schemaVersion: z.literal(1),
  name: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{2,63}$/,
      'expected 3..64 characters of a-z, 0-9 and "-", starting with a letter or digit',
    ),
  version: z.string().regex(SEMVER, 'expected a semantic version such as 1.2.3'),
  task: z.enum(['classification', 'segmentation']),
  description: z.string().max(2000).optional(),
  modelFile: packagePath,
  files: z
    .record(packagePath, sha256Hex)
    .meta({ description: 'sha256 of every file in the package except manifest.json' }),
  input: inputSchema,
  outputs: z.array(outputSchema).min(1),
  labels: z.array(z.string().min(1)).optional().meta({ description: 'classification: one per logit, in order' }),
  malignantLabels: z.array(z.string().min(1)).optional(),
  postprocess: postprocessSchema,
  devices: z
    .array(deviceSchema)
    .min(1)
    .default(['cpu'])
    .meta({ description: 'Preferred placement chain, tried in order' }),
  batching: z
    .strictObject({ maxBatch: z.int().min(1).max(256), maxDelayMs: z.number().min(0).max(1000) })
    .default({ maxBatch: 1, maxDelayMs: 0 }),
  threads: z
    .strictObject({
      intraOp: z.int().min(0).max(64).meta({ description: '0 lets onnxruntime choose' }),
      interOp: z.int().min(0).max(64),
    })
    .default({ intraOp: 1, interOp: 1 }),
  license: z.string().min(1),
  provenance: z.looseObject({
    authors: z.string().min(1),
    trainingData: z.string().min(1),
    trainingScript: z.string().optional(),
    createdAt: z.union([z.iso.date(), z.iso.datetime({ offset: true })]),
  }),
  metrics: z.record(z.string(), z.unknown()).optional().meta({ description: 'Free-form model-card metrics' }),
  goldenCases: z
    .array(goldenCaseSchema)
    .min(1)
    .meta({ description: 'Must all pass before a version can be activated' }),
  activate: z.boolean().optional().meta({ description: 'Activate when discovered by MODEL_WATCH' }),
});

type ManifestShape = z.output<typeof manifestObject>;

/** Rules across fields, each reported at the path of the field at fault. */
function crossFieldRules(m: ManifestShape, ctx: z.core.$RefinementCtx<ManifestShape>): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  if (m.files[MANIFEST_FILE] !== undefined) issue(['files', MANIFEST_FILE], 'manifest.json cannot list itself');
  if (m.files[m.modelFile] === undefined) issue(['modelFile'], `"${m.modelFile}" is not listed in files`);

  const seen = new Set<string>();
  m.outputs.forEach((o, i) => {
    if (seen.has(o.name)) issue(['outputs', i, 'name'], `duplicate output name "${o.name}"`);
    seen.add(o.name);
    if (o.name === m.input.name) issue(['outputs', i, 'name'], 'an output cannot share the input name');
  });
  const roles = m.outputs.map((o) => o.role);
  const count = (r: string) => roles.filter((x) => x === r).length;

  if (m.task === 'classification') {
    const scoreOutputs = count('logits') + count('probabilities');
    if (scoreOutputs !== 1)
      issue(['outputs'], 'classification needs exactly one output with role logits or probabilities');
    if (count('mask') > 0) issue(['outputs'], 'classification cannot have a mask output');
    if (count('gradcam_features') > 1) issue(['outputs'], 'at most one gradcam_features output');
    if (!m.labels || m.labels.length === 0) issue(['labels'], 'classification needs labels, one per logit');
    const labels = m.labels ?? [];
    if (new Set(labels).size !== labels.length) issue(['labels'], 'labels must be unique');
    (m.malignantLabels ?? []).forEach((l, i) => {
      if (!labels.includes(l)) issue(['malignantLabels', i], `"${l}" is not one of labels`);
    });
    if (m.postprocess.maskThreshold !== undefined) issue(['postprocess', 'maskThreshold'], 'only for segmentation');
    if (count('probabilities') === 1 && m.postprocess.activation !== 'none')
      issue(['postprocess', 'activation'], 'a probabilities output takes activation "none"');
    m.goldenCases.forEach((g, i) => {
      if (!('expected' in g))
        return issue(['goldenCases', i], 'classification golden cases need expected.probabilities');
      if (labels.length > 0 && g.expected.probabilities.length !== labels.length)
        issue(
          ['goldenCases', i, 'expected', 'probabilities'],
          `expected ${labels.length} probabilities (one per label), got ${g.expected.probabilities.length}`,
        );
    });
  } else {
    if (count('mask') !== 1) issue(['outputs'], 'segmentation needs exactly one output with role mask');
    if (count('logits') + count('probabilities') + count('gradcam_features') > 0)
      issue(['outputs'], 'segmentation outputs are masks only');
    if (m.postprocess.activation === 'softmax')
      issue(['postprocess', 'activation'], 'segmentation takes "none" or "sigmoid"');
    if (m.postprocess.decisionThreshold !== undefined)
      issue(['postprocess', 'decisionThreshold'], 'only for classification');
    m.goldenCases.forEach((g, i) => {
      if (!('expectedMask' in g)) issue(['goldenCases', i], 'segmentation golden cases need expectedMask and minIoU');
    });
  }

  m.goldenCases.forEach((g, i) => {
    if (m.files[g.image] === undefined) issue(['goldenCases', i, 'image'], `"${g.image}" is not listed in files`);
    if ('expectedMask' in g && m.files[g.expectedMask] === undefined)
      issue(['goldenCases', i, 'expectedMask'], `"${g.expectedMask}" is not listed in files`);
  });
}

export const manifestSchema = manifestObject.superRefine(crossFieldRules);

/** A manifest after parsing (defaults filled in). */
export type Manifest = z.output<typeof manifestSchema>;
/** A manifest as written by an author (defaults optional). */
export type ManifestInput = z.input<typeof manifestSchema>;
export type GoldenCase = z.output<typeof goldenCaseSchema>;
export type ClassificationGolden = z.output<typeof classificationGoldenSchema>;
export type SegmentationGolden = z.output<typeof segmentationGoldenSchema>;
export type OutputRole = (typeof outputRoles)[number];

export interface ManifestIssue {
  /** Field path as people write it: `input.mean[2]`, `files["golden/a.jpg"]`, or `(root)`. */
  path: string;
  message: string;
}

/** Thrown by parseManifest (a BAD_USER_INPUT AppError); `field` is the path of the first issue. */
export class ManifestError extends AppError {
  readonly field: string;
  readonly issues: ManifestIssue[];
  constructor(issues: ManifestIssue[]) {
    const field = issues[0]?.path ?? '(root)';
    super('BAD_USER_INPUT', `invalid manifest: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      field,
      issues,
    });
    this.name = 'ManifestError';
    this.field = field;
    this.issues = issues;
  }
}

/** `['input', 'mean', 2]` -> `input.mean[2]`; keys that are not identifiers are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

/** Zod's messages start with "Invalid input: "; the path already says where. */
function cleanMessage(message: string): string {
  return message.replace(/^Invalid input: /, '');
}

export function manifestIssues(error: z.ZodError): ManifestIssue[] {
  return error.issues.map((i) => {
    // Unknown keys are reported on the parent object; name each key instead.
    if (i.code === 'unrecognized_keys') {
      return { path: i.keys.map((k) => formatPath([...i.path, k])).join(', '), message: 'unknown field' };
    }
    // A bad record key (a file name): say which key and why, not just "Invalid key in record".
    if (i.code === 'invalid_key') {
      return {
        path: formatPath(i.path),
        message: `invalid file name: ${i.issues.map((x) => cleanMessage(x.message)).join('; ')}`,
      };
    }
    return { path: formatPath(i.path), message: cleanMessage(i.message) };
  });
}

export type ManifestResult = { ok: true; manifest: Manifest } | { ok: false; issues: ManifestIssue[] };

export function safeParseManifest(json: unknown): ManifestResult {
  const r = manifestSchema.safeParse(json);
  return r.success ? { ok: true, manifest: r.data } : { ok: false, issues: manifestIssues(r.error) };
}

/** Parses and checks a manifest object; throws ManifestError naming every field at fault. */
export function parseManifest(json: unknown): Manifest {
  const r = safeParseManifest(json);
  if (!r.ok) throw new ManifestError(r.issues);
  return r.manifest;
}

/** Parses manifest.json text; a JSON syntax error is reported at `(root)`. */
export function parseManifestText(text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ManifestError([{ path: '(root)', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return parseManifest(json);
}

/** The JSON Schema (draft 2020-12) of manifest.json as an author writes it. */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestObject, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $id: 'https://dermagraph.dev/schemas/manifest.schema.json',
    title: 'Dermagraph model package manifest',
    description:
      'manifest.json of a Dermagraph model package. Generated from src/models-registry/package/manifest.ts by scripts/emit-manifest-schema.ts; ' +
      'cross-field rules (labels vs. golden probabilities, output roles per task, listed files) are checked by the server.',
    ...schema,
  };
}

/** docs/manifest.schema.json exactly as committed (2-space JSON and a final newline). */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
