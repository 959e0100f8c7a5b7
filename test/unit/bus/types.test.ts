import { describe, expect, it } from 'vitest';
import { type Message, MessageBus } from '../../../daemon/bus/index.js';

// The `@ts-expect-error` lines are checked by `npm run typecheck` (part of `npm test`): if a wrong
// payload for a catalog type ever stops failing tsc, the typecheck fails.
describe('message types', () => {
  it('types payloads of catalog types and leaves wire types open', () => {
    const bus = new MessageBus();
    const beat: Message<'beat_event'> = bus.publish({
      type: 'beat_event',
      from: 'conductor',
      payload: { beat: 1, bar: 1, bpm: 120, at: 10 },
    });
    expect(beat.payload.bpm).toBe(120);
    // @ts-expect-error bpm must be a number
    bus.publish({ type: 'tempo_change', from: 'api', payload: { bpm: 'fast' } });
    // @ts-expect-error a beat needs bar, bpm and at
    bus.publish({ type: 'beat_event', from: 'conductor', payload: { beat: 1 } });
    bus.subscribe('chord_change', (m) => {
      const chord: string = m.payload.chord;
      // @ts-expect-error chord_change has no bpm
      void m.payload.bpm;
      void chord;
    });
    // The escape hatch: a type named by a mapping rule carries any payload.
    const wire = bus.publish({ type: 'touchosc_xy', from: 'osc', payload: { x: 0.5, y: 0.25 } });
    expect(wire.type).toBe('touchosc_xy');
    expect(bus.getStats().published).toBe(4);
  });
});
