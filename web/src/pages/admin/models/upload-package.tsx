// Installs a model package: choose the archive, optionally activate it, watch the bytes go up and then the
// server's checks; the result lists every check (passed, failed with the server's words, or not run).
import { useState, type FormEvent, type ReactNode } from 'react';
import { Button, Field, Notice, ProgressBar, formatBytes } from '../../../ui';
import { checkRows } from './package-checks';
import { uploadModelPackage, type UploadResult } from './upload-request';

type Phase = { kind: 'idle' } | { kind: 'sending'; fraction: number } | { kind: 'checking' };

export function UploadPackage({ onInstalled }: { onInstalled(): void }): ReactNode {
  const [file, setFile] = useState<File | null>(null);
  const [activate, setActivate] = useState(false);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [result, setResult] = useState<UploadResult | null>(null);
  const [fileError, setFileError] = useState<string | undefined>();
  const busy = phase.kind !== 'idle';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) {
      setFileError('Choose a package archive (.zip or .tar.gz) first.');
      return;
    }
    setFileError(undefined);
    setResult(null);
    setPhase({ kind: 'sending', fraction: 0 });
    const r = await uploadModelPackage(file, activate, (fraction) =>
      setPhase(fraction >= 1 ? { kind: 'checking' } : { kind: 'sending', fraction }),
    );
    setPhase({ kind: 'idle' });
    setResult(r);
    if (r.ok) onInstalled();
    else if (r.errors.some((x) => x.field === 'file' && !x.check)) setFileError(r.errors[0].message);
  };

  const failure = result && !result.ok ? (result.errors.find((x) => x.check) ?? result.errors[0]) : null;
  const rows = result
    ? checkRows(result.ok ? { ok: true } : { ok: false, check: failure?.check, message: failure?.message ?? '' })
    : [];

  return (
    <section className="admin-panel" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload a model package</h2>
      <form className="admin-upload" onSubmit={(e) => void submit(e)}>
        <Field
          label="Package archive"
          type="file"
          accept=".zip,.tar.gz,.tgz,.tar,application/zip,application/gzip,application/x-tar"
          hint={file ? `${file.name}, ${formatBytes(file.size)}` : 'A .zip or .tar.gz made by `dermagraph models pack`'}
          error={fileError}
          disabled={busy}
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setResult(null);
            setFileError(undefined);
          }}
        />
        <div className="admin-check">
          <input
            id="upload-activate"
            type="checkbox"
            checked={activate}
            disabled={busy}
            onChange={(e) => setActivate(e.target.checked)}
          />
          <label htmlFor="upload-activate">Activate it once installed</label>
        </div>
        <Button type="submit" variant="primary" busy={busy}>
          Upload package
        </Button>
      </form>
      {phase.kind === 'sending' ? <ProgressBar label="Uploading package" value={phase.fraction} /> : null}
      {phase.kind === 'checking' ? (
        <ProgressBar
          label="Checking package"
          detail={activate ? 'checks, golden cases, then the swap' : 'checks and golden cases'}
        />
      ) : null}
      {result ? (
        <div className="admin-result">
          {result.ok ? (
            <Notice tone="success">
              Installed {result.version.name}@{result.version.version} ({result.version.task.toLowerCase()}),{' '}
              {result.version.active ? 'now active' : 'not active'}. Every check passed.
            </Notice>
          ) : (
            <div className="error-message" role="alert">
              <p className="error-title">The package was refused{failure?.check ? ` by ${failure.check}` : ''}.</p>
              <p>{failure?.message}</p>
              {failure?.field ? <p>At: {failure.field}</p> : null}
              {failure?.issues?.length ? (
                <ul>
                  {failure.issues.map((i) => (
                    <li key={`${i.path}:${i.message}`}>
                      <code>{i.path}</code>: {i.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          )}
          {rows.some((r) => r.state !== 'unknown') ? (
            <table className="table admin-checks">
              <caption>Package checks</caption>
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  <th scope="col">What it checks</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.check} className={`admin-check-${r.state.replace(' ', '-')}`}>
                    <th scope="row">
                      <code>{r.check}</code>
                    </th>
                    <td>{r.what}</td>
                    <td>
                      <span className="admin-check-state">{r.state}</span>
                      {r.message ? <span className="admin-sub">{r.message}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
