import { startupBench } from './startup';
import { modelsBench } from './models';
import { inferenceBench } from './inference';
import { uploadsBench } from './uploads';
import { reportsBench } from './reports';
import { peerBench } from './peer';
import { busyAccountBench } from './peer/busy-account';

/** Every bench by name. Add yours here: a function that measures and calls report(). */
export const benches: Record<string, () => Promise<void>> = {
  startup: startupBench,
  models: modelsBench,
  inference: inferenceBench,
  uploads: uploadsBench,
  reports: reportsBench,
  peer: peerBench,
  'busy-account': busyAccountBench,
};
