/**
 * The real-time path on the `none` sink (no device needed): messages on a real bus, the adapter's
 * clock mapping, and what the audio engine actually renders, observed on the audio clock by an
 * AudioWorklet tap on the band's output (onset-processor.mjs). The tap reports the frame at which
 * sound starts: that is compared with the mapping's time for the message's `at`.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioAdapter, type AudioSettings } from '../../../adapters/audio/audio-adapter.js';
import type { LocalEngine } from '../../../adapters/audio/engine.js';
import { webAudio } from '../../../adapters/audio/web-audio.js';
import { MessageBus, silentLogger, systemClock } from '../../../daemon/bus/index.js';
import { Scheduler } from '../../../daemon/kernel/scheduler.js';
import { idle } from '../../helpers/bus.js';
import { Sightings } from '../../helpers/waiting.js';
import { SETTINGS } from './setup.js';

const QUANTUM_S = 128 / 48_000;

interface Tap {
  kind: 'onset' | 'silence';
  /** Seconds on the audio clock. */
  time: number;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(overrides: Partial<AudioSettings> = {}, tap = true) {
  const bus = new MessageBus({ clock: systemClock, clockReuse: 1 });
  await bus.start();
  const scheduler = new Scheduler({ clock: systemClock });
  const adapter = new AudioAdapter({ ...SETTINGS, ...overrides }, bus, scheduler, silentLogger);
  cleanup.push(async () => {
    await adapter.stop();
    scheduler.stop();
    await bus.stop();
  });
  await adapter.start();
  const graph = (adapter.currentEngine as LocalEngine).graph!;
  const { context, band } = graph;
  if (!tap) return { bus, adapter, context, waitTap: () => Promise.reject(new Error('no tap')) };
  await context.audioWorklet.addModule(fileURLToPath(new URL('./onset-processor.mjs', import.meta.url)));
  const node = new (webAudio().AudioWorkletNode)(context, 'onset-processor', {
    numberOfInputs: 1,
    numberOfOutputs: 0,
    processorOptions: { quietFrames: 480 },
  });
  band.output.connect(node);
  const taps = new Sightings<Tap>();
  node.port.onmessage = (e) => {
    const d = e.data as { kind: Tap['kind']; frame: number };
    taps.add({ kind: d.kind, time: d.frame / context.sampleRate });
  };
  const waitTap = (kind: Tap['kind'], after: number) =>
    taps.waitFor(
      (t) => t.kind === kind && t.time >= after,
      5000,
      () => JSON.stringify(taps.seen),
    );
  return { bus, adapter, context, waitTap };
}

