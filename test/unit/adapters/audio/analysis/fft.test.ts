/** The analyzer's real FFT against the DFT's definition. */
import { describe, expect, it } from 'vitest';
import { RealFft } from '../../../../../adapters/audio/analysis/fft.js';
import { random } from './signals.js';

describe('RealFft', () => {
  it.each([8, 16, 32, 64, 128, 1024])('size %d: forward equals the DFT, inverse undoes it', (n) => {
    const u = random(n);
    const x = Float64Array.from({ length: n }, () => u() - 0.5);
    const re = new Float64Array(n / 2 + 1);
    const im = new Float64Array(n / 2 + 1);
    const fft = new RealFft(n);
    fft.forward(x, re, im);
    for (let k = 0; k <= n / 2; k++) {
      let dr = 0;
      let di = 0;
      for (let t = 0; t < n; t++) {
        dr += x[t]! * Math.cos((-2 * Math.PI * k * t) / n);
        di += x[t]! * Math.sin((-2 * Math.PI * k * t) / n);
      }
      expect(re[k]).toBeCloseTo(dr, 9);
      expect(im[k]).toBeCloseTo(di, 9);
    }
    const back = new Float64Array(n);
    fft.inverse(re, im, back);
    for (let t = 0; t < n; t++) expect(back[t]).toBeCloseTo(x[t]!, 12);
  });

  it('puts a full-scale sine at its bin with magnitude N/2', () => {
    const n = 1024;
    const x = Float64Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * 10 * t) / n));
    const re = new Float64Array(n / 2 + 1);
    const im = new Float64Array(n / 2 + 1);
    new RealFft(n).forward(x, re, im);
    expect(Math.hypot(re[10]!, im[10]!)).toBeCloseTo(n / 2, 6);
    expect(Math.hypot(re[11]!, im[11]!)).toBeLessThan(1e-6);
  });

  it('refuses a size that is not a power of two of at least 8', () => {
    for (const n of [0, 4, 12, 1000, 1.5]) expect(() => new RealFft(n)).toThrow(RangeError);
  });
});
