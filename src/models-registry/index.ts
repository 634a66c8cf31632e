/** The model registry's public API (see docs/models.md). */
import { ModelRegistry } from './registry';

export { ModelRegistry };
export type { ModelRegistryOptions } from './registry';
export type { ModelInfo, ModelVersionInfo } from './catalogue/catalogue';
export type { RegistryEvent, RegistryEventType } from './catalogue/events';
export type { InstallOptions } from './lifecycle/lifecycle';
export type { ModelLease, PinSource } from './runtime/leases';
export { apiLoadsModels, createModelsModule, MODEL_REGISTRY_EVENTS } from './setup';
export type { ModelsModule, RegistryEventMessage } from './setup';
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
export { RegistryError, shortError } from './errors';
export type { PackageCheck, RegistryErrorCode } from './errors';
export {
  DEVICE_PATTERN,
  manifestSchema,
  parseManifest,
  parseManifestText,
  safeParseManifest,
  ManifestError,
  manifestJsonSchema,
} from './package/manifest';
export type { Manifest, ManifestInput, ManifestIssue } from './package/manifest';
export { runBatch, probabilitiesOf, binaryMaskOf } from './package/golden';
export { ModelsResolver } from './models.resolver';
export {
  EnsemblesResolver,
  DEFAULT_ENSEMBLE,
  defaultEnsembleName,
  ensembleUnavailable,
  findEnsemble,
} from './ensembles';
export type { EnsembleDefinition } from './ensembles';
export {
  DeviceInput,
  DeviceKind,
  DeviceType,
  ModelTask,
  deviceText,
  toDeviceType,
  toDeviceTypeOrNull,
} from './enums.types';
export { ModelVersionUploaderResolver, modelNodes } from './model-navigation.resolver';

declare module '../schema/context' {
  interface Services {
    /** The model registry: packages, active versions, leases for inference (docs/models.md). */
    models: ModelRegistry;
  }
}
