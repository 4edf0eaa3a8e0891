// Headless Chromium for the browser tests: Debian's `chromium` (installed by .ci/run), driven by
// playwright-core, which downloads no browser of its own. Without it the suite is skipped visibly,
// and fails when IRONFLOW_TEST_REQUIRE names chromium (as CI sets it).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where the browser is: IRONFLOW_TEST_CHROMIUM, or Debian's package. */
export const CHROMIUM_PATH = process.env.IRONFLOW_TEST_CHROMIUM?.trim() || '/usr/bin/chromium';

/** Flags for a quiet, offline, container-friendly run. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const required = (process.env.IRONFLOW_TEST_REQUIRE ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .includes('chromium');

/** True when the browser tests can run; throws when they must but cannot. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (required) throw new Error(`IRONFLOW_TEST_REQUIRE names chromium but there is no browser at ${CHROMIUM_PATH} (apt-get install chromium, or set IRONFLOW_TEST_CHROMIUM)`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 120_000 });
}
