// Every api and worker process seen in the last minute (systemStatus.processes): who it is, when it last beat,
// its memory and event-loop delay, and the model versions it holds on which device.
import type { ReactNode } from 'react';
import { Table, formatBytes, formatDateTime, type Column } from '../../../ui';
import type { AdminSystemStatusQuery } from '../../../gql/graphql';
import { formatMs } from './units';

type Process = AdminSystemStatusQuery['systemStatus'] extends infer S
  ? S extends { processes: readonly (infer P)[] }
    ? P
    : never
  : never;

function ModelList({ models }: { models: Process['models'] }): ReactNode {
  if (models.length === 0) return 'none loaded';
  return (
    <ul className="admin-process-models">
      {models.map((m) => (
        <li key={`${m.name}@${m.version}`}>
          {m.name} {m.version} on <span className="admin-strong">{m.device}</span>
          {m.active ? '' : ` (${m.status.toLowerCase()})`}
        </li>
      ))}
    </ul>
  );
}

const columns = (thisId: string): Column<Process>[] => [
  { header: 'Role', cell: (p) => (p.id === thisId ? `${p.role} (this one)` : p.role) },
  { header: 'Host:PID', cell: (p) => `${p.host}:${p.pid}` },
  { header: 'Started', cell: (p) => formatDateTime(p.startedAt) },
  { header: 'Last heartbeat', cell: (p) => formatDateTime(p.seenAt) },
  { header: 'Resident memory', numeric: true, cell: (p) => formatBytes(p.memory.rssBytes) },
  {
    header: 'Heap used of total',
    numeric: true,
    cell: (p) => `${formatBytes(p.memory.heapUsedBytes)} of ${formatBytes(p.memory.heapTotalBytes)}`,
  },
  {
    header: 'Event-loop delay p50 / p99',
    numeric: true,
    cell: (p) => `${formatMs(p.eventLoopDelay.p50Ms)} / ${formatMs(p.eventLoopDelay.p99Ms)}`,
  },
  { header: 'Models loaded (device)', cell: (p) => <ModelList models={p.models} /> },
];

export function ProcessesTable({ processes, thisId }: { processes: readonly Process[]; thisId: string }): ReactNode {
  return (
    <Table
      caption="Processes seen in the last minute"
      hideCaption
      columns={columns(thisId)}
      rows={processes}
      rowKey={(p) => p.id}
      empty="No process has sent a heartbeat in the last minute."
    />
  );
}
