// One model: its active version, a rollback, and every version with its state, placement and actions.
import type { ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, Table, apiErrors, formatDateTime } from '../../../ui';
import type { AdminModelVersionFragment, AdminModelsQuery } from '../../../gql/graphql';
import { RollbackModelVersionMutation } from './operations';
import { deviceName } from './device';
import { DevicePlacement, VersionActions } from './version-actions';

type Model = NonNullable<AdminModelsQuery['models']>[number];
type Version = AdminModelVersionFragment;

const ms = (v: number | null | undefined) => (v == null ? '—' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);

function Placement({ v }: { v: Version }): ReactNode {
  if (!v.device) return <span className="muted">never loaded</span>;
  const { requested, actual, fallbackReason } = v.device;
  const moved = deviceName(requested) !== deviceName(actual);
  return (
    <>
      <span>
        {moved ? `${deviceName(requested)} → ` : ''}
        <span className="admin-strong">{deviceName(actual)}</span>
      </span>
      {fallbackReason ? <span className="admin-sub">Fell back: {fallbackReason}</span> : null}
    </>
  );
}

const COLUMNS = [
  {
    header: 'Version',
    cell: (v: Version) => (
      <>
        <span className="admin-strong">{v.version}</span>
        {v.active ? <span className="admin-badge admin-badge-on">active</span> : null}
        <span className="admin-sub" title={v.sha256}>
          sha256 {v.sha256.slice(0, 12)}…
        </span>
      </>
    ),
  },
  {
    header: 'Status',
    cell: (v: Version) => (
      <>
        <span className={`admin-status admin-status-${v.status.toLowerCase()}`}>{v.status.toLowerCase()}</span>
        {!v.loaded ? <span className="admin-sub">not loaded in this process</span> : null}
        {v.error ? <span className="admin-sub admin-error-text">{v.error}</span> : null}
      </>
    ),
  },
  { header: 'Device', cell: (v: Version) => <Placement v={v} /> },
  { header: 'Load', cell: (v: Version) => ms(v.loadMs), numeric: true },
  {
    header: 'Runs',
    cell: (v: Version) => (
      <>
        {v.stats.requests} ({v.stats.errors} failed)
        {v.stats.p50Ms != null ? (
          <span className="admin-sub">
            p50 {ms(v.stats.p50Ms)}, p95 {ms(v.stats.p95Ms)}
          </span>
        ) : null}
      </>
    ),
  },
  {
    header: 'Installed',
    cell: (v: Version) => (
      <>
        {formatDateTime(v.createdAt)}
        <span className="admin-sub">{v.uploader ? `by ${v.uploader.email}` : 'found on disk'}</span>
      </>
    ),
  },
  { header: 'Actions', cell: (v: Version) => <VersionActions v={v} /> },
  {
    header: 'Placement',
    cell: (v: Version) => (v.loaded ? <DevicePlacement v={v} /> : <span className="muted">—</span>),
  },
];

export function ModelCard({ model }: { model: Model }): ReactNode {
  const [{ fetching, error }, rollback] = useMutation(RollbackModelVersionMutation);
  const message = apiErrors(error)[0]?.message;
  const headingId = `model-${model.name}`;
  return (
    <section className="admin-panel" aria-labelledby={headingId}>
      <div className="admin-model-head">
        <h3 id={headingId}>{model.name}</h3>
        <span className="admin-badge">{model.task.toLowerCase()}</span>
        <span>
          Active: <span className="admin-strong">{model.activeVersion ?? 'none'}</span>
        </span>
        <Button
          aria-label={`Roll back ${model.name}`}
          busy={fetching}
          disabled={!model.activeVersion}
          onClick={() => void rollback({ name: model.name })}
        >
          Roll back
        </Button>
        {fetching ? (
          <span className="admin-working" role="status">
            Swapping back to the previous version…
          </span>
        ) : null}
      </div>
      {message ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
      <Table
        caption={`Versions of ${model.name}, newest first`}
        hideCaption
        columns={COLUMNS}
        rows={model.versions}
        rowKey={(v) => v.id}
      />
    </section>
  );
}
