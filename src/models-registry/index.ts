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
export { InMemoryRegistryStore } from './sync/store';
export type { DeviceInfo, RegistryStore, VersionRecord, VersionStatus } from './sync/store';
export { InMemoryRegistryBus } from './sync/bus';
export type { RegistryBus, RegistryMessage } from './sync/bus';
export { RegistryMetrics } from './runtime/metrics';
export { packPackage, sealPackage, validatePackage } from './package/package';
export type { PackResult, ValidationReport } from './package/package';
export { DEFAULT_LIMITS } from './package/extract';
export type { ExtractLimits } from './package/extract';
export { createSession, bundledBackends } from './runtime/sessions';
export type { Placement, Threads } from './runtime/sessions';
export { ThreadedSession, handOver } from './runtime/threaded-session';
export type { ModelSession } from './runtime/threaded-session';
export { parseDevice, deviceChain, placementOrder } from './runtime/devices';
export { RegistryError } from './errors';
export type { PackageCheck, RegistryErrorCode } from './errors';
export {
  manifestSchema,
  parseManifest,
  parseManifestText,
  safeParseManifest,
  ManifestError,
  manifestJsonSchema,
} from './package/manifest';
export type { Manifest, ManifestInput, ManifestIssue } from './package/manifest';
export { runBatch, probabilitiesOf, binaryMaskOf } from './package/golden';

declare module '../schema/context' {
  interface Services {
    /** The model registry: packages, active versions, leases for inference (docs/models.md). */
    models: ModelRegistry;
  }
}
