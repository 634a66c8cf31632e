import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the jobs layer (queue depth, durations by stage, failures). */
export class JobMetrics {
  readonly depth: Gauge<'queue'>;
  readonly stageSeconds: Histogram<'kind' | 'stage'>;
  readonly jobSeconds: Histogram<'kind' | 'status'>;
  readonly failures: Counter<'kind' | 'reason'>;
  readonly retries: Counter<'kind'>;
  /** uploadImages(classify, wait) and classifyImage(wait) classifications tried in the request: classified there, or queued instead. */
  readonly inRequest: Counter<'outcome'>;
  readonly imageTaskSeconds: Histogram<'task'>;
  readonly pixelsInFlight: Gauge;
  readonly deviceSessions: Gauge;
  /** Sessions jobs opened on members' own devices, beside the registry's (set by the runner's MemberSessions). */
  deviceSessionCount: () => number = () => 0;

  constructor(registry: Registry, depth?: () => Promise<number>) {
    const registers = [registry];
    this.depth = new Gauge({
      name: 'dermagraph_inference_queue_depth',
      help: 'Inference jobs waiting to start',
      labelNames: ['queue'],
      registers,
      async collect() {
        if (depth) this.set({ queue: 'inference' }, await depth().catch(() => 0));
      },
    });
    const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.stageSeconds = new Histogram({
      name: 'dermagraph_inference_stage_duration_seconds',
      help: 'Time per job stage (per image)',
      labelNames: ['kind', 'stage'],
      buckets,
      registers,
    });
    this.jobSeconds = new Histogram({
      name: 'dermagraph_inference_job_duration_seconds',
      help: 'Job run time, start to finish',
      labelNames: ['kind', 'status'],
      buckets,
      registers,
    });
    this.failures = new Counter({
      name: 'dermagraph_inference_job_failures_total',
      help: 'Jobs that ended FAILED, by error code',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.retries = new Counter({
      name: 'dermagraph_inference_job_retries_total',
      help: 'Attempts that failed and were retried',
      labelNames: ['kind'],
      registers,
    });
    this.inRequest = new Counter({
      name: 'dermagraph_inference_in_request_total',
      help: 'Classifications of uploadImages and classifyImage with wait tried in the request: classified there, or queued (a failure or the wait ran out)',
      labelNames: ['outcome'],
      registers,
    });
    this.imageTaskSeconds = new Histogram({
      name: 'dermagraph_image_task_duration_seconds',
      help: 'Full-resolution image work on the image threads (queueing included)',
      labelNames: ['task'],
      buckets,
      registers,
    });
    const sessionCount = () => this.deviceSessionCount();
    this.deviceSessions = new Gauge({
      name: 'dermagraph_member_device_sessions',
      help: "Sessions open on devices ensemble members asked for, beside the registry's own (bounded)",
      registers,
      collect() {
        this.set(sessionCount());
      },
    });
    this.pixelsInFlight = new Gauge({
      name: 'dermagraph_segmentation_pixels_in_flight',
      help: 'Image pixels the segmentations of this process hold now (SEGMENT_MAX_PIXELS_IN_FLIGHT bounds it)',
      registers,
    });
  }
}
