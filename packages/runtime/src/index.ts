export { createEngine } from './engine.js';
export type { Engine, ExecuteCallOptions, InstanceState, HealthReport, IdleReport } from './engine.js';
export type { EngineOptions, EffectWorkerOptions, TimerWorkerOptions, WorkerOptions } from './options.js';
export { register, sendTo, isRoutedInput } from './registration.js';
export type { EffectContext, EffectHandler, EffectHandlerOf, Registration, RoutedInput } from './registration.js';
export { consoleLogger, silentLogger } from './lifecycle.js';
export type { LifecycleEvent, LifecycleEventType, LifecycleListener, Logger } from './lifecycle.js';
export type { PoolHealth } from './worker-pool.js';
export { uuidv7 } from './ids.js';
