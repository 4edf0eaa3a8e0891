// How integration tests find their servers: IRONFLOW_TEST_<STORE>_URL, and IRONFLOW_TEST_REQUIRE
// naming the stores whose suites must run (CI), so a missing server fails instead of skipping.
import { IronflowError } from '@ironflow/core';

/** Backends whose integration suites read a server URL from the environment. */
export type TestBackend = 'postgres' | 'redis' | 'redis-cluster';

/**
 * The server URL for `backend` from `IRONFLOW_TEST_<BACKEND>_URL` (`redis-cluster`:
 * `IRONFLOW_TEST_REDIS_CLUSTER_URL`, comma-separated node URLs), or undefined to skip.
 * Throws when `IRONFLOW_TEST_REQUIRE` names the backend and no URL is set.
 */
export function testServerUrl(backend: TestBackend): string | undefined {
  const variable = `IRONFLOW_TEST_${backend.toUpperCase().replace('-', '_')}_URL`;
  const url = process.env[variable]?.trim();
  if (url) return url;
  const required = (process.env.IRONFLOW_TEST_REQUIRE ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (required.includes(backend)) {
    throw new IronflowError(
      'INVALID_ARGUMENT',
      `IRONFLOW_TEST_REQUIRE names "${backend}" but ${variable} is not set`,
    );
  }
  return undefined;
}

let counter = 0;
/** A fresh lower-case identifier such as `ironflow_t_k3j2h1_1`, safe as a schema name or key prefix. */
export function uniqueName(prefix = 'ironflow_t'): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}_${counter}`;
}
