export { openTelemetry } from './open-telemetry.js';
export type { OpenTelemetryInstrumentation, OpenTelemetryOptions } from './open-telemetry.js';
export { COMMIT_EVENT, SPAN_ATTRIBUTES } from './attributes.js';
export { SECONDS_BUCKETS } from './engine-metrics.js';
