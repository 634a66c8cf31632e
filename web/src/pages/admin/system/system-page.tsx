// System status (admins): this process's version and uptime, the job queue's depth, every api and worker process
// seen in the last minute (ProcessesTable), PostgreSQL and Redis as it sees them (systemStatus), and the readiness checks load balancers read from /readyz (models included).
import { useEffect, useState, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { Button, ErrorMessage, PageTitle, ProgressBar, apiErrors, formatDateTime } from '../../../ui';
import { SystemStatusQuery } from '../operations';
import { ProcessesTable } from './processes-table';
import { countOf } from './units';
import './system.css';
import '../admin.css';

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return [d && `${d} d`, (d || h) && `${h} h`, `${m} min`, !d && `${s} s`].filter(Boolean).join(' ');
}

function useReadiness(tick: number): { ready?: Readiness; error?: string } {
  const [state, setState] = useState<{ ready?: Readiness; error?: string }>({});
  useEffect(() => {
    let live = true;
    fetch('/readyz', { headers: { accept: 'application/json' } })
      .then(async (r) => {
        const body = (await r.json()) as Readiness;
        if (live) setState({ ready: body });
      })
      .catch(() => live && setState({ error: 'The readiness check could not be read.' }));
    return () => {
      live = false;
    };
  }, [tick]);
  return state;
}

const stateClass = (s: string) => `admin-status admin-status-${s.toLowerCase()}`;

export function SystemPage(): ReactNode {
  const [tick, setTick] = useState(0);
  const [{ data, fetching, error }, refetch] = useQuery({ query: SystemStatusQuery });
  const readiness = useReadiness(tick);
  const s = data?.systemStatus;
  const refresh = () => {
    setTick((t) => t + 1);
    refetch({ requestPolicy: 'network-only' });
  };
  return (
    <section className="page admin">
      <PageTitle
        actions={
          <Button onClick={refresh} busy={fetching}>
            Refresh
          </Button>
        }
      >
        System status
      </PageTitle>
      <ErrorMessage errors={apiErrors(error)} />
      {fetching && !s ? <ProgressBar label="Reading the system status" /> : null}
      {s ? (
        <>
          <dl className="facts" aria-label="This server process">
            <div>
              <dt>Dermagraph</dt>
              <dd>{s.version}</dd>
            </div>
            <div>
              <dt>Node.js</dt>
              <dd>{s.nodeVersion}</dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{formatDateTime(s.startedAt)}</dd>
            </div>
            <div>
              <dt>Uptime</dt>
              <dd>{duration(s.uptimeSeconds)}</dd>
            </div>
            <div>
              <dt>Jobs waiting</dt>
              <dd>{s.queueDepth == null ? 'unknown (the queue cannot be read)' : countOf(s.queueDepth, 'job')}</dd>
            </div>
            <div>
              <dt>Workers seen in the last minute</dt>
              <dd>{countOf(s.workersSeen, 'worker')}</dd>
            </div>
          </dl>
          <h2>Processes</h2>
          <ProcessesTable processes={s.processes} thisId={s.process.id} />
          <h2>Backing services</h2>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Backing services</caption>
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                  <th scope="col" className="numeric">
                    Ping
                  </th>
                </tr>
              </thead>
              <tbody>
                {(
                  [
                    ['Database', s.database],
                    ['Redis', s.redis],
                  ] as const
                ).map(([name, d]) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td>{d.kind}</td>
                    <td>
                      <span className={stateClass(d.state)}>{d.state.toLowerCase()}</span>
                    </td>
                    <td className="numeric">{d.latencyMs == null ? '—' : `${d.latencyMs.toFixed(1)} ms`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      <h2>Readiness (/readyz)</h2>
      {readiness.error ? <ErrorMessage errors={[readiness.error]} /> : null}
      {readiness.ready ? (
        <>
          <p>
            This process is <span className="admin-strong">{readiness.ready.status}</span>.
          </p>
          <ul className="admin-readiness">
            {Object.entries(readiness.ready.checks).map(([name, state]) => (
              <li key={name}>
                {name}: <span className={stateClass(state)}>{state.toLowerCase()}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
