import { basename, join, resolve } from 'node:path';
import { AppError } from '../infra/errors';
import { packPackage, validatePackage } from '../models-registry';

/**
 * `dermagraph models validate|pack`: the registry's own checks from the command line, for package
 * authors. Each returns the report to print and the exit status (0 ok, 1 refused).
 */
export interface CommandResult {
  ok: boolean;
  text: string;
}

/** Runs every package check (archive safety, manifest, sha256, ONNX load and I/O, golden cases on cpu); keeps nothing. */
export async function validateCommand(pathOrArchive: string, opts: { device?: string } = {}): Promise<CommandResult> {
  try {
    const r = await validatePackage(resolve(pathOrArchive), { device: opts.device });
    const lines = [
      `ok  ${r.name}@${r.version} (${r.task}) from ${r.source}, ${r.files} files`,
      `    model sha256 ${r.modelSha256}`,
      `    device: requested ${r.placement.requested}, ran on ${r.placement.actual}${r.placement.fallbackReason ? ` (fell back: ${r.placement.fallbackReason})` : ''}`,
      ...r.golden.map(
        (g) => `    golden case ${g.index} (${g.image}): ${g.ok ? 'pass' : 'FAIL'}${g.detail ? ` - ${g.detail}` : ''}`,
      ),
    ];
    return { ok: true, text: `${lines.join('\n')}\n` };
  } catch (err) {
    return { ok: false, text: refusal(err) };
  }
}

/** Fills in the sha256 of every file, checks the manifest, writes the archive (default: `<folder name>.zip` in the current directory). */
export async function packCommand(dir: string, opts: { out?: string } = {}): Promise<CommandResult> {
  try {
    const out = opts.out ?? join(process.cwd(), `${basename(resolve(dir))}.zip`);
    const r = await packPackage(dir, out);
    const text = [
      `packed ${r.manifest.name}@${r.manifest.version}: ${r.files.length} files, ${r.bytes} bytes -> ${r.outFile}`,
      ...r.files.map((f) => `    ${r.manifest.files[f] ?? '(manifest)'}  ${f}`),
    ].join('\n');
    return {
      ok: true,
      text: `${text}\nrun \`dermagraph models validate ${r.outFile}\` to check it loads and passes its golden cases\n`,
    };
  } catch (err) {
    return { ok: false, text: refusal(err) };
  }
}

function refusal(err: unknown): string {
  // RegistryError and ManifestError: both AppErrors naming the check and the field in their extensions.
  if (err instanceof AppError) {
    const { check, field } = err.extensions as { check?: string; field?: string };
    const where = [err.code, check && `check ${check}`, field && `field ${field}`].filter(Boolean).join(', ');
    const issues = ((err.extensions.issues as Array<{ path: string; message: string }> | undefined) ?? []).map(
      (i) => `    ${i.path || '(root)'}: ${i.message}`,
    );
    return [`refused (${where})`, `    ${err.message}`, ...issues].join('\n') + '\n';
  }
  return `error: ${(err as Error).message ?? err}\n`;
}
