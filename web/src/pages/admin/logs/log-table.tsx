// The log lines as a table, newest first: time, level, the process that wrote it, the request it belongs to (a
// button that narrows the page to that request) and the message, with the whole JSON line on demand.
import { useState, type ReactNode } from 'react';
import { Table, type Column } from '../../../ui';
import { lineKey, processName } from './log-buffer';
import type { LogLine } from './use-log-tail';

/** hh:mm:ss.mmm in the browser's time zone; the full instant is the <time>'s dateTime and title. */
function clock(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json; // cut at 8192 characters by the server: no longer valid JSON
  }
}

/** The JSON line, drawn only once opened (a thousand closed ones cost nothing). */
function JsonDetails({ json }: { json: string }): ReactNode {
  const [open, setOpen] = useState(false);
  return (
    <details className="log-json" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>JSON</summary>
      {/* Focusable: it scrolls, and keyboard users must be able to scroll it. */}
      {open ? <pre tabIndex={0}>{pretty(json)}</pre> : null}
    </details>
  );
}

export function LogTable({
  lines,
  caption,
  onRequest,
}: {
  /** Newest first. */
  lines: readonly LogLine[];
  caption: ReactNode;
  /** Narrows the page to one request's lines. */
  onRequest(requestId: string): void;
}): ReactNode {
  const columns: Column<LogLine>[] = [
    {
      header: 'Time',
      cell: (l) => (
        <time dateTime={l.time} title={l.time} className="log-time">
          {clock(l.time)}
        </time>
      ),
    },
    { header: 'Level', cell: (l) => <span className={`log-level log-level-${l.level.toLowerCase()}`}>{l.level}</span> },
    { header: 'Process', cell: (l) => <span className="log-process">{processName(l.source)}</span> },
    {
      header: 'Request',
      cell: (l) =>
        l.requestId ? (
          <button
            type="button"
            className="log-request"
            title={l.requestId}
            aria-label={`Show only request ${l.requestId}`}
            onClick={() => onRequest(l.requestId!)}
          >
            {l.requestId.slice(0, 8)}
          </button>
        ) : (
          <span className="muted">none</span>
        ),
    },
    {
      header: 'Message',
      cell: (l) => (
        <>
          <span className="log-message">{l.message ?? ''}</span>
          <JsonDetails json={l.json} />
        </>
      ),
    },
  ];
  return <Table caption={caption} columns={columns} rows={lines} rowKey={lineKey} empty="No line matches." />;
}
