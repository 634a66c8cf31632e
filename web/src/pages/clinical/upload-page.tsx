// Upload: several images of one patient (optionally of one lesion), each with its own progress bar, then
// classify (with Grad-CAM) and/or segment them right away, each job's stages streamed live.
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { freshAccessToken, refreshNow } from '../../app/session';
import {
  Button,
  ErrorMessage,
  PageTitle,
  ProgressBar,
  SelectField,
  apiErrors,
  formatBytes,
  type ApiError,
} from '../../ui';
import { activeSegmentationModels } from './ensemble';
import { FileDrop } from './file-drop';
import { JobProgress } from './job-progress';
import { ClassifyImagesMutation, ModelsQuery, SegmentImagesMutation } from './inference-operations';
import { UploadImagesMutation, UploadPatientQuery } from './operations';
import { rawErrors, sendMultipart, type MultipartResult } from './upload-request';
import type { ClinicalUploadImagesMutation } from '../../gql/graphql';

interface Item {
  key: number;
  file: File;
  progress: number;
  state: 'waiting' | 'uploading' | 'done' | 'failed';
  errors: ApiError[];
  imageId?: string;
}

/** Files sent at once: enough to keep the connection busy, few enough that each bar moves. */
const PARALLEL = 2;
let nextKey = 1;

const unauthenticated = (r: MultipartResult<unknown>): boolean =>
  !!r.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED');

