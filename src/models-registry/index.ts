/** The model registry's public API (see docs/models.md). */
import { ModelRegistry } from './registry';

export { ModelRegistry };
export type {
  InstallOptions,
  ModelInfo,
  ModelLease,
  ModelRegistryOptions,
  ModelVersionInfo,
  PinSource,
  RegistryEvent,
  RegistryEventType,
} from './registry';
export { InMemoryRegistryStore } from './store';
export type { DeviceInfo, RegistryStore, VersionRecord, VersionStatus } from './store';
export { InMemoryRegistryBus } from './bus';
export type { RegistryBus, RegistryMessage } from './bus';
export { RegistryMetrics } from './metrics';
export { packPackage, sealPackage, validatePackage } from './package';
export type { PackResult, ValidationReport } from './package';
export { DEFAULT_LIMITS } from './extract';
export type { ExtractLimits } from './extract';
export { createSession, bundledBackends } from './sessions';
export type { Placement, Threads } from './sessions';
export { ThreadedSession, handOver } from './threaded-session';
export type { ModelSession } from './threaded-session';
export { parseDevice, deviceChain, placementOrder } from './devices';
export { RegistryError } from './errors';
export type { PackageCheck, RegistryErrorCode } from './errors';
export {
  manifestSchema,
  parseManifest,
  parseManifestText,
  safeParseManifest,
  ManifestError,
  manifestJsonSchema,
} from './manifest';
export type { Manifest, ManifestInput, ManifestIssue } from './manifest';
export { runBatch, probabilitiesOf, binaryMaskOf } from './golden';

declare module '../schema/context' {
  interface Services {
    /** The model registry: packages, active versions, leases for inference (docs/models.md). */
    models: ModelRegistry;
  }
}
