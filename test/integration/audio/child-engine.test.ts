/**
 * The audio engine in a child process (what the daemon uses for every real-time engine), here on the
 * `none` sink so it runs without a device: the clock mapping across the process hop, playing, the
 * child's failure (and the fallback's), and no child left behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioAdapter } from '../../../adapters/audio/audio-adapter.js';
import { ChildEngine } from '../../../adapters/audio/child-engine.js';
import { MessageBus, silentLogger, systemClock } from '../../../daemon/bus/index.js';
import { Scheduler } from '../../../daemon/kernel/scheduler.js';
import { idle } from '../../helpers/bus.js';
import { CHILD, SETTINGS } from './setup.js';

const QUANTUM_S = 128 / 48_000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function start() {
  const bus = new MessageBus({ clock: systemClock });
  await bus.start();
  const scheduler = new Scheduler({ clock: systemClock });
  const adapter = new AudioAdapter({ ...SETTINGS, isolation: 'process' }, bus, scheduler, silentLogger, {
    child: CHILD,
  });
  cleanup.push(async () => {
    await adapter.stop();
    scheduler.stop();
    await bus.stop();
  });
  await adapter.start();
  return { bus, adapter };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('audio engine in a child process', () => {
  it('maps the bus clock onto the child’s audio clock across the process hop, and plays', async () => {
    const { bus, adapter } = await start();
    expect(adapter.health()).toMatchObject({ state: 'ok', details: { isolation: 'process', sink: 'none' } });
    const engine = adapter.currentEngine as ChildEngine;
    expect(engine).toBeInstanceOf(ChildEngine);
    // Fresh readings through the same hop: the audio clock sits at or under the mapping, within a
    // quantum plus half the round trip (the reading's own uncertainty).
    const errors: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await engine.sample(systemClock);
      errors.push(s.audioTime - adapter.mapping.toAudio(s.busTime));
      await new Promise((r) => setTimeout(r, 5));
    }
    const ok = errors.filter((e) => e < 0.001 && e > -QUANTUM_S - 0.001).length;
    expect(ok / errors.length).toBeGreaterThanOrEqual(0.9);
    expect(adapter.mapping.snapshot().rttMs).toBeLessThan(5);
    // The periodic readings (every 100 ms here) keep coming through the hop and are used.
    const used = adapter.mapping.snapshot().samples;
    await until(() => adapter.mapping.snapshot().samples >= used + 3);
    bus.publish({
      type: 'play_chord',
      payload: { notes: [57, 60], velocity: 100, duration: 0.2, channel: 3 },
      at: systemClock() + 100,
    });
    await idle(bus);
    expect(adapter.counters.scheduled).toBe(1);
    // The voice count travels back with the next clock reading (every 100 ms here).
    await until(() => adapter.health().details?.voices === 2);
  });

  it('falls back to the none sink in a fresh audio process when the audio process dies, and says why', async () => {
    const { adapter } = await start();
    const first = adapter.currentEngine as ChildEngine;
    const pid = first.pid!;
    process.kill(pid, 'SIGKILL');
    await until(() => adapter.currentEngine !== undefined && adapter.currentEngine !== first);
    const fallback = adapter.currentEngine as ChildEngine;
    expect(fallback).toBeInstanceOf(ChildEngine);
    expect(fallback.pid).not.toBe(pid);
    expect(alive(fallback.pid!)).toBe(true);
    expect(adapter.health().state).toBe('degraded');
    expect(adapter.health().reason).toMatch(/the audio engine process exited \(signal SIGKILL\)/);
    expect(adapter.health().details).toMatchObject({ sink: 'none', isolation: 'process' });
  });

  it('replaces a fallback whose process dies with a new one, and plays on it', async () => {
    const { bus, adapter } = await start();
    const device = adapter.currentEngine as ChildEngine;
    process.kill(device.pid!, 'SIGKILL');
    await until(() => adapter.currentEngine !== undefined && adapter.currentEngine !== device);
    const fallback = adapter.currentEngine as ChildEngine;
    process.kill(fallback.pid!, 'SIGKILL');
    await until(() => adapter.currentEngine !== undefined && adapter.currentEngine !== fallback);
    const second = adapter.currentEngine as ChildEngine;
    expect(second.pid).not.toBe(fallback.pid);
    expect(adapter.health()).toMatchObject({ state: 'degraded', details: { sink: 'none' } });
    bus.publish({
      type: 'play_note',
      payload: { note: 57, velocity: 100, duration: 0.1, channel: 1 },
      at: systemClock() + 100,
    });
    await idle(bus);
    expect(adapter.counters.scheduled).toBe(1);
    await until(() => second.stats().voices === 1);
  });

  it('leaves no audio process behind when stopped', async () => {
    const { adapter } = await start();
    const pid = (adapter.currentEngine as ChildEngine).pid!;
    expect(alive(pid)).toBe(true);
    await adapter.stop();
    expect(alive(pid)).toBe(false);
  });
});
