import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_LIMITS, extractArchive, packagePath, sniffArchive, type ExtractLimits } from './extract';
import { assertGoldenCases, warmUp, type GoldenResult } from './golden';
import { MANIFEST_FILE, ManifestError, parseManifest, parseManifestText, type Manifest } from './manifest';
import { checkModelIo } from '../runtime/onnx-io';
import { createSession, type Placement, type Threads } from '../runtime/sessions';
import { badInput } from '../../infra/errors';
import { packageError, RegistryError } from '../errors';
import type { ModelSession } from '../runtime/threaded-session';

/**
 * Model packages: opening a folder or archive, checking it end to end (see docs/models.md,
 * "Validation"), and packing a folder into an archive. Nothing of a refused package is left on disk.
 */

export interface OpenOptions {
  limits?: ExtractLimits;
  /** Where archives are extracted (a fresh temporary folder inside it). Default: the OS temp folder. */
  workDir?: string;
}

export interface OpenedPackage {
  /** The folder holding manifest.json. */
  root: string;
  /** Package-relative paths of every file, manifest.json included, sorted. */
  files: string[];
  source: 'directory' | 'zip' | 'tar.gz' | 'tar';
  /** The temporary folder an archive was extracted into (null for a folder package). */
  tempDir: string | null;
  /** Removes the temporary folder, if any. Safe to call twice. */
  cleanup(): Promise<void>;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Every regular file under `dir`, as sorted package-relative paths; links and special files are refused. */
export async function listPackageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const ent of await readdir(join(dir, rel), { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isSymbolicLink()) throw packageError('archive.link', `"${childRel}" is a symbolic link`, childRel);
      if (ent.isDirectory()) await walk(childRel);
      else if (ent.isFile()) out.push(childRel);
      else throw packageError('archive.link', `"${childRel}" is not a regular file`, childRel);
    }
  }
  await walk('');
  return out.sort();
}

/**
 * Finds the package root: exactly one manifest.json, either at the top or inside one top
 * folder that then holds everything.
 */
export function locateRoot(files: string[]): { prefix: string; files: string[] } {
  const manifests = files.filter((f) => basename(f) === MANIFEST_FILE);
  if (manifests.length === 0) throw packageError('package.manifest', 'no manifest.json in the package', MANIFEST_FILE);
  if (manifests.length > 1)
    throw packageError('package.manifest', `more than one manifest.json (${manifests.join(', ')})`, MANIFEST_FILE);
  const parts = manifests[0].split('/');
  if (parts.length > 2)
    throw packageError(
      'package.manifest',
      `manifest.json must be at the top or in one top folder, found ${manifests[0]}`,
      MANIFEST_FILE,
    );
  if (parts.length === 1) return { prefix: '', files };
  const prefix = `${parts[0]}/`;
  const outside = files.find((f) => !f.startsWith(prefix));
  if (outside)
    throw packageError('package.manifest', `"${outside}" is outside the package folder ${parts[0]}/`, outside);
  return { prefix: parts[0], files: files.map((f) => f.slice(prefix.length)) };
}

