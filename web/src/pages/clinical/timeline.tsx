// The patient's timeline, newest first, paged forwards with "Show older", and a note form.
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  Button,
  ErrorMessage,
  FieldFrame,
  ProgressBar,
  apiErrors,
  formatDateTime,
  formatPercent,
  useGraphQLErrors,
} from '../../ui';
import { AddNoteMutation, TimelineQuery } from './operations';
import { markIndeterminate } from './prediction-flags';
import type { ClinicalTimelineQuery } from '../../gql/graphql';

type Edge = NonNullable<ClinicalTimelineQuery['patient']>['timeline']['edges'][number];
type Event = Edge['node'];

const who = (a?: { name?: string | null; email: string } | null): string => (a ? (a.name ?? a.email) : 'someone');
const imageLink = (id: string, text: string): ReactNode => <Link to={`/images/${encodeURIComponent(id)}`}>{text}</Link>;

/** An event in words; `names` gives the images' file names (results name their image by id only). */
function describe(e: Event, names: ReadonlyMap<string, string>): ReactNode {
  const image = (id: string) => names.get(id) ?? 'an image';
  switch (e.__typename) {
    case 'PatientCreatedEvent':
      return `Record created by ${who(e.actor)}`;
    case 'PatientChangedEvent':
      return `${who(e.actor)} changed ${e.changedFields.join(', ')}`;
    case 'LesionAddedEvent':
      return `Lesion “${e.lesion.label}” added (${e.lesion.bodySite})`;
    case 'ImageUploadedEvent':
      return <>Image {imageLink(e.image.id, e.image.originalName ?? 'uploaded')} uploaded</>;
    case 'PredictionEvent':
      return (
        <>
          Classified {imageLink(e.imageId, image(e.imageId))}:{' '}
          {markIndeterminate(e, `${e.label} (${formatPercent(e.confidence)})`)}
          {e.malignant && e.label !== 'malignant' && !e.abstained ? ', called malignant' : ''}
        </>
      );
    case 'SegmentationEvent':
      return (
        <>
          Segmented {imageLink(e.imageId, image(e.imageId))}: severity {e.severity}, area {e.areaPercent.toFixed(2)} %
        </>
      );
    case 'ReportGeneratedEvent':
      return `Exported: ${e.text}`;
    case 'NoteAddedEvent':
      return (
        <>
          Note by {who(e.actor)}: <q>{e.text}</q>
        </>
      );
    default:
      return 'Event';
  }
}

const FIELDS = ['text'] as const;

const at = (e: Event): string => ('at' in e && typeof e.at === 'string' ? e.at : '');

function TimelinePage(props: { patientId: string; after?: string; names: ReadonlyMap<string, string> }): ReactNode {
  const { patientId, after, names } = props;
  const [more, setMore] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({
    query: TimelineQuery,
    variables: { id: patientId, after },
    requestPolicy: 'cache-and-network',
  });
  const tl = data?.patient?.timeline;
  return (
    <>
      {tl?.edges.map((edge) => (
        <li key={edge.cursor}>
          <time dateTime={at(edge.node)}>{formatDateTime(at(edge.node))}</time>
          <span>{describe(edge.node, names)}</span>
        </li>
      ))}
      {fetching && !tl ? (
        <li>
          <ProgressBar label="Loading the timeline" />
        </li>
      ) : null}
      {error ? (
        <li>
          <ErrorMessage errors={apiErrors(error)} />
        </li>
      ) : null}
      {more ? <TimelinePage patientId={patientId} after={more} names={names} /> : null}
      {!more && tl?.pageInfo.hasNextPage && tl.pageInfo.endCursor ? (
        <li>
          <Button variant="quiet" onClick={() => setMore(tl.pageInfo.endCursor!)}>
            Show older events
          </Button>
        </li>
      ) : null}
    </>
  );
}

export function Timeline(props: {
  patientId: string;
  archived: boolean;
  revision: number;
  imageNames: ReadonlyMap<string, string>;
}): ReactNode {
  const { patientId, archived } = props;
  const [{ fetching, error }, addNote] = useMutation(AddNoteMutation);
  const [text, setText] = useState('');
  const [version, setVersion] = useState(0);
  const errors = useGraphQLErrors(error, FIELDS);

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    const res = await addNote({ patientId, text });
    if (res.data) {
      setText('');
      setVersion((v) => v + 1);
    }
  }

  return (
    <section aria-labelledby="timeline-heading" className="clinical-panel">
      <h2 id="timeline-heading">Timeline</h2>
      {archived ? null : (
        <form className="clinical-inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label="New note">
          <FieldFrame label="Note" className="clinical-grow" error={errors.fieldError('text')}>
            {(control) => (
              <textarea
                rows={2}
                value={text}
                maxLength={10000}
                onChange={(e) => setText(e.target.value)}
                {...control}
              />
            )}
          </FieldFrame>
          <div className="clinical-submit">
            <Button type="submit" busy={fetching} disabled={text.trim() === ''}>
              Add note
            </Button>
            <ErrorMessage errors={errors.others} />
          </div>
        </form>
      )}
      <ol className="clinical-timeline" key={`${props.revision}-${version}`}>
        <TimelinePage patientId={patientId} names={props.imageNames} />
      </ol>
    </section>
  );
}
