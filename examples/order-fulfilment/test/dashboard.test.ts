// The demo dashboard's authorize: only requests addressed to this machine by a loopback name, so a
// page that a DNS-rebinding attack points at 127.0.0.1 under its own name cannot act.
import { describe, expect, it } from 'vitest';
import { loopbackOnly } from '../src/dashboard.js';

describe('the demo dashboard', () => {
  it('allows actions addressed to 127.0.0.1, localhost or [::1], and no other host name', () => {
    for (const url of ['http://127.0.0.1:4400/paused', 'http://localhost:4400/', 'http://[::1]:4400/']) expect(loopbackOnly(new Request(url))).toBe(true);
    for (const url of ['http://evil.example:4400/', 'http://127.0.0.1.evil.example/', 'http://10.0.0.1:4400/']) expect(loopbackOnly(new Request(url))).toBe(false);
  });
});
