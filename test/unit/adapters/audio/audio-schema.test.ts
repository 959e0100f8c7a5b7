import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { AudioSchema } from '../../../../config/audio-schema.js';
import { findProblems } from '../../../../config/problems.js';

const withDefaults = (v: unknown) => Value.Default(AudioSchema, structuredClone(v));

describe('config: the audio section', () => {
  it('has a default for every key', () => {
    const d = withDefaults({});
    expect(d).toEqual({
      enabled: true,
      sinkId: 'default',
      latencyHint: 'balanced',
      onMissingDevice: 'fallback',
      retryMs: 10000,
      isolation: 'auto',
      masterGain: 0.5,
      maxVoices: 256,
      instruments: { '2': 'bass', '3': 'pad' },
      otherChannels: 'lead',
      seed: 1,
      clock: { syncIntervalMs: 500, windowMs: 60000, slewMs: 1000, stepMs: 10 },
    });
    expect(Value.Check(AudioSchema, d)).toBe(true);
  });

  it('describes every key', () => {
    const walk = (schema: Record<string, unknown>, path: string): void => {
      expect(typeof schema.description, path).toBe('string');
      for (const [k, v] of Object.entries(
        (schema.properties ?? {}) as Record<string, Record<string, unknown>>,
      ))
        walk(v, `${path}.${k}`);
    };
    walk(AudioSchema as unknown as Record<string, unknown>, 'audio');
  });

  it('accepts a device, a latency in seconds and instruments by channel', () => {
    const v = withDefaults({
      sinkId: 'none',
      latencySeconds: 0.02,
      instruments: { '10': 'kit', '1': 'lead' },
      clock: { syncIntervalMs: 250 },
    });
    expect(findProblems(AudioSchema, v)).toEqual([]);
    expect(Value.Check(AudioSchema, v)).toBe(true);
  });

  it.each([
    [{ latencyHint: 'fast' }, 'latencyHint: expected one of interactive, balanced, playback, got "fast"'],
    [{ masterGain: 2 }, 'masterGain: expected number 0..1, got 2'],
    [{ maxVoices: 0 }, 'maxVoices: expected integer 1..4096, got 0'],
    [
      { instruments: { '2': 'piano' } },
      'instruments["2"]: expected one of bass, pad, lead, kit, got "piano"',
    ],
    [{ onMissingDevice: 'retry' }, 'onMissingDevice: expected one of fallback, fail, got "retry"'],
    [{ sinkid: 'none' }, 'sinkid: unknown key, did you mean "sinkId"?'],
    [{ clock: { stepMs: 0 } }, 'clock.stepMs: expected number > 0 and <= 1000, got 0'],
  ])('names what is wrong in %j', (given, message) => {
    const problems = findProblems(AudioSchema, withDefaults(given)).map((p) => p.message);
    expect(problems.some((p) => p.startsWith(message))).toBe(true);
  });

  it('refuses a channel outside 1..16', () => {
    const v = withDefaults({ instruments: { '17': 'bass' } });
    expect(findProblems(AudioSchema, v)[0]?.message).toMatch(/^instruments\["17"\]: unknown key/);
    expect(Value.Check(AudioSchema, v)).toBe(false);
  });
});
