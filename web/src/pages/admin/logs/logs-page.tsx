// Server logs (admins): the recent lines of every api and worker process (serverLogs), then their live tail
// (serverLogStream), newest first. The level is asked of the server; the text, request and process filters narrow
// what the page holds (the newest MAX_LINES lines). Pausing freezes the table while the tail keeps collecting.
import { useMemo, useState, type ReactNode } from 'react';
import { Button, ErrorMessage, Field, Notice, PageTitle, ProgressBar, SelectField, apiErrors } from '../../../ui';
import type { LogLevel } from '../../../gql/graphql';
import { LEVELS, lineKey, matchesFilter, processName, processesOf, type LogFilter } from './log-buffer';
import { LogTable } from './log-table';
import { MAX_LINES, useLogTail, type LogLine, type SourceAnswer } from './use-log-tail';
import '../admin.css';
import './logs.css';

const NO_FILTER: LogFilter = { search: '', requestId: '', processId: '' };

const lineCount = (n: number) => `${n} ${n === 1 ? 'line' : 'lines'}`;

function Sources({ sources }: { sources: SourceAnswer[] }): ReactNode {
  const missing = sources.filter((s) => !s.answered);
  return (
    <p className="muted">
      From {sources.length} {sources.length === 1 ? 'process' : 'processes'}:{' '}
      {sources.map((s) => processName(s.source)).join(', ')}.
      {missing.length > 0 ? (
        <span className="admin-error-text">
          {' '}
          Did not answer in time (their older lines are missing): {missing.map((s) => processName(s.source)).join(', ')}
          .
        </span>
      ) : null}
    </p>
  );
}

export function LogsPage(): ReactNode {
  const [level, setLevel] = useState<LogLevel>('INFO');
  const [restart, setRestart] = useState(0);
  const [filter, setFilter] = useState<LogFilter>(NO_FILTER);
  // The lines on show while paused; null while following.
  const [frozen, setFrozen] = useState<LogLine[] | null>(null);
  const tail = useLogTail(level, restart);

  const held = useMemo(() => {
    if (!frozen) return 0;
    const shown = new Set(frozen.map(lineKey));
    return tail.lines.filter((l) => !shown.has(lineKey(l))).length;
  }, [frozen, tail.lines]);
  const rows = useMemo(
    () => (frozen ?? tail.lines).filter((l) => matchesFilter(l, filter)).reverse(),
    [frozen, tail.lines, filter],
  );
  const processes = useMemo(() => processesOf(tail.lines), [tail.lines]);
  const limitError = apiErrors(tail.pageError);
  const filtered = filter.search.trim() || filter.requestId.trim() || filter.processId;

  return (
    <section className="page admin">
      <PageTitle
        actions={
          frozen ? (
            <Button variant="primary" onClick={() => setFrozen(null)}>
              Resume
            </Button>
          ) : (
            <Button onClick={() => setFrozen(tail.lines)}>Pause</Button>
          )
        }
      >
        Server logs
      </PageTitle>
      <div className="log-state" role="status">
        {frozen
          ? `Paused: ${held} new ${held === 1 ? 'line' : 'lines'} arrived since. Resume to see them.`
          : 'Following: new lines appear at the top as the servers write them.'}
      </div>
      <form className="admin-filters" role="search" aria-label="Filter log lines" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label="Level and above"
          value={level}
          onChange={(e) => {
            setFrozen(null);
            setLevel(e.target.value as LogLevel);
          }}
        >
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {l.toLowerCase()}
            </option>
          ))}
        </SelectField>
        <Field
          label="Search messages"
          type="search"
          value={filter.search}
          onChange={(e) => setFilter({ ...filter, search: e.target.value })}
        />
        <Field
          label="Request ID"
          value={filter.requestId}
          spellCheck={false}
          hint="Or choose one in the table"
          onChange={(e) => setFilter({ ...filter, requestId: e.target.value })}
        />
        <SelectField
          label="Process"
          value={filter.processId}
          onChange={(e) => setFilter({ ...filter, processId: e.target.value })}
        >
          <option value="">All processes</option>
          {processes.map((p) => (
            <option key={p.id} value={p.id}>
              {processName(p)}
            </option>
          ))}
        </SelectField>
        <Button disabled={!filtered} onClick={() => setFilter(NO_FILTER)}>
          Clear filters
        </Button>
      </form>
      {tail.sources ? <Sources sources={tail.sources} /> : null}
      <ErrorMessage errors={limitError} />
      {tail.tailError ? (
        <Notice>
          The live tail stopped ({apiErrors(tail.tailError)[0]?.message ?? 'closed'}).{' '}
          <Button onClick={() => setRestart((n) => n + 1)}>Reconnect</Button>
        </Notice>
      ) : null}
      {!tail.loaded ? <ProgressBar label="Loading log lines" /> : null}
      <LogTable
        lines={rows}
        caption={`${rows.length} of ${lineCount((frozen ?? tail.lines).length)} held (the newest ${MAX_LINES} are kept), newest first`}
        onRequest={(requestId) => setFilter({ ...filter, requestId })}
      />
    </section>
  );
}
