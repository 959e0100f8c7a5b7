import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBundle, encodeMessage, msToTimetag } from '../../../adapters/osc/codec.js';
import { systemClock } from '../../../daemon/bus/index.js';
import { type DaemonProcess, spawnDaemon, tempDir, untilReady } from '../../helpers/process.js';

// Timing is measured inside the daemon, run as a process of its own: the test runner's own work
// delays this process's timers by milliseconds, which says nothing about the daemon.
let d: DaemonProcess | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  if (d !== undefined && d.proc.exitCode === null) {
    d.proc.kill('SIGTERM');
    await d.exited;
  }
  cleanup?.();
});

interface OscDetails {
  listeners: { port: number }[];
  held: number;
  released: number;
  heldLateMaxMs: number;
  heldLateMinMs: number | null;
  heldLateRecentCount: number;
  heldLateRecentP50Ms: number;
  heldLateRecentP90Ms: number;
  heldLateRecentMaxMs: number;
}

describe('future-timetag bundles', () => {
  // A VM can take the CPU away from the daemon for a few ms at any moment (see the scheduler's tests),
  // which no code in the daemon can help. So: never early, every one; on time at the median; within
  // 2 ms for 29 of the last 32 (the 90th percentile). A retry tells a burst of stalls from a daemon
  // late every time.
  it('are published within 2 ms of their time, never before it', { retry: 2 }, async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = t.file(
      'osc.yaml',
      'log:\n  pretty: never\nosc:\n  listen:\n    host: 127.0.0.1\n    port: 0\n',
    );
    d = spawnDaemon(['--config', file]);
    const ready = await d.waitFor((l) => String(l.msg).startsWith('performia ready'));
    const url = ready.api as string;
    await untilReady(url);
    const details = async (): Promise<OscDetails> => {
      const adapters = (await (await fetch(`${url}/adapters`)).json()) as {
        name: string;
        details: OscDetails;
      }[];
      return (adapters.find((a) => a.name === 'osc') as { details: OscDetails }).details;
    };
    const port = (await details()).listeners[0]?.port as number;
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    /** Sends `n` bundles due 40 ms from now on, 11.3 ms apart, and waits until all are released. */
    const round = async (n: number, released: number): Promise<OscDetails> => {
      const t0 = systemClock();
      for (let i = 0; i < n; i++) {
        const due = t0 + 40 + i * 11.3;
        const bytes = encodeBundle(msToTimetag(due), [encodeMessage('/later', [{ type: 'i', value: i }])]);
        await new Promise<void>((r) => socket.send(bytes, port, '127.0.0.1', () => r()));
      }
      // Poll only once the last bundle is due: a request served while a bundle falls due would delay
      // it, and the test would measure its own polling.
      const lastDue = t0 + 40 + (n - 1) * 11.3;
      await new Promise((r) => setTimeout(r, Math.max(0, lastDue - systemClock()) + 50));
      let last = await details();
      const end = Date.now() + 10_000;
      while (last.released < released + n && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
        last = await details();
      }
      return last;
    };
    // A first round right after start-up pays for start-up itself (its garbage collections, code not yet
    // compiled); the figure that matters on stage is the steady one, over the 32 bundles after it.
    await round(16, 0);
    const last = await round(32, 16);
    socket.close();
    expect(last.held).toBe(48);
    expect(last.released).toBe(48);
    expect(last.heldLateMinMs).toBeGreaterThanOrEqual(0);
    expect(last.heldLateRecentCount).toBe(32);
    expect(last.heldLateRecentP50Ms).toBeLessThan(0.5);
    expect(last.heldLateRecentP90Ms).toBeLessThan(2);
  });
});
