import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the model registry, registered on the Registry given (never the global one). */
export class RegistryMetrics {
  readonly inferences: Counter<'model' | 'version' | 'device'>;
  readonly errors: Counter<'model' | 'version' | 'device'>;
  readonly latency: Histogram<'model' | 'version' | 'device'>;
  readonly queueTime: Histogram<'model' | 'version'>;
  readonly sessions: Gauge<'device'>;
  private sessionCounts: () => Map<string, number> = () => new Map();

  constructor(register: Registry, prefix = 'dermagraph_') {
    const registers = [register];
    this.inferences = new Counter({
      name: `${prefix}model_inferences_total`,
      help: 'Images run through a model version (failed runs included)',
      labelNames: ['model', 'version', 'device'],
      registers,
    });
    this.errors = new Counter({
      name: `${prefix}model_inference_errors_total`,
      help: 'Images whose model run failed',
      labelNames: ['model', 'version', 'device'],
      registers,
    });
    this.latency = new Histogram({
      name: `${prefix}model_inference_duration_seconds`,
      help: 'Duration of one session run (a batch)',
      labelNames: ['model', 'version', 'device'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.queueTime = new Histogram({
      name: `${prefix}model_queue_duration_seconds`,
      help: 'Time a request waited for its batch to start',
      labelNames: ['model', 'version'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.sessions = new Gauge({
      name: `${prefix}model_sessions_loaded`,
      help: 'Live onnxruntime sessions (active, ready and draining) by device',
      labelNames: ['device'],
      registers,
      collect: () => {
        this.sessions.reset();
        for (const [device, n] of this.sessionCounts()) this.sessions.set({ device }, n);
      },
    });
  }

  /** The registry tells the gauge how to count its sessions. */
  bindSessionCounts(count: () => Map<string, number>): void {
    this.sessionCounts = count;
  }

  observeRun(model: string, version: string, device: string, seconds: number, images: number, ok: boolean): void {
    const labels = { model, version, device };
    this.inferences.inc(labels, images);
    if (ok) this.latency.observe(labels, seconds);
    else this.errors.inc(labels, images);
  }

  /** For the batching layer: how long a request queued before its batch ran. */
  observeQueueTime(model: string, version: string, seconds: number): void {
    this.queueTime.observe({ model, version }, seconds);
  }
}
