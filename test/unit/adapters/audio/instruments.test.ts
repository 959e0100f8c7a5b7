import { describe, expect, it } from 'vitest';
import { KIT } from '../../../../adapters/audio/drum-kit.js';
import type { PlayEvent } from '../../../../adapters/audio/events.js';
import {
  Band,
  type BandSettings,
  eventSeconds,
  limiterDelayFrames,
  seededNoise,
  Voices,
} from '../../../../adapters/audio/instruments.js';
import { midiToHz, velocityGain } from '../../../../adapters/audio/voice.js';
import { webAudio } from '../../../../adapters/audio/web-audio.js';
import { fundamental, onsets, peak, peakIn } from './analysis.js';

const RATE = 48_000;
const settings: BandSettings = {
  masterGain: 0.5,
  instruments: { '2': 'bass', '3': 'pad', '10': 'kit' },
  otherChannels: 'lead',
  seed: 1,
  maxVoices: 256,
};
const drums = (hits: string[], velocity = 100): PlayEvent => ({ kind: 'drums', hits, velocity });
const notes = (n: number[], channel: number, duration = 0.5, velocity = 100): PlayEvent => ({
  kind: 'notes',
  notes: n,
  velocity,
  duration,
  channel,
});

/** Renders `play` on an offline context of `seconds`; returns channel 0 and what play returned. */
async function render(seconds: number, play: (ctx: ReturnType<typeof offline>) => unknown) {
  const ctx = offline(seconds);
  const returned = play(ctx);
  const buffer = await ctx.startRendering();
  return { ch: buffer.getChannelData(0), returned };
}
const offline = (seconds: number) =>
  new (webAudio().OfflineAudioContext)({
    numberOfChannels: 2,
    length: Math.round(seconds * RATE),
    sampleRate: RATE,
  });

describe('instruments', () => {
  it('maps notes and velocities', () => {
    expect(midiToHz(69)).toBe(440);
    expect(midiToHz(45)).toBeCloseTo(110, 10);
    expect(velocityGain(0)).toBe(0);
    expect(velocityGain(127)).toBe(1);
    expect(velocityGain(64)).toBeLessThan(0.3);
  });

  it('every drum of the kit sounds, and is silent (under -100 dBFS) after eventSeconds', async () => {
    for (const name of Object.keys(KIT)) {
      const e = drums([name]);
      const { ch } = await render(eventSeconds(e, settings) + 0.5, (ctx) => {
        new Voices(ctx, settings, ctx.destination).play(e, 0.1);
      });
      expect(peakIn(ch, 0, ch.length), name).toBeGreaterThan(0.01);
      expect(peakIn(ch, Math.ceil((0.1 + eventSeconds(e, settings)) * RATE), ch.length), name).toBeLessThan(
        1e-5,
      );
    }
  });

  it('every melodic instrument is silent (under -100 dBFS) after eventSeconds', async () => {
    for (const channel of [1, 2, 3]) {
      const e = notes([60], channel, 0.3);
      const { ch } = await render(eventSeconds(e, settings) + 0.6, (ctx) => {
        new Voices(ctx, settings, ctx.destination).play(e, 0.1);
      });
      expect(peakIn(ch, 0, ch.length)).toBeGreaterThan(0.01);
      expect(peakIn(ch, Math.ceil((0.1 + eventSeconds(e, settings)) * RATE), ch.length)).toBeLessThan(1e-5);
    }
  });

  it('plays General MIDI drum notes on a kit channel, and counts unknown hits', async () => {
    let v: Voices | undefined;
    const { ch, returned } = await render(1, (ctx) => {
      v = new Voices(ctx, settings, ctx.destination);
      return v.play(notes([36, 38, 100], 10), 0) + v.play(drums(['kick', 'gong']), 0.5);
    });
    expect(returned).toBe(3);
    expect(v?.counters.unknownHits).toBe(2);
    expect(onsets(ch, RATE, 0.01, 20)).toHaveLength(2);
  });

  it('a louder velocity plays louder; velocity 0 plays nothing', async () => {
    const level = async (velocity: number) =>
      peak([
        (
          await render(0.5, (ctx) =>
            new Voices(ctx, settings, ctx.destination).play(drums(['kick'], velocity), 0),
          )
        ).ch,
      ]);
    const [soft, loud, none] = [await level(40), await level(127), await level(0)];
    expect(loud).toBeGreaterThan(soft * 3);
    expect(none).toBe(0);
  });

  it('keeps at most maxVoices voices and counts the dropped ones', async () => {
    let v: Voices | undefined;
    await render(0.5, (ctx) => {
      v = new Voices(ctx, { ...settings, maxVoices: 4 }, ctx.destination);
      for (let i = 0; i < 10; i++) v.play(drums(['hat']), 0.01 * i);
    });
    expect(v?.counters).toEqual({ voices: 4, dropped: 6, unknownHits: 0 });
  });

  it('silence() cuts what is sounding and what is scheduled, and plays on after', async () => {
    const { ch, returned } = await render(2, (ctx) => {
      const band = new Band(ctx, settings);
      band.play(notes([45], 2, 1.5), 0);
      band.play(drums(['crash']), 0.8);
      band.silence();
      band.play(drums(['kick']), 1.2);
      return band.activeVoices();
    });
    const delay = limiterDelayFrames(RATE);
    expect(returned).toBe(1);
    expect(peakIn(ch, delay + 0.05 * RATE, delay + 1.2 * RATE)).toBe(0);
    expect(peakIn(ch, delay + 1.2 * RATE, ch.length)).toBeGreaterThan(0.05);
  });

  it('the band delays by its limiter look-ahead, and plays a bass note at its pitch', async () => {
    const { ch } = await render(1.5, (ctx) => new Band(ctx, settings).play(notes([45], 2, 1), 0.2));
    const delay = limiterDelayFrames(RATE);
    expect(delay).toBe(384);
    // The first frame at or after 0.2 s starts the attack from 0: the first non-zero sample is the next.
    expect(onsets(ch, RATE, 0.001)[0]).toBe(0.2 * RATE + delay + 1);
    expect(fundamental(ch, RATE, Math.round(0.4 * RATE), 32768)).toBeCloseTo(110, 0);
  });

  it('makes the same noise for the same seed', () => {
    const ctx = offline(1);
    const a = seededNoise(ctx, 42);
    const b = seededNoise(ctx, 42);
    const samples = (s: ReturnType<typeof seededNoise>) => Buffer.from(s.noise.getChannelData(0).buffer);
    expect(samples(a).equals(samples(b))).toBe(true);
    expect(a.random()).toBe(b.random());
    expect(samples(seededNoise(ctx, 43)).equals(samples(a))).toBe(false);
  });
});
