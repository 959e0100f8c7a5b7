import { describe, expect, it } from 'vitest';
import { configProblemsOf, validateConfig } from '../../../config/index.js';

const problems = (listen: Record<string, unknown>) => {
  try {
    validateConfig({ listen });
    return [];
  } catch (err) {
    return configProblemsOf(err).map((p) => p.message);
  }
};

describe('the listen: section', () => {
  it('takes the defaults: the default input, 256-sample blocks, every detection published', () => {
    const c = validateConfig({});
    expect(c.listen).toMatchObject({ enabled: true, device: 'default', file: '', blockFrames: 256 });
    expect(c.listen.publish).toEqual({ pitch: true, onset: true, tempo: true });
  });

  it('refuses a range whose low end is not below its high end, naming both keys', () => {
    expect(problems({ pitch: { minHz: 900, maxHz: 800 } })).toEqual([
      'listen.pitch.minHz: must be below listen.pitch.maxHz (800 Hz), got 900 Hz',
    ]);
    expect(problems({ tempo: { minBpm: 120, maxBpm: 120 } })).toEqual([
      'listen.tempo.minBpm: must be below listen.tempo.maxBpm (120 BPM), got 120 BPM',
    ]);
  });

  it('refuses what the analyzer would refuse, by key', () => {
    expect(problems({ blockFrames: 300 })[0]).toMatch(/^listen\.blockFrames: /);
    expect(problems({ pitch: { minConfidence: 1.5 } })[0]).toMatch(/^listen\.pitch\.minConfidence: /);
    expect(problems({ channel: -1 })[0]).toMatch(/^listen\.channel: /);
    expect(problems({ tempo: { windowSeconds: 1 } })[0]).toMatch(/^listen\.tempo\.windowSeconds: /);
  });
});