function UploadPageBody({ patientId }: { patientId: string }): ReactNode {
  const [{ data, error: loadError }] = useQuery({ query: UploadPatientQuery, variables: { id: patientId } });
  const [{ data: modelData }] = useQuery({ query: ModelsQuery });
  const [classify, runClassify] = useMutation(ClassifyImagesMutation);
  const [segment, runSegment] = useMutation(SegmentImagesMutation);
  const [items, setItems] = useState<Item[]>([]);
  const [lesionId, setLesionId] = useState('');
  const [doClassify, setDoClassify] = useState(true);
  const [doSegment, setDoSegment] = useState(false);
  const [busy, setBusy] = useState(false);
  const [jobs, setJobs] = useState<{ classify?: string; segment?: string }>({});
  const segModels = activeSegmentationModels(modelData?.models ?? []);
  const patient = data?.patient;

  const patch = (key: number, p: Partial<Item>): void =>
    setItems((list) => list.map((it) => (it.key === key ? { ...it, ...p } : it)));

  function add(files: File[]): void {
    setJobs({});
    setItems((list) => [
      ...list.filter((it) => it.state !== 'done'),
      ...files.map((file) => ({ key: nextKey++, file, progress: 0, state: 'waiting' as const, errors: [] })),
    ]);
  }

  async function uploadOne(item: Item): Promise<string | undefined> {
    patch(item.key, { state: 'uploading', progress: 0, errors: [] });
    const send = async (token: string | undefined) =>
      sendMultipart<ClinicalUploadImagesMutation>(
        UploadImagesMutation,
        { patientId, lesionId: lesionId || null },
        'files',
        [item.file],
        { token, onProgress: (progress) => patch(item.key, { progress }) },
      );
    let res = await send(await freshAccessToken());
    // The token ran out during a long upload: refresh once and send again, as the client does for other requests.
    if (unauthenticated(res)) res = await send((await refreshNow())?.accessToken);
    const image = res.data?.uploadImages[0];
    if (!image) {
      const errors = rawErrors(res.errors);
      patch(item.key, { state: 'failed', errors: errors.length ? errors : [{ message: 'The upload failed' }] });
      return undefined;
    }
    patch(item.key, { state: 'done', progress: 1, imageId: image.id });
    return image.id;
  }

  async function start(): Promise<void> {
    setBusy(true);
    setJobs({});
    const queue = items.filter((it) => it.state !== 'done');
    const ids: string[] = [];
    const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
      for (let it = queue.shift(); it; it = queue.shift()) {
        const id = await uploadOne(it);
        if (id) ids.push(id);
      }
    });
    await Promise.all(workers);
    const next: { classify?: string; segment?: string } = {};
    if (ids.length && doClassify) {
      const r = await runClassify({ imageIds: ids, explain: true });
      next.classify = r.data?.classifyImages.id;
    }
    if (ids.length && doSegment && segModels.length) {
      const members = segModels.map((m) => ({ model: m.name, weight: 1 }));
      const r = await runSegment({ imageIds: ids, members, threshold: 0.5 });
      next.segment = r.data?.segmentImages.id;
    }
    setJobs(next);
    setBusy(false);
  }

  const pending = items.filter((it) => it.state !== 'done').length;
  const uploaded = items.some((it) => it.imageId);
  const patientPath = `/patients/${encodeURIComponent(patientId)}`;
  return (
    <section className="page clinical">
      <p className="clinical-back">
        <Link to={patientPath}>← {patient?.displayName ?? 'Patient'}</Link>
      </p>
      <PageTitle title="Upload images">Upload images{patient ? ` for ${patient.displayName}` : ''}</PageTitle>
      <ErrorMessage errors={apiErrors(loadError)} />
      <div className="clinical-form">
        <SelectField label="Lesion" value={lesionId} onChange={(e) => setLesionId(e.target.value)} disabled={busy}>
          <option value="">No particular lesion</option>
          {patient?.lesions.map((l) => (
            <option key={l.id} value={l.id}>
              {l.label} ({l.bodySite})
            </option>
          ))}
        </SelectField>
        <FileDrop onFiles={add} disabled={busy} />
        {items.length ? (
          <ul className="clinical-files" aria-label="Files to upload">
            {items.map((it) => (
              <li key={it.key} data-state={it.state}>
                <ProgressBar
                  label={it.file.name}
                  value={it.progress}
                  detail={
                    it.state === 'waiting'
                      ? `${formatBytes(it.file.size)} · waiting`
                      : it.state === 'failed'
                        ? 'failed'
                        : `${formatBytes(it.file.size)} · ${Math.round(it.progress * 100)}%`
                  }
                />
                {it.imageId ? (
                  <Link to={`/images/${encodeURIComponent(it.imageId)}`}>Open the result of {it.file.name}</Link>
                ) : null}
                {(it.state === 'waiting' || it.state === 'failed') && !busy ? (
                  <Button variant="quiet" onClick={() => setItems((l) => l.filter((x) => x.key !== it.key))}>
                    Remove {it.file.name}
                  </Button>
                ) : null}
                <ErrorMessage errors={it.errors} />
              </li>
            ))}
          </ul>
        ) : null}
        <fieldset className="clinical-options">
          <legend>Right after the upload</legend>
          <label className="clinical-check">
            <input
              type="checkbox"
              checked={doClassify}
              onChange={(e) => setDoClassify(e.target.checked)}
              disabled={busy}
            />
            Classify, with the Grad-CAM map
          </label>
          <ErrorMessage errors={apiErrors(classify.error)} />
          <label className="clinical-check">
            <input
              type="checkbox"
              checked={doSegment}
              onChange={(e) => setDoSegment(e.target.checked)}
              disabled={busy || segModels.length === 0}
            />
            Segment with {segModels.length ? segModels.map((m) => m.name).join(' + ') : 'no active segmentation model'}{' '}
            (equal weights, threshold 0.5; build other ensembles on each image’s result page)
          </label>
          <ErrorMessage errors={apiErrors(segment.error)} />
        </fieldset>
        <div className="clinical-actions">
          <Button variant="primary" busy={busy} disabled={pending === 0} onClick={() => void start()}>
            {pending === 0 ? 'Upload' : pending === 1 ? 'Upload 1 image' : `Upload ${pending} images`}
          </Button>
        </div>
      </div>
      {jobs.classify ? <JobProgress jobId={jobs.classify} label="Classification" /> : null}
      {jobs.segment ? <JobProgress jobId={jobs.segment} label="Segmentation" /> : null}
      {uploaded && !busy ? (
        <p>
          <Link to={patientPath}>Back to {patient?.displayName ?? 'the patient'}’s images</Link>
        </p>
      ) : null}
    </section>
  );
}

/** Keyed by the id in the path: moving to another record starts afresh (no job or choice of the previous one). */
export function UploadPage(): ReactNode {
  const patientId = useParams().patientId ?? '';
  return <UploadPageBody key={patientId} patientId={patientId} />;
}
