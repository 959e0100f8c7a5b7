import { describe, expect, it } from 'vitest';
import { type AudioEngine, type EngineStats, EngineTotals } from '../../../../adapters/audio/engine.js';

/** An engine whose figures the test sets. */
function engine(): AudioEngine & { figures: EngineStats } {
  const e = {
    figures: { voices: 0, dropped: 0, unknownHits: 0, voicesActive: 0, startedLate: 0 },
    stats: () => e.figures,
  };
  return e as unknown as AudioEngine & { figures: EngineStats };
}

describe('engine totals across a run', () => {
  it('never go back when engines change, and count an engine that serves twice once', () => {
    const totals = new EngineTotals();
    const fallback = engine();
    const device = engine();
    fallback.figures = { voices: 10, dropped: 1, unknownHits: 0, voicesActive: 3, startedLate: 1 };
    expect(totals.with(fallback)).toEqual({
      voices: 10,
      dropped: 1,
      unknownHits: 0,
      voicesActive: 3,
      startedLate: 1,
    });
    totals.retire(fallback); // the device came back
    device.figures = { voices: 5, dropped: 0, unknownHits: 2, voicesActive: 1, startedLate: 0 };
    expect(totals.with(device)).toEqual({
      voices: 15,
      dropped: 1,
      unknownHits: 2,
      voicesActive: 1,
      startedLate: 1,
    });
    totals.retire(device); // the device failed: the fallback serves again, its counters go on
    fallback.figures = { voices: 12, dropped: 1, unknownHits: 0, voicesActive: 0, startedLate: 3 };
    expect(totals.with(fallback)).toEqual({
      voices: 17,
      dropped: 1,
      unknownHits: 2,
      voicesActive: 0,
      startedLate: 3,
    });
    expect(totals.with(undefined)).toEqual({
      voices: 15,
      dropped: 1,
      unknownHits: 2,
      voicesActive: 0,
      startedLate: 1,
    });
  });
});
