import { describe, expect, it } from 'vitest';
import { threadCpuClock } from '../../../daemon/thread-cpu.js';

describe('threadCpuClock', () => {
  it('counts the CPU time of work on this thread, and not time spent asleep', async () => {
    const cpu = threadCpuClock();
    const a = cpu.read();
    const end = performance.now() + 30;
    while (performance.now() < end);
    const b = cpu.read();
    await new Promise((r) => setTimeout(r, 60));
    const c = cpu.read();
    cpu.close();
    // 30 ms of busy work shows (the machine may take some of it away, never add to it)...
    expect(b - a).toBeGreaterThan(10);
    expect(b - a).toBeLessThan(40);
    // ...60 ms asleep counts far less (the test runner may do some of its own work meanwhile).
    expect(c - b).toBeLessThan(30);
  });

  it('still reads after close (falls back to the process CPU time)', () => {
    const cpu = threadCpuClock();
    cpu.close();
    cpu.close();
    expect(cpu.read()).toBeGreaterThan(0);
  });
});
