// The lines of the logs page at one level: the newest page of serverLogs, then every line serverLogStream sends,
// merged (log-buffer.ts) and bounded. The tail is opened before the page is asked for, and the page is read once more
// a moment later from its newest line, so no line falls between the two; lines sent twice count once. Lines are
// handed to React a few times a second, not one render per line.
import { useEffect, useState } from 'react';
import { useClient, type CombinedError } from 'urql';
import type { AdminServerLogLineFragment, AdminServerLogsQuery, LogLevel } from '../../../gql/graphql';
import { mergeLines } from './log-buffer';
import { ServerLogStreamSubscription, ServerLogsQuery } from './operations';

export type LogLine = AdminServerLogLineFragment;
export type SourceAnswer = NonNullable<AdminServerLogsQuery['serverLogs']>['sources'][number];

/** Lines kept in memory; older ones are dropped as new ones arrive. */
export const MAX_LINES = 1000;
/** The first page: serverLogs' largest. */
const FIRST_PAGE = 500;
const FLUSH_MS = 250;
/** When the page is read again, for lines written before the tail's socket was subscribed. */
const SECOND_LOOK_MS = 2000;

export interface LogTail {
  lines: LogLine[];
  /** The processes serverLogs asked (null until it answers). */
  sources: SourceAnswer[] | null;
  /** serverLogs' refusal, if any. */
  pageError: CombinedError | null;
  /** The tail's error (the socket closed, the server ended a tail that fell behind). */
  tailError: CombinedError | null;
  loaded: boolean;
}

interface TailState extends LogTail {
  /** Which level and connection (`restart`) these lines belong to: another is a fresh start. */
  key: string;
}

const empty = (key: string): TailState => ({
  key,
  lines: [],
  sources: null,
  pageError: null,
  tailError: null,
  loaded: false,
});

/** The log lines at `level` and above; a new `restart` number opens the tail again (after it ended). */
export function useLogTail(level: LogLevel, restart: number): LogTail {
  const client = useClient();
  const key = `${level}:${restart}`;
  const [state, setState] = useState<TailState>(() => empty(key));
  useEffect(() => {
    let live = true;
    const started = Date.now();
    let pending: LogLine[] = [];
    // Updates of another level's state start from empty: the state is this key's once anything arrives.
    const update = (f: (s: TailState) => TailState) => setState((s) => f(s.key === key ? s : empty(key)));
    const timer = setInterval(() => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      update((s) => ({ ...s, lines: mergeLines(s.lines, batch, MAX_LINES) }));
    }, FLUSH_MS);
    const tail = client.subscription(ServerLogStreamSubscription, { level }).subscribe((r) => {
      if (r.data) pending.push(r.data.serverLogStream);
      if (r.error) update((s) => ({ ...s, tailError: r.error ?? null }));
    });
    const page = (since: string | null) =>
      client.query(ServerLogsQuery, { level, limit: FIRST_PAGE, since }, { requestPolicy: 'network-only' }).toPromise();
    let second: ReturnType<typeof setTimeout> | undefined;
    void page(null).then((r) => {
      if (!live) return;
      const lines = r.data?.serverLogs?.lines ?? [];
      update((s) => ({
        ...s,
        loaded: true,
        pageError: r.error ?? null,
        sources: r.data?.serverLogs?.sources ?? null,
        lines: mergeLines(lines, s.lines, MAX_LINES),
      }));
      // The tail's socket may have started after this page was read: a second look from the page's newest line
      // picks up what fell between (a line already held counts once).
      if (r.error) return;
      const from = lines.at(-1)?.time ?? new Date(started).toISOString();
      second = setTimeout(() => {
        void page(from).then((again) => {
          if (live && again.data?.serverLogs)
            update((s) => ({ ...s, lines: mergeLines(s.lines, again.data!.serverLogs!.lines, MAX_LINES) }));
        });
      }, SECOND_LOOK_MS);
    });
    return () => {
      live = false;
      clearInterval(timer);
      clearTimeout(second);
      tail.unsubscribe();
    };
  }, [client, level, key]);
  return state.key === key ? state : empty(key);
}
