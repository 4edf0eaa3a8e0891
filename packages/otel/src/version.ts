// The package's name and version, for the tracer and meter scope; read from package.json so a
// release never needs a second edit.
import packageJson from '../package.json' with { type: 'json' };

/** The instrumentation scope name of every tracer and meter this package creates. */
export const SCOPE_NAME = '@ironflow/otel';

/** This package's version. */
export const SCOPE_VERSION: string = packageJson.version;
