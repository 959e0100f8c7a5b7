import { describe, expect, it } from 'vitest';
import { decodePlay, MAX_NOTE_SECONDS } from '../../../../adapters/audio/events.js';

const msg = (type: string, payload: unknown, at?: number) => ({
  type,
  payload,
  ...(at === undefined ? {} : { at }),
});

describe('play_* messages → play events', () => {
  it('decodes play_note, play_chord and play_drums, with the time of the envelope or the payload', () => {
    expect(
      decodePlay(msg('play_note', { note: 45, velocity: 100, duration: 0.5, channel: 2 }, 1000)),
    ).toEqual({
      event: { kind: 'notes', notes: [45], velocity: 100, duration: 0.5, channel: 2 },
      at: 1000,
    });
    expect(
      decodePlay(msg('play_chord', { notes: [57, 60, 64], velocity: 80, duration: 2, channel: 3, at: 5 })),
    ).toEqual({
      event: { kind: 'notes', notes: [57, 60, 64], velocity: 80, duration: 2, channel: 3 },
      at: 5,
    });
    expect(decodePlay(msg('play_drums', { hits: ['kick', 'hat'], velocity: 110 }))).toEqual({
      event: { kind: 'drums', hits: ['kick', 'hat'], velocity: 110 },
      at: undefined,
    });
  });

  it('cuts a very long duration', () => {
    const d = decodePlay(msg('play_note', { note: 45, velocity: 100, duration: 1e9, channel: 2 }));
    expect(typeof d !== 'string' && d.event.kind === 'notes' && d.event.duration).toBe(MAX_NOTE_SECONDS);
  });

  it.each([
    [msg('play_note', null), /payload must be an object/],
    [
      msg('play_note', { note: 128, velocity: 100, duration: 1, channel: 2 }),
      /note must be an integer 0\.\.127/,
    ],
    [msg('play_note', { note: 60, velocity: 1.5, duration: 1, channel: 2 }), /velocity/],
    [msg('play_note', { note: 60, velocity: 100, duration: -1, channel: 2 }), /duration/],
    [msg('play_note', { note: 60, velocity: 100, duration: 1, channel: 17 }), /channel/],
    [
      msg('play_note', { note: 60, velocity: 100, duration: 1, channel: 1 }, Number.NaN),
      /at must be a finite number/,
    ],
    [msg('play_chord', { notes: [], velocity: 100, duration: 1, channel: 1 }), /notes must be a list/],
    [msg('play_chord', { notes: [60, 'x'], velocity: 100, duration: 1, channel: 1 }), /integers/],
    [msg('play_drums', { hits: [1], velocity: 100 }), /hits must be a list/],
  ])('refuses %j with a reason', (m, reason) => {
    expect(decodePlay(m)).toMatch(reason);
  });
});
