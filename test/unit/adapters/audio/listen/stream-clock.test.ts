import { describe, expect, it } from 'vitest';
import { StreamClock } from '../../../../../adapters/audio/listen/stream-clock.js';

describe('StreamClock: an input stream time on the bus clock', () => {
  it('takes the least-delayed block: a held-up callback does not move the mapping', () => {
    const clock = new StreamClock(2_000);
    const start = 10_000;
    // Blocks of 256 samples at 48 kHz (5.333 ms), each arriving 0.2 ms after its last sample, but
    // every 10th held up by 0–8 ms, and three at once after a 20 ms stall.
    const block = 256 / 48_000;
    for (let n = 1; n <= 400; n++) {
      const end = n * block;
      let delay = 0.2 + (n % 10 === 0 ? (n % 9) * 1 : 0);
      if (n >= 200 && n <= 202) delay += (203 - n) * block * 1000 + 20;
      clock.block(end, start + end * 1000 + delay);
    }
    expect(clock.toBus(1)).toBeCloseTo(start + 1000 + 0.2, 6);
  });

  it('follows a device clock that drifts (older readings leave the window)', () => {
    const clock = new StreamClock(1_000);
    // The device runs 1 % slow: stream time t is at bus time 1.01 t.
    for (let t = 0.01; t <= 5; t += 0.01) clock.block(t, 1.01 * t * 1000);
    expect(Math.abs(clock.toBus(5) - 5_050)).toBeLessThan(10.5);
    expect(Number.isNaN(new StreamClock().toBus(1))).toBe(true);
  });
});
