import type { InferenceModule } from './jobs.module';

export type { InferenceModule } from './jobs.module';

declare module '../../schema/context' {
  interface Services {
    /** Inference jobs: queue, progress, and the runner where this process runs them. */
    inference: InferenceModule;
  }
}
