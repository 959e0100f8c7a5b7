/**
 * No audio device (this machine has none: `new AudioContext()` throws DeviceNotAvailable): the adapter
 * degrades to the `none` sink — in a child process, as every real-time engine with `isolation: auto` —
 * or fails, as config says; and whatever the audio stack prints, the daemon's stdout holds only its
 * JSON log lines.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioAdapter, type AudioSettings } from '../../../adapters/audio/audio-adapter.js';
import { ChildEngine } from '../../../adapters/audio/child-engine.js';
import { MessageBus, silentLogger, systemClock } from '../../../daemon/bus/index.js';
import { hasCode } from '../../../daemon/kernel/errors.js';
import { Scheduler } from '../../../daemon/kernel/scheduler.js';
import { idle } from '../../helpers/bus.js';
import { memoryLogger } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';
import { CHILD, here, TS_REGISTER as register, SETTINGS } from './setup.js';

const run = promisify(execFile);
const DEVICE: AudioSettings = { ...SETTINGS, sinkId: 'default', isolation: 'auto' };

/** Whether this machine can open the default output (then the no-device tests do not apply). */
async function hasDevice(): Promise<boolean> {
  const { stderr } = await run(process.execPath, [
    '-e',
    `const { AudioContext } = require('node-web-audio-api');
     try { new AudioContext().close().then(() => process.stderr.write('\\nDEVICE')); } catch {}`,
  ]);
  return stderr.includes('\nDEVICE');
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function adapterWith(settings: AudioSettings, logger = silentLogger) {
  const bus = new MessageBus({ clock: systemClock });
  await bus.start();
  const scheduler = new Scheduler({ clock: systemClock });
  const adapter = new AudioAdapter(settings, bus, scheduler, logger, { child: CHILD });
  cleanup.push(async () => {
    await adapter.stop();
    scheduler.stop();
    await bus.stop();
  });
  return { bus, adapter };
}

const noDevice = !(await hasDevice());

describe.runIf(noDevice)('audio adapter without an output device', () => {
  it('degrades to the none sink in a child process, says so once, and plays on its running clock', async () => {
    const { logger, lines } = memoryLogger();
    const { bus, adapter } = await adapterWith(DEVICE, logger);
    await adapter.start();
    const h = adapter.health();
    expect(h.state).toBe('degraded');
    expect(h.reason).toMatch(
      /Audio output default cannot be opened: .*DeviceNotAvailable.*; playing on the none sink/,
    );
    expect(h.details).toMatchObject({ sinkId: 'default', sink: 'none', isolation: 'process' });
    const warnings = lines.filter((l) => l.code === 'PFM_ERR_AUDIO_DEVICE');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/Playing on the 'none' sink: the audio clock runs, nothing is heard/);
    // The engine's noise (cpal's JACK probe on stdout, ALSA on stderr) came through the log, at debug.
    expect(lines.some((l) => l.level === 20 && /libjack|ALSA/.test(String(l.line)))).toBe(true);
    const engine = adapter.currentEngine as ChildEngine;
    expect(engine).toBeInstanceOf(ChildEngine);
    expect(engine.pid).not.toBe(process.pid);
    // Its clock runs: readings (each a round trip to the child) move within a render quantum or two.
    const t0 = (await engine.sample(systemClock)).audioTime;
    const deadline = Date.now() + 2000;
    let t1 = t0;
    while (t1 <= t0 && Date.now() < deadline) t1 = (await engine.sample(systemClock)).audioTime;
    expect(t1).toBeGreaterThan(t0);
    bus.publish({
      type: 'play_note',
      payload: { note: 45, velocity: 100, duration: 0.1, channel: 2 },
      at: systemClock() + 50,
    });
    await idle(bus);
    expect(adapter.counters.scheduled).toBe(1);
    // The voice count comes back with the next clock reading (every 100 ms here).
    await until(() => adapter.health().details?.voices === 1, 'the fallback counts the voice');
  });

  it('retries the device in fresh processes, keeping the one fallback context', async () => {
    const { adapter } = await adapterWith({ ...DEVICE, retryMs: 100 });
    await adapter.start();
    const fallback = adapter.currentEngine as ChildEngine;
    const pid = fallback.pid;
    const deadline = Date.now() + 10_000;
    while (adapter.counters.retries < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(adapter.counters.retries).toBeGreaterThanOrEqual(2);
    expect(adapter.currentEngine).toBe(fallback);
    expect(fallback.pid).toBe(pid);
    expect(adapter.health().state).toBe('degraded');
  });

  it('fails with PFM_ERR_AUDIO_DEVICE when onMissingDevice is fail', async () => {
    const { adapter } = await adapterWith({ ...DEVICE, onMissingDevice: 'fail' });
    expect(adapter.critical).toBe(true);
    const err = await adapter.start().catch((e: unknown) => e);
    expect(hasCode(err, 'PFM_ERR_AUDIO_DEVICE')).toBe(true);
    expect(adapter.health().state).toBe('failed');
    expect(adapter.health().reason).toMatch(/DeviceNotAvailable/);
  });

  it('fails when a device id names no output (checked in the audio process)', async () => {
    const engine = new ChildEngine({ ...engineOptions(), sinkId: 'no-such-device' }, silentLogger, CHILD);
    const err = await engine.open().catch((e: unknown) => e);
    expect(hasCode(err, 'PFM_ERR_AUDIO_DEVICE')).toBe(true);
    expect((err as Error).message).toMatch(/no audio output with id no-such-device/);
    await engine.close();
  });
});

function engineOptions() {
  return {
    sinkId: 'none',
    latencyHint: 'balanced' as const,
    band: { masterGain: 0.5, instruments: {}, otherChannels: 'lead' as const, seed: 1, maxVoices: 16 },
  };
}

describe('stdout stays JSON log lines', () => {
  it('node-web-audio-api itself prints on stdout when it looks for a device, not for the none sink', async () => {
    const probe = (sink: string) =>
      run(process.execPath, [
        '-e',
        `const { AudioContext } = require('node-web-audio-api');
         try { const c = new AudioContext(${sink}); c.close(); } catch {}`,
      ]);
    const none = await probe("{ sinkId: 'none' }");
    expect(none.stdout).toBe('');
    const device = await probe('');
    // Where no JACK server runs (here, and on most machines), cpal's JACK probe prints this.
    if (device.stdout !== '') expect(device.stdout).toMatch(/Failed to open client because of error/);
  });

  it("the adapter on the default device leaves the process's stdout to its JSON log", async () => {
    const { stdout } = await run(process.execPath, ['--import', register, here('./stdout-probe.mjs')], {
      timeout: 30_000,
    });
    const lines = stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r.msg === 'probe health')).toBe(true);
    expect(stdout).not.toMatch(/^Failed to open client/m);
  });
});
