// The segmentation ensemble builder: which models, their weights, the device each runs on, the threshold;
// "Run segmentation" queues segmentImages and streams its stages live. Errors land beside the cell they name.
import { useState, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { Button, ErrorMessage, ProgressBar, apiErrors, fieldMatches, type ApiError } from '../../ui';
import {
  DEVICE_KINDS,
  deviceName,
  indexed,
  initialDrafts,
  pinnableVersions,
  toMembers,
  type MemberDraft,
} from './ensemble';
import { JobProgress, type ProgressEvent } from './job-progress';
import { ModelsQuery, SegmentImagesMutation } from './inference-operations';

/** An error under a control inside the table; the control names it with aria-describedby. */
function CellError({ id, error }: { id: string; error?: ApiError }): ReactNode {
  return error ? (
    <p className="field-error" id={id}>
      {error.message}
    </p>
  ) : null;
}

/** The checks the browser can make before asking: numbers where numbers go, something to run. */
function localErrors(drafts: MemberDraft[], threshold: string): Map<string, ApiError> {
  const errs = new Map<string, ApiError>();
  drafts.forEach((d, i) => {
    if (!d.include) return;
    const w = d.weight.trim() === '' ? 1 : Number(d.weight);
    if (!Number.isFinite(w)) errs.set(`${i}.weight`, { message: 'The weight must be a number' });
    else if (w < 0) errs.set(`${i}.weight`, { message: 'The weight must not be negative' });
    if (indexed(d.kind) && d.index.trim() !== '' && !/^\d+$/.test(d.index.trim()))
      errs.set(`${i}.device`, { message: 'The GPU index must be a whole number' });
  });
  const t = Number(threshold);
  if (threshold.trim() === '' || !Number.isFinite(t))
    errs.set('threshold', { message: 'The threshold must be a number from 0 to 1' });
  const used = drafts.filter((d) => d.include);
  if (used.length === 0) errs.set('members', { message: 'Pick at least one model' });
  else if (used.every((d) => d.weight.trim() !== '' && Number(d.weight) === 0))
    errs.set('members', { message: 'At least one weight must be above 0' });
  return errs;
}

export function EnsembleBuilder(props: {
  imageId: string;
  onFinished: (segmentationId: string | undefined) => void;
}): ReactNode {
  const [{ data, fetching, error: modelsError }] = useQuery({ query: ModelsQuery });
  const [segment, run] = useMutation(SegmentImagesMutation);
  // The rows as edited; until the first edit, one per segmentation model as the registry lists them.
  const [edited, setEdited] = useState<MemberDraft[] | null>(null);
  const [threshold, setThreshold] = useState('0.5');
  // The draft row of each member sent: the server's errors name members[i], i counting the members sent.
  const [sentRows, setSentRows] = useState<number[]>([]);
  const [jobId, setJobId] = useState<string | null>(null);
  const [local, setLocal] = useState<Map<string, ApiError>>(new Map());
  const models = data?.models ?? [];

  const drafts = edited ?? (data?.models ? initialDrafts(data.models) : null);

  const update = (i: number, p: Partial<MemberDraft>): void =>
    setEdited(drafts && drafts.map((d, j) => (j === i ? { ...d, ...p } : d)));

  const server = apiErrors(segment.error);
  const serverFor = (name: string): ApiError | undefined => server.find((e) => e.field && fieldMatches(e.field, name));
  const cellError = (row: number, what: 'model' | 'version' | 'weight' | 'device'): ApiError | undefined => {
    const mine = local.get(`${row}.${what}`);
    if (mine) return mine;
    const i = sentRows.indexOf(row);
    return i < 0 ? undefined : serverFor(`members[${i}].${what}`);
  };
  const thresholdError = local.get('threshold') ?? serverFor('threshold');
  const claimed = (e: ApiError): boolean =>
    !!e.field && (e.field === 'threshold' || sentRows.some((_, i) => e.field!.startsWith(`members[${i}].`)));
  const general = [...server.filter((e) => !claimed(e)), ...(local.has('members') ? [local.get('members')!] : [])];

  async function submit(): Promise<void> {
    if (!drafts) return;
    const errs = localErrors(drafts, threshold);
    setLocal(errs);
    if (errs.size) return;
    const { members, rows } = toMembers(drafts);
    setSentRows(rows);
    setJobId(null);
    const res = await run({ imageIds: [props.imageId], members, threshold: Number(threshold) });
    if (res.data) setJobId(res.data.segmentImages.id);
  }

  const onFinished = (last: ProgressEvent, events: ProgressEvent[]): void =>
    props.onFinished(
      last.stage === 'DONE' ? (events.findLast((e) => e.segmentationId)?.segmentationId ?? undefined) : undefined,
    );

  const describedBy = (id: string, error?: ApiError): string | undefined => (error ? id : undefined);

  return (
    <section aria-labelledby="ensemble-heading" className="clinical-panel">
      <h2 id="ensemble-heading">Segmentation ensemble</h2>
      {fetching && !data ? <ProgressBar label="Loading the models" /> : null}
      <ErrorMessage errors={apiErrors(modelsError)} />
      {drafts && drafts.length === 0 ? <p>No segmentation model is installed.</p> : null}
      {drafts && drafts.length ? (
        <form
          aria-label="Segmentation ensemble"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
          noValidate
        >
          <div className="table-wrap">
            <table className="table clinical-ensemble">
              <caption className="visually-hidden">Members to run</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Version</th>
                  <th scope="col">Weight</th>
                  <th scope="col">Device</th>
                </tr>
              </thead>
              <tbody>
                {drafts.map((d, i) => {
                  const info = models.find((m) => m.name === d.model);
                  const active = info?.versions.find((v) => v.version === info.activeVersion);
                  const placement = active?.device ? deviceName(active.device.actual) : 'as placed';
                  const errs = {
                    model: cellError(i, 'model'),
                    version: cellError(i, 'version'),
                    weight: cellError(i, 'weight'),
                    device: cellError(i, 'device'),
                  };
                  const id = (what: string) => `member-${i}-${what}-error`;
                  return (
                    <tr key={d.model} data-model={d.model}>
                      <td>
                        <label className="clinical-check">
                          <input
                            type="checkbox"
                            checked={d.include}
                            onChange={(e) => update(i, { include: e.target.checked })}
                            aria-describedby={describedBy(id('model'), errs.model)}
                          />
                          Use {d.model}
                        </label>
                        <CellError id={id('model')} error={errs.model} />
                      </td>
                      <td>
                        <select
                          aria-label={`Version of ${d.model}`}
                          value={d.version}
                          onChange={(e) => update(i, { version: e.target.value })}
                          disabled={!d.include}
                          aria-invalid={errs.version ? true : undefined}
                          aria-describedby={describedBy(id('version'), errs.version)}
                        >
                          <option value="">Active ({info?.activeVersion ?? 'none'})</option>
                          {info
                            ? pinnableVersions(info).map((v) => (
                                <option key={v} value={v}>
                                  {v}
                                </option>
                              ))
                            : null}
                        </select>
                        <CellError id={id('version')} error={errs.version} />
                      </td>
                      <td>
                        <input
                          className="clinical-number"
                          type="number"
                          min={0}
                          step="any"
                          inputMode="decimal"
                          aria-label={`Weight of ${d.model}`}
                          value={d.weight}
                          onChange={(e) => update(i, { weight: e.target.value })}
                          disabled={!d.include}
                          aria-invalid={errs.weight ? true : undefined}
                          aria-describedby={describedBy(id('weight'), errs.weight)}
                        />
                        <CellError id={id('weight')} error={errs.weight} />
                      </td>
                      <td>
                        <select
                          aria-label={`Device for ${d.model}`}
                          value={d.kind}
                          onChange={(e) => update(i, { kind: e.target.value as MemberDraft['kind'] })}
                          disabled={!d.include}
                          aria-invalid={errs.device ? true : undefined}
                          aria-describedby={describedBy(id('device'), errs.device)}
                        >
                          <option value="">Its placement ({placement})</option>
                          {DEVICE_KINDS.map((k) => (
                            <option key={k} value={k}>
                              {k.toLowerCase()}
                            </option>
                          ))}
                        </select>
                        {indexed(d.kind) ? (
                          <input
                            className="clinical-number"
                            type="number"
                            min={0}
                            max={99}
                            step={1}
                            placeholder="0"
                            aria-label={`GPU index for ${d.model}`}
                            value={d.index}
                            onChange={(e) => update(i, { index: e.target.value })}
                            disabled={!d.include}
                            aria-invalid={errs.device ? true : undefined}
                            aria-describedby={describedBy(id('device'), errs.device)}
                          />
                        ) : null}
                        <CellError id={id('device')} error={errs.device} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div className="clinical-inline-form">
            <div className={thresholdError ? 'field field-invalid' : 'field'}>
              <label htmlFor="ensemble-threshold">Threshold (ensemble probability of lesion, 0 to 1)</label>
              <input
                id="ensemble-threshold"
                className="clinical-number"
                type="number"
                min={0}
                max={1}
                step={0.05}
                value={threshold}
                onChange={(e) => setThreshold(e.target.value)}
                aria-invalid={thresholdError ? true : undefined}
                aria-describedby={describedBy('threshold-error', thresholdError)}
              />
              <CellError id="threshold-error" error={thresholdError} />
            </div>
            <div className="clinical-submit">
              <Button type="submit" variant="primary" busy={segment.fetching}>
                Run segmentation
              </Button>
              <ErrorMessage errors={general} />
            </div>
          </div>
        </form>
      ) : null}
      {jobId ? <JobProgress key={jobId} jobId={jobId} label="Segmentation" onFinished={onFinished} /> : null}
    </section>
  );
}