/** Opens a package folder, or extracts an archive safely into a fresh temporary folder. */
export async function openPackage(pathOrArchive: string, opts: OpenOptions = {}): Promise<OpenedPackage> {
  const st = await stat(pathOrArchive).catch(() => null);
  if (!st) throw new RegistryError('NOT_FOUND', `no package at ${pathOrArchive}`, { field: 'path' });
  if (st.isDirectory()) {
    const dir = resolve(pathOrArchive);
    const located = locateRoot(await listPackageFiles(dir));
    return {
      root: located.prefix ? join(dir, located.prefix) : dir,
      files: located.files,
      source: 'directory',
      tempDir: null,
      cleanup: async () => undefined,
    };
  }
  const kind = await sniffArchive(pathOrArchive);
  if (!kind)
    throw packageError(
      'archive.type',
      'not a .zip, .tar.gz or .tar archive (or a package folder)',
      undefined,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  const workDir = opts.workDir ?? tmpdir();
  await mkdir(workDir, { recursive: true });
  const tempDir = await mkdtemp(join(workDir, 'dg-package-'));
  const cleanup = () => rm(tempDir, { recursive: true, force: true });
  try {
    await extractArchive(pathOrArchive, tempDir, opts.limits ?? DEFAULT_LIMITS);
    const located = locateRoot(await listPackageFiles(tempDir));
    return {
      root: located.prefix ? join(tempDir, located.prefix) : tempDir,
      files: located.files,
      source: kind,
      tempDir,
      cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Reads and parses manifest.json, turning schema errors into a `manifest.schema` refusal naming the field. */
export async function readManifest(root: string): Promise<Manifest> {
  const text = await readFile(join(root, MANIFEST_FILE), 'utf8');
  try {
    return parseManifestText(text);
  } catch (e) {
    if (e instanceof ManifestError)
      throw packageError('manifest.schema', e.message, e.field, 'BAD_USER_INPUT', { issues: e.issues });
    throw e;
  }
}

/**
 * Every file but manifest.json must be listed in `files` with its sha256, and every listed
 * file must be there: a package carries nothing unaccounted for.
 */
export async function checkPackageFiles(root: string, files: string[], m: Manifest): Promise<void> {
  const present = new Set(files.filter((f) => f !== MANIFEST_FILE));
  for (const listed of Object.keys(m.files)) {
    if (!present.has(listed))
      throw packageError(
        'files.missing',
        `"${listed}" is listed in files but not in the package`,
        `files[${JSON.stringify(listed)}]`,
      );
  }
  for (const f of present) {
    if (m.files[f] === undefined)
      throw packageError(
        'files.unlisted',
        `"${f}" is in the package but not listed in files (run "dermagraph models pack")`,
        f,
      );
  }
  for (const [f, want] of Object.entries(m.files)) {
    const got = await sha256File(packagePath(root, f));
    if (got !== want)
      throw packageError(
        'files.sha256',
        `sha256 of "${f}" is ${got}, the manifest says ${want}`,
        `files[${JSON.stringify(f)}]`,
      );
  }
}

export interface PrepareOptions extends OpenOptions {
  /** Device or preference list; default: the manifest's `devices`. */
  device?: string | readonly string[];
  threads?: Threads;
  /** Refuses a name@version that already exists (check `version.exists`, code CONFLICT); told the manifest too. */
  exists?: (name: string, version: string, manifest: Manifest) => boolean | Promise<boolean>;
  /** Told the manifest as soon as it parses (so a later refusal can be reported with the model's name). */
  onManifest?: (manifest: Manifest) => void;
}

/** A package that passed every check, with its session still open and its files still on disk. */
export interface PreparedPackage {
  opened: OpenedPackage;
  manifest: Manifest;
  modelPath: string;
  modelSha256: string;
  session: ModelSession;
  placement: Placement;
  golden: GoldenResult[];
  /** Releases the session and removes any temporary folder. */
  discard(): Promise<void>;
}

/** Loads a checked package's model on a device, checks its inputs/outputs, warms it up and runs its golden cases. */
export async function loadChecked(
  root: string,
  m: Manifest,
  device: string | readonly string[] = m.devices,
  threads: Threads = m.threads,
): Promise<{ session: ModelSession; placement: Placement; golden: GoldenResult[] }> {
  const modelPath = packagePath(root, m.modelFile);
  const { session, placement } = await createSession(modelPath, device, threads, {
    probe: async (s) => {
      checkModelIo(s, m);
      await warmUp(s, m);
    },
  });
  try {
    const golden = await assertGoldenCases(session, m, root, placement.actual);
    return { session, placement, golden };
  } catch (e) {
    await session.release().catch(() => undefined);
    throw e;
  }
}

/** A package whose files passed every check that needs no model session; nothing loaded. */
export type InspectedPackage = Omit<PreparedPackage, 'session' | 'placement' | 'golden'>;

/** The checks that need no session (archive, manifest, version.exists, sha256s): a catalogue-only process's (API_LOAD_MODELS). */
export async function inspectPackage(pathOrArchive: string, opts: PrepareOptions = {}): Promise<InspectedPackage> {
  const opened = await openPackage(pathOrArchive, opts);
  try {
    const manifest = await readManifest(opened.root);
    opts.onManifest?.(manifest);
    if (opts.exists && (await opts.exists(manifest.name, manifest.version, manifest))) {
      throw packageError(
        'version.exists',
        `${manifest.name}@${manifest.version} already exists`,
        'version',
        'CONFLICT',
      );
    }
    await checkPackageFiles(opened.root, opened.files, manifest);
    return {
      opened,
      manifest,
      modelPath: packagePath(opened.root, manifest.modelFile),
      modelSha256: manifest.files[manifest.modelFile],
      discard: () => opened.cleanup(),
    };
  } catch (e) {
    await opened.cleanup();
    throw e;
  }
}

/** Runs every check on a package and keeps it open for the caller (the registry) to adopt or discard. */
export async function preparePackage(pathOrArchive: string, opts: PrepareOptions = {}): Promise<PreparedPackage> {
  const inspected = await inspectPackage(pathOrArchive, opts);
  const { opened, manifest } = inspected;
  try {
    const loaded = await loadChecked(
      opened.root,
      manifest,
      opts.device ?? manifest.devices,
      opts.threads ?? manifest.threads,
    );
    return {
      ...inspected,
      ...loaded,
      discard: async () => {
        await loaded.session.release().catch(() => undefined);
        await opened.cleanup();
      },
    };
  } catch (e) {
    await opened.cleanup();
    throw e;
  }
}

export interface ValidationReport {
  name: string;
  version: string;
  task: Manifest['task'];
  source: OpenedPackage['source'];
  files: number;
  modelSha256: string;
  placement: Placement;
  golden: GoldenResult[];
}

/** `dermagraph models validate`: every check, then nothing kept. Throws a RegistryError naming the check. */
export async function validatePackage(pathOrArchive: string, opts: PrepareOptions = {}): Promise<ValidationReport> {
  const p = await preparePackage(pathOrArchive, opts);
  try {
    const m = p.manifest;
    return {
      name: m.name,
      version: m.version,
      task: m.task,
      source: p.opened.source,
      files: p.opened.files.length,
      modelSha256: p.modelSha256,
      placement: p.placement,
      golden: p.golden,
    };
  } finally {
    await p.discard();
  }
}

/** Moves a package folder to `dest` (rename, or copy across file systems). */
export async function movePackage(root: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  try {
    await rename(root, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await cp(root, dest, { recursive: true, errorOnExist: true, force: false });
    await rm(root, { recursive: true, force: true });
  }
}

export interface PackResult {
  outFile: string;
  manifest: Manifest;
  files: string[];
  bytes: number;
}

/**
 * Fills in the sha256 of every file in a package folder, rewriting its manifest.json, and
 * checks the manifest. Returns the parsed manifest and the package's files.
 */
export async function sealPackage(dir: string): Promise<{ manifest: Manifest; files: string[] }> {
  const root = resolve(dir);
  const all = await listPackageFiles(root);
  if (!all.includes(MANIFEST_FILE)) throw packageError('package.manifest', `no manifest.json in ${dir}`, MANIFEST_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(root, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw packageError('manifest.schema', `manifest.json is not valid JSON: ${(e as Error).message}`, '(root)');
  }
  const files: Record<string, string> = {};
  for (const f of all) if (f !== MANIFEST_FILE) files[f] = await sha256File(packagePath(root, f));
  raw.files = files;
  let manifest: Manifest;
  try {
    manifest = parseManifest(raw);
  } catch (e) {
    if (e instanceof ManifestError)
      throw packageError('manifest.schema', e.message, e.field, 'BAD_USER_INPUT', { issues: e.issues });
    throw e;
  }
  await writeFile(join(root, MANIFEST_FILE), `${JSON.stringify(raw, null, 2)}\n`);
  return { manifest, files: all };
}

/** A .tar.gz of `files` under `root`; tar is loaded with the first such package, not with the server. */
async function tarFolder(root: string, files: string[], out: string): Promise<void> {
  const tar = await import('tar');
  await tar.create({ gzip: true, file: out, cwd: root, portable: true, noDirRecurse: true }, files);
}

/** Writes `files` (package-relative) of `root` into a .zip at `out`, streamed by archiver one file at a time. */
async function zipFolder(root: string, files: readonly string[], out: string): Promise<void> {
  const { ZipArchive } = await import('archiver'); // loaded when a package is packed, not with the server
  const archive = new ZipArchive({ zlib: { level: 9 } });
  const written = pipeline(archive, createWriteStream(out));
  // archiver opens each file lazily when it reaches it; entries are written in this order.
  for (const f of files) archive.file(packagePath(root, f), { name: f, mode: 0o644 });
  try {
    await Promise.all([archive.finalize(), written]);
  } catch (e) {
    archive.abort();
    await written.catch(() => undefined);
    throw e;
  }
}

/**
 * `dermagraph models pack`: seals the folder (sha256 of every file into its manifest.json)
 * and writes `outFile` (.zip, .tar.gz or .tgz) holding the folder's contents at the archive root.
 */
export async function packPackage(dir: string, outFile: string): Promise<PackResult> {
  const out = resolve(outFile);
  const lower = out.toLowerCase();
  const kind = lower.endsWith('.zip') ? 'zip' : lower.endsWith('.tar.gz') || lower.endsWith('.tgz') ? 'tar.gz' : null;
  if (!kind) throw badInput('outFile', `cannot pack to "${extname(out) || out}": use .zip, .tar.gz or .tgz`);
  const root = resolve(dir);
  const { manifest, files } = await sealPackage(root);
  await mkdir(dirname(out), { recursive: true });
  // Both writers stream file by file from disk, so memory stays flat however large the weights are.
  if (kind === 'zip') await zipFolder(root, files, out);
  else await tarFolder(root, files, out);
  return { outFile: out, manifest, files, bytes: (await stat(out)).size };
}

/** Whether `path` exists and has been checked to be a package folder (manifest.json at its top). */
export async function isPackageFolder(path: string): Promise<boolean> {
  const st = await lstat(join(path, MANIFEST_FILE)).catch(() => null);
  return !!st?.isFile();
}
