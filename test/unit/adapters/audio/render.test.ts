import { describe, expect, it } from 'vitest';
import type { BandSettings } from '../../../../adapters/audio/instruments.js';
import { type RenderMessage, renderOffline } from '../../../../adapters/audio/render.js';
import { hasCode } from '../../../../daemon/kernel/errors.js';
import { dbfs, fundamental, onsets, peak, peakIn } from './analysis.js';
import { chord, denseBand, drums, note } from './fixtures.js';

const RATE = 48_000;
const band: Omit<BandSettings, 'maxVoices'> = {
  masterGain: 0.5,
  instruments: { '2': 'bass', '3': 'pad' },
  otherChannels: 'lead',
  seed: 1,
};

describe('offline render', () => {
  it('plays bass note 45 at 110 Hz (± 2 %)', async () => {
    const r = await renderOffline({ duration: 1.5, band, messages: [note(45, 100, 2, 1.2)] });
    const f = fundamental(r.channels[0]!, RATE, Math.round(0.3 * RATE));
    expect(Math.abs(f - 110) / 110).toBeLessThan(0.02);
    expect(r.voices).toBe(1);
  });

  it('plays each channel by its instrument: a lead on channel 1 at its pitch', async () => {
    const r = await renderOffline({ duration: 1, band, messages: [note(69, 0, 1, 0.8)] });
    const f = fundamental(r.channels[0]!, RATE, Math.round(0.1 * RATE), 16384, 100, 2000);
    expect(Math.abs(f - 440) / 440).toBeLessThan(0.02);
  });

  it('starts kicks within 1 ms of their scheduled times', async () => {
    const times = [0, 500, 1000, 1500.3, 2000.7, 2510, 3000];
    const r = await renderOffline({ duration: 3.6, band, messages: times.map((t) => drums(['kick'], t)) });
    const found = onsets(r.channels[0]!, RATE, 0.01, 20).map((f) => (f / RATE) * 1000);
    expect(found).toHaveLength(times.length);
    found.forEach((t, i) => {
      expect(Math.abs(t - times[i]!)).toBeLessThan(1);
    });
  });

  it('stays under 0 dBFS for a loud dense chord and every drum at once', async () => {
    const all = ['kick', 'snare', 'clap', 'rim', 'hat', 'openhat', 'tom', 'crash', 'ride', 'cowbell'];
    const messages: RenderMessage[] = [];
    for (let t = 0; t < 1000; t += 250) {
      messages.push(drums(all, t, 127));
      messages.push(chord([36, 40, 43, 47, 48, 52, 55, 59, 60, 64], t, 3, 127));
      messages.push(chord([33, 45, 57], t, 2, 127));
      messages.push(chord([72, 76, 79, 83], t, 1, 127));
    }
    const r = await renderOffline({ duration: 2, band: { ...band, masterGain: 1 }, messages });
    const p = peak(r.channels);
    expect(p).toBeGreaterThan(0.5); // loud indeed
    expect(dbfs(p)).toBeLessThan(0);
  });

  it('is silent where nothing is scheduled', async () => {
    const r = await renderOffline({
      duration: 4,
      band,
      messages: [
        drums(['kick', 'snare', 'hat'], 0),
        note(45, 0, 2, 0.5),
        chord([57, 60, 64], 0, 3, 100, 0.5),
      ],
    });
    // The pad's release is the longest tail: 6 time constants after its note off (0.5 + 1.2 s).
    const ch = r.channels[0]!;
    expect(peakIn(ch, 0, RATE)).toBeGreaterThan(0.05);
    expect(peakIn(ch, Math.round(2 * RATE), ch.length)).toBe(0);
    const before = await renderOffline({ duration: 1, band, messages: [drums(['kick'], 600)] });
    expect(peakIn(before.channels[0]!, 0, Math.round(0.6 * RATE) - 1)).toBe(0);
  });

  it('renders the same samples for the same seed, and other noise for another seed', async () => {
    const messages = denseBand(3);
    const a = await renderOffline({ duration: 3, band, messages });
    const b = await renderOffline({ duration: 3, band, messages });
    const c = await renderOffline({ duration: 3, band: { ...band, seed: 2 }, messages });
    for (let ch = 0; ch < 2; ch++) {
      expect(Buffer.from(a.channels[ch]!.buffer).equals(Buffer.from(b.channels[ch]!.buffer))).toBe(true);
    }
    expect(Buffer.from(a.channels[0]!.buffer).equals(Buffer.from(c.channels[0]!.buffer))).toBe(false);
  });

  it('reports messages it cannot play and times outside the render', async () => {
    const r = await renderOffline({
      duration: 1,
      band,
      messages: [
        { type: 'play_note', payload: { note: 200, velocity: 100, duration: 1, channel: 2 } },
        { type: 'play_drums', payload: { hits: 'kick', velocity: 100 } },
        drums(['kick', 'gong'], 0),
        note(45, 5000),
      ],
    });
    expect(r.invalid.map((i) => i.index)).toEqual([0, 1]);
    expect(r.invalid[0]!.reason).toMatch(/note must be an integer 0\.\.127/);
    expect(r.outside).toBe(1);
    expect(r.unknownHits).toBe(1);
    expect(r.voices).toBe(1);
  });

  it('refuses bad options with PFM_ERR_AUDIO_RENDER', async () => {
    for (const bad of [{ duration: 0 }, { duration: 1, sampleRate: 1000 }, { duration: 1, channels: 0 }]) {
      const err = await renderOffline({ band, messages: [], ...bad }).catch((e: unknown) => e);
      expect(hasCode(err, 'PFM_ERR_AUDIO_RENDER')).toBe(true);
    }
  });
});
