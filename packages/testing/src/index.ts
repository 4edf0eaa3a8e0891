export { describeStoreConformance } from './conformance/describe-store-conformance.js';
export type { ConformanceContext, OpenedStore, StoreConformanceOptions } from './conformance/context.js';
export { testServerUrl, uniqueName } from './env.js';
export type { TestBackend } from './env.js';
export { deciderSpec } from './decider.js';
export type { DeciderOutcome, DeciderSpec } from './decider.js';
export { createTestEngine } from './test-engine.js';
export type { TestEngine, TestEngineOptions } from './test-engine.js';
export { createManualClock } from '@ironflow/core';
export type { ManualClock } from '@ironflow/core';
export { DEFAULT_FAULTS, SimulationFailure, simulate } from './simulation/index.js';
export type {
  SimulatedInstance,
  SimulationFaults,
  SimulationInput,
  SimulationInvariant,
  SimulationOptions,
  SimulationRandom,
  SimulationReport,
  SimulationView,
} from './simulation/index.js';
