/**
 * The checks a model package goes through, in the order the server runs them (docs/models.md,
 * "Validation: the checks, in order"). The server stops at the first refusal and names it in
 * `extensions.check`, so the checks before it passed and the ones after it did not run, except
 * that the archive.* checks are applied entry by entry while the archive streams: when one of
 * them refuses, the others were not completed either.
 */
export const PACKAGE_CHECKS: ReadonlyArray<{ check: string; what: string }> = [
  { check: 'archive.type', what: 'A zip, gzip-tar or tar archive (by its bytes)' },
  { check: 'archive.path', what: 'No absolute or ../ paths' },
  { check: 'archive.link', what: 'No links, devices or FIFOs' },
  { check: 'archive.size', what: 'Files and total within the size limits' },
  { check: 'archive.count', what: 'Not too many entries' },
  { check: 'archive.corrupt', what: 'Readable, not encrypted' },
  { check: 'package.manifest', what: 'One manifest.json at the top' },
  { check: 'manifest.schema', what: 'The manifest follows the schema' },
  { check: 'version.exists', what: 'The name@version is new' },
  { check: 'files.missing', what: 'Every listed file is present' },
  { check: 'files.unlisted', what: 'Every file is listed' },
  { check: 'files.sha256', what: 'Every file matches its sha256' },
  { check: 'onnx.load', what: 'onnxruntime loads the model' },
  { check: 'onnx.io', what: 'Inputs and outputs match the manifest' },
  { check: 'golden', what: 'Golden cases pass on the placed device' },
];

const isArchive = (check: string) => check.startsWith('archive.');

export type CheckState = 'passed' | 'failed' | 'not completed' | 'not run' | 'unknown';

export interface CheckRow {
  check: string;
  what: string;
  state: CheckState;
  /** The server's message for the failed check. */
  message?: string;
}

/**
 * Rows for the result of an upload: every check passed on success; on a refusal naming a known
 * check, those before it passed, it failed, those after did not run. A refusal naming no check
 * (e.g. the upload layer's size limit, or a permission error) leaves every row unknown.
 */
export function checkRows(result: { ok: true } | { ok: false; check?: string; message: string }): CheckRow[] {
  if (result.ok) return PACKAGE_CHECKS.map((c) => ({ ...c, state: 'passed' }));
  const at = PACKAGE_CHECKS.findIndex((c) => c.check === result.check);
  return PACKAGE_CHECKS.map((c, i) => {
    if (at < 0) return { ...c, state: 'unknown' };
    if (i === at) return { ...c, state: 'failed', message: result.message };
    if (isArchive(c.check) && isArchive(PACKAGE_CHECKS[at].check)) return { ...c, state: 'not completed' };
    if (i < at) return { ...c, state: 'passed' };
    return { ...c, state: 'not run' };
  });
}
