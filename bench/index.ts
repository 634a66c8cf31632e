import { startupBench } from './startup';

/** Every bench by name. Add yours here: a function that measures and calls report(). */
export const benches: Record<string, () => Promise<void>> = {
  startup: startupBench,
};