describe('audio adapter, real time on the none sink', () => {
  it('starts a play_note with `at` on the audio clock at the mapped time, within one render quantum', async () => {
    const { bus, adapter, waitTap } = await setup();
    for (const ahead of [150, 230.4, 310.9]) {
      const at = systemClock() + ahead;
      bus.publish({
        type: 'play_note',
        payload: { note: 57, velocity: 110, duration: 0.05, channel: 1 },
        at,
      });
      await idle(bus);
      // Where the mapping put `at` when the adapter scheduled the note (it moves by µs meanwhile).
      const expected = adapter.mapping.toAudio(at);
      const onset = await waitTap('onset', expected - 0.05);
      expect(Math.abs(onset.time - expected)).toBeLessThanOrEqual(QUANTUM_S);
      await waitTap('silence', onset.time);
    }
    expect(adapter.counters).toMatchObject({ received: 3, scheduled: 3, late: 0, immediate: 0 });
  });

  it("maps the bus clock onto the context's clock: currentTime reads the mapped time, within a quantum", async () => {
    const { adapter, context } = await setup({}, false);
    const errors: number[] = [];
    for (let i = 0; i < 40; i++) {
      const before = systemClock();
      const audio = context.currentTime;
      const after = systemClock();
      errors.push(audio - adapter.mapping.toAudio((before + after) / 2));
      await new Promise((r) => setTimeout(r, 3 + (i % 5)));
    }
    // The mapping is the audio clock's schedule: `currentTime` (the end of what is rendered) is never
    // ahead of it, and behind it by less than the quantum it advances by — or by more while the `none`
    // sink's render thread is late, which on a busy machine happens now and then (hence 90 %).
    for (const e of errors) expect(e).toBeLessThan(0.001);
    const within = errors.filter((e) => e >= -QUANTUM_S - 0.0002).length;
    expect(within / errors.length).toBeGreaterThanOrEqual(0.9);
    const clock = adapter.health().details?.clock as Record<string, number>;
    expect(clock.samples).toBeGreaterThanOrEqual(16);
    expect(typeof clock.driftPpm).toBe('number');
    expect(typeof clock.lastCorrectionMs).toBe('number');
  });

  it('plays a message without `at` at once, and a late one at once, counted late', async () => {
    const { bus, adapter, context, waitTap } = await setup();
    let now = context.currentTime;
    bus.publish({ type: 'play_drums', payload: { hits: ['kick'], velocity: 110 } });
    let onset = await waitTap('onset', now);
    // At once: in the next quanta (the limiter delays 384 frames: 3 quanta).
    expect(onset.time - now).toBeLessThan(0.03);
    await waitTap('silence', onset.time);
    now = context.currentTime;
    bus.publish({ type: 'play_drums', payload: { hits: ['kick'], velocity: 110 }, at: systemClock() - 500 });
    onset = await waitTap('onset', now);
    expect(onset.time - now).toBeLessThan(0.03);
    expect(adapter.counters).toMatchObject({ immediate: 1, late: 1, scheduled: 0 });
    expect(adapter.health().details?.lateMaxMs).toBeGreaterThan(490);
  });

  it('panic silences what sounds and what is scheduled', async () => {
    const { bus, adapter, context, waitTap } = await setup();
    const t = systemClock();
    bus.publish({
      type: 'play_chord',
      payload: { notes: [57, 60, 64], velocity: 100, duration: 3, channel: 3 },
      at: t + 50,
    });
    bus.publish({ type: 'play_drums', payload: { hits: ['kick'], velocity: 100 }, at: t + 600 });
    const onset = await waitTap('onset', 0);
    bus.publish({ type: 'panic', payload: { reason: 'test' } });
    const panicAt = context.currentTime;
    const silence = await waitTap('silence', onset.time);
    expect(silence.time - panicAt).toBeLessThan(0.05);
    // The kick scheduled after the panic never sounds.
    await new Promise((r) => setTimeout(r, 800));
    expect(adapter.health().details?.voicesActive).toBe(0);
    await expect(waitTap('onset', silence.time + 0.001)).rejects.toThrow();
    expect(adapter.counters.panics).toBe(1);
    // A transport stop silences too; a malformed transport message is ignored.
    bus.publish({ type: 'transport', payload: { state: 'stop', position: 0 } });
    bus.publish({ type: 'transport', payload: null as never });
    await idle(bus);
    expect(adapter.counters.panics).toBe(2);
  });

  it('bounds the voices under a flood and counts what it drops', async () => {
    const { bus, adapter } = await setup({ maxVoices: 16 });
    const t = systemClock();
    for (let i = 0; i < 2000; i++) {
      bus.publish({ type: 'play_drums', payload: { hits: ['hat'], velocity: 90 }, at: t + 100 + (i % 50) });
    }
    await idle(bus);
    const d = adapter.health().details as Record<string, number>;
    expect(d.received).toBe(2000);
    expect(d.voices).toBe(16);
    expect(d.dropped).toBe(2000 - 16);
    expect(d.voicesActive).toBeLessThanOrEqual(16);
    expect(adapter.health().state).toBe('ok');
  });

  it('counts a malformed play message as invalid and plays on', async () => {
    const { bus, adapter } = await setup();
    bus.publish({ type: 'play_note', payload: { note: 300 } as never });
    await new Promise((r) => setTimeout(r, 20));
    expect(adapter.counters.invalid).toBe(1);
    expect(adapter.health().state).toBe('ok');
  });

  it('stops twice, and stops before start, cleanly', async () => {
    const bus = new MessageBus({ clock: systemClock });
    const scheduler = new Scheduler({ clock: systemClock });
    const adapter = new AudioAdapter(SETTINGS, bus, scheduler, silentLogger);
    await adapter.stop();
    expect(adapter.health().state).toBe('stopped');
    const second = new AudioAdapter(SETTINGS, bus, scheduler, silentLogger);
    await bus.start();
    await second.start();
    const a = second.stop();
    expect(second.stop()).toBe(a);
    await a;
    expect(second.health().state).toBe('stopped');
    scheduler.stop();
    await bus.stop();
  });
});
