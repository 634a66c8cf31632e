import type { Row } from '../harness';
import { histogramDelta, histogramTotal, parsePromText, type HistogramTotal, type Sample } from './prom-text';
import type { Window } from './window';

const REQUEST = 'dermagraph_graphql_request_duration_seconds';
const STAGE = 'dermagraph_inference_stage_duration_seconds';
const JOB = 'dermagraph_inference_job_duration_seconds';
const KIND = 'classify';
/** The order the job runner reports a classification's stages in; any other stage comes after them. */
const ORDER = ['preprocessing', 'model', 'ensembling', 'metrics', 'gradcam', 'persisted'];

/** One read of the server's histograms: the operation's GraphQL requests, the classification jobs and their stages. */
export interface StageTotals {
  request: HistogramTotal;
  /** Successful jobs' runs, from the attempt's start (the job claimed) to its `done` event. */
  job: HistogramTotal;
  stages: Map<string, HistogramTotal>;
}

export function readStageTotals(samples: Sample[], operation: string): StageTotals {
  const names = samples.filter((s) => s.name === `${STAGE}_count` && s.labels.kind === KIND).map((s) => s.labels.stage);
  return {
    request: histogramTotal(samples, REQUEST, { operation }),
    job: histogramTotal(samples, JOB, { kind: KIND, status: 'SUCCEEDED' }),
    stages: new Map(names.map((stage) => [stage, histogramTotal(samples, STAGE, { kind: KIND, stage })])),
  };
}

const NONE: HistogramTotal = { sum: 0, count: 0 };
const plus = (a: HistogramTotal, b: HistogramTotal) => ({ sum: a.sum + b.sum, count: a.count + b.count });

/** What was observed between two reads (a stage first seen in `after` counts from nothing). */
export function stageTotalsDelta(before: StageTotals, after: StageTotals): StageTotals {
  return {
    request: histogramDelta(before.request, after.request),
    job: histogramDelta(before.job, after.job),
    stages: new Map([...after.stages].map(([k, v]) => [k, histogramDelta(before.stages.get(k) ?? NONE, v)])),
  };
}

function addStageTotals(a: StageTotals, b: StageTotals): StageTotals {
  const keys = new Set([...a.stages.keys(), ...b.stages.keys()]);
  return {
    request: plus(a.request, b.request),
    job: plus(a.job, b.job),
    stages: new Map([...keys].map((k) => [k, plus(a.stages.get(k) ?? NONE, b.stages.get(k) ?? NONE)])),
  };
}

export interface Breakdown {
  requests: number;
  /** Images the runner finished (observations of the last stage, `persisted`). */
  images: number;
  /** Mean wall ms of a request. */
  requestMs: number;
  /** Mean wall ms per request of each stage, in the runner's order. */
  stagesMs: Array<[string, number]>;
  /** Mean wall ms per request of the job's run (the stages are inside it). */
  jobMs: number;
  /** requestMs minus the stages: everything in the request that is not the job's work on the image. */
  otherMs: number;
  /** requestMs minus the job's run: the part of `otherMs` before the job is claimed and after its `done`. */
  outsideJobMs: number;
}

/**
 * Per request of a flow that sends one image per request, so per image: each histogram's sum over the number of
 * requests. A stage observed once per image (every classification stage with one model) then adds up with the
 * others and `other` to the request.
 */
export function breakdown(t: StageTotals): Breakdown {
  const n = t.request.count;
  const rank = (s: string) => (ORDER.includes(s) ? ORDER.indexOf(s) : ORDER.length);
  const stagesMs = [...t.stages]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([stage, h]): [string, number] => [stage, (h.sum * 1000) / n]);
  const requestMs = (t.request.sum * 1000) / n;
  const jobMs = (t.job.sum * 1000) / n;
  return {
    requests: n,
    images: t.stages.get('persisted')?.count ?? 0,
    requestMs,
    stagesMs,
    jobMs,
    otherMs: requestMs - stagesMs.reduce((a, [, ms]) => a + ms, 0),
    outsideJobMs: requestMs - jobMs,
  };
}

export const STAGES_DESCRIPTION =
  "where a request's wall time goes, per image of the flow marked in the title (one image per request), from the server's own Prometheus histograms read from GET /metrics before and after each of its windows (so every request of the window's run counts, its ramp-up and tail included) and pooled over the rounds: request = dermagraph_graphql_request_duration_seconds of the bench's operation (from Apollo's start of the request to its response: the HTTP exchange and the multipart parse before Apollo are outside it; `client ms` is the bench's own mean round trip of the window's requests); each stage = dermagraph_inference_stage_duration_seconds{kind=classify}, the time from the runner's previous report on the image (or its start on the image) to its report of that stage, so each is named after the stage it ends with; job = dermagraph_inference_job_duration_seconds{kind=classify,status=SUCCEEDED} (the attempt's run from its claim to its done event, the stages inside it); other = request - stages (upload, rows, quota, job creation and claim, the wait and its answer), of which outside the job = request - job. Wall time, not CPU: at c=1 an image's stages follow one another and overlap no other request; at c=8 requests overlap and each figure includes waiting for the CPU and the batcher, so they add up to more than the elapsed time";

/**
 * Reads the server's metrics around each window of one flow and keeps what the windows added, per number of
 * clients: the reads happen between windows, so they cost the server nothing that is measured.
 */
export class StageBreakdown {
  private readonly url: string;
  private readonly seen = new Map<number, { totals: StageTotals; latencies: number[] }>();

  /** `serverUrl`: any URL of the server (its /metrics answers without a token); `operation`: the GraphQL operation's name. */
  constructor(
    serverUrl: string,
    private readonly operation: string,
  ) {
    this.url = new URL('/metrics', serverUrl).toString();
  }

  private async read(): Promise<StageTotals> {
    const res = await fetch(this.url);
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.url}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    return readStageTotals(parsePromText(text), this.operation);
  }

  /** Runs one window between two reads of the metrics. */
  async measure(clients: number, window: () => Promise<Window>): Promise<Window> {
    const before = await this.read();
    const w = await window();
    const added = stageTotalsDelta(before, await this.read());
    const prev = this.seen.get(clients);
    this.seen.set(clients, {
      totals: prev ? addStageTotals(prev.totals, added) : added,
      latencies: [...(prev?.latencies ?? []), ...w.latencies],
    });
    return w;
  }

  rows(mode: string, flow: string): Row[] {
    return [...this.seen].map(([clients, { totals, latencies }]) => {
      const b = breakdown(totals);
      return {
        mode,
        flow,
        clients,
        requests: b.requests,
        images: b.images,
        'request ms': b.requestMs,
        ...Object.fromEntries(b.stagesMs.map(([stage, ms]) => [`${stage} ms`, ms])),
        'job ms': b.jobMs,
        'other ms': b.otherMs,
        'outside the job ms': b.outsideJobMs,
        'client ms': latencies.reduce((a, x) => a + x, 0) / latencies.length,
      };
    });
  }
}
