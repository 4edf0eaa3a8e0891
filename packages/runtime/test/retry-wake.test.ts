// RetryWake pokes the effect pool when a retry falls due — by the engine's clock, not by when a
// timer happened to fire.
import { describe, expect, it } from 'vitest';
import { RetryWake } from '../src/settle.js';

describe('RetryWake', () => {
  it('a timer that fires before the clock reads the retry time waits out the rest instead of poking early', async () => {
    // The clock lags the timer: it reads `at - 1` when the first timer fires, `at` afterwards.
    let reads = 0;
    const at = 1_000;
    const now = () => (reads++ < 2 ? at - 1 : at);
    const wake = new RetryWake(now);
    const pokes: number[] = [];
    const poked = new Promise<void>((resolve) => wake.attach(() => {
      pokes.push(reads);
      resolve();
    }));
    wake.schedule(at);
    await poked;
    // Poked once, and only after the clock had reached `at`.
    expect(pokes).toHaveLength(1);
    expect(reads).toBeGreaterThanOrEqual(3);
    wake.detach();
  });
});
