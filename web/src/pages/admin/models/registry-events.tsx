// Live registry events from every server process (modelRegistryEvents over graphql-ws), newest first. Each event
// also tells the page to read the models again, so states and placements follow swaps made anywhere.
import { useEffect, type ReactNode } from 'react';
import { useSubscription } from 'urql';
import { ErrorMessage, apiErrors, formatDateTime } from '../../../ui';
import type { AdminModelRegistryEventsSubscription } from '../../../gql/graphql';
import { ModelRegistryEventsSubscription } from './operations';
import { deviceName } from './device';

type RegistryEvent = AdminModelRegistryEventsSubscription['modelRegistryEvents'];

const KEEP = 50;

function EventItem({ e }: { e: RegistryEvent }): ReactNode {
  const fellBack = e.device?.fallbackReason;
  // A FELL_BACK event's message repeats the fallback reason: say it once.
  const message = e.message && !(fellBack && e.message.includes(fellBack)) ? e.message : null;
  return (
    <li className={`admin-event admin-event-${e.type.toLowerCase()}`}>
      <time dateTime={e.at}>{formatDateTime(e.at)}</time>{' '}
      <span className="admin-strong">{e.type.toLowerCase().replace('_', ' ')}</span>{' '}
      {e.name ? `${e.name}@${e.version ?? '?'}` : 'a package'}
      {e.previousVersion ? ` (replaced ${e.previousVersion})` : ''}
      {e.device ? ` on ${deviceName(e.device.actual)}` : ''}
      {fellBack ? <span className="admin-sub">Fell back: {fellBack}</span> : null}
      {message ? <span className="admin-sub">{message}</span> : null}
      <span className="admin-sub">process {e.processId}</span>
    </li>
  );
}

export function RegistryEvents({ onEvent }: { onEvent(): void }): ReactNode {
  const [{ data: events, error }] = useSubscription(
    { query: ModelRegistryEventsSubscription },
    (prev: RegistryEvent[] = [], next) => [next.modelRegistryEvents, ...prev].slice(0, KEEP),
  );
  const latest = events?.[0];
  useEffect(() => {
    if (latest) onEvent();
  }, [latest, onEvent]);
  return (
    <section className="admin-panel" aria-labelledby="events-heading">
      <h2 id="events-heading">Live registry events</h2>
      <ErrorMessage errors={apiErrors(error)} />
      {!events?.length ? <p className="muted">Listening… events appear here as models load, swap and unload.</p> : null}
      {/* Focusable: it scrolls, and keyboard users must be able to scroll it. */}
      <ol className="admin-events" aria-live="polite" aria-label="Registry events, newest first" tabIndex={0}>
        {(events ?? []).map((e, i) => (
          <EventItem key={`${e.at}-${e.type}-${e.processId}-${i}`} e={e} />
        ))}
      </ol>
    </section>
  );
}
