import { describe, expect, it } from 'vitest';
import { Fifo } from '../../../daemon/bus/fifo.js';

describe('Fifo', () => {
  it('keeps order across wrap-around and growth', () => {
    const q = new Fifo<number>(16);
    const out: number[] = [];
    let next = 0;
    // Push 10, shift 7, repeatedly: the ring wraps, then grows.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 10; i++) q.push(next++);
      for (let i = 0; i < 7; i++) out.push(q.shift()!);
    }
    while (q.length > 0) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
  });

  it('addresses a queued item by sequence number until it leaves, also after growth', () => {
    const q = new Fifo<string>(16);
    q.push('a');
    const seq = q.push('b');
    for (let i = 0; i < 100; i++) q.push(`x${i}`);
    expect(q.at(seq)).toBe('b');
    q.replace(seq, 'B');
    expect(q.shift()).toBe('a');
    expect(q.peek()).toBe('B');
    expect(q.shift()).toBe('B');
    expect(q.at(seq)).toBeUndefined();
  });

  it('clears, returning items oldest first', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5; i++) q.push(i);
    expect(q.clear()).toEqual([0, 1, 2, 3, 4]);
    expect(q.length).toBe(0);
  });
});
