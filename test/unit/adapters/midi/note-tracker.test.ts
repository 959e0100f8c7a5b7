import { describe, expect, it } from 'vitest';
import { NoteTracker } from '../../../../adapters/midi/note-tracker.js';

const off = (channel: number, note: number) => ({ kind: 'noteoff', channel, note, velocity: 0 });
const cc = (channel: number, controller: number) => ({ kind: 'cc', channel, controller, value: 0 });

describe('NoteTracker', () => {
  it('holds a note from its note on to its note off, per output, channel and note', () => {
    const t = new NoteTracker();
    t.noteOn('synth', 1, 60);
    t.noteOn('synth', 2, 60);
    t.noteOn('drums', 10, 36);
    expect(t.heldCount()).toBe(3);
    expect(t.heldCount('synth')).toBe(2);
    t.noteOff('synth', 1, 60);
    expect(t.held()).toEqual([
      { output: 'synth', channel: 2, note: 60, count: 1 },
      { output: 'drums', channel: 10, note: 36, count: 1 },
    ]);
    t.noteOff('synth', 1, 60); // not held any more: ignored, never negative
    expect(t.heldCount('synth')).toBe(1);
    expect(t.channelsUsed('synth')).toEqual([1, 2]);
    expect(t.channelsUsed('nowhere')).toEqual([]);
  });

  it('counts a note on sent twice, and needs two note offs', () => {
    const t = new NoteTracker();
    t.noteOn('synth', 1, 64);
    t.noteOn('synth', 1, 64);
    expect(t.held('synth')).toEqual([{ output: 'synth', channel: 1, note: 64, count: 2 }]);
    expect(t.heldCount('synth')).toBe(2);
    t.noteOff('synth', 1, 64);
    expect(t.heldCount('synth')).toBe(1);
    t.noteOff('synth', 1, 64);
    expect(t.held('synth')).toEqual([]);
  });

  it('panics with a note off per held note on, then sustain off and All Notes Off per used channel', () => {
    const t = new NoteTracker();
    t.noteOn('synth', 3, 72);
    t.noteOn('synth', 1, 60);
    t.noteOn('synth', 1, 60);
    t.noteOn('synth', 1, 67);
    t.noteOff('synth', 1, 67);
    t.track('synth', { kind: 'cc', channel: 5, controller: 64, value: 127 }); // a pedal, no note
    t.noteOn('other', 2, 50);
    expect(t.panic('synth')).toEqual([
      off(1, 60),
      off(1, 60),
      off(3, 72),
      cc(1, 64),
      cc(1, 123),
      cc(3, 64),
      cc(3, 123),
      cc(5, 64),
      cc(5, 123),
    ]);
    // Cleared: a second panic has nothing to say, and the other output is untouched.
    expect(t.panic('synth')).toEqual([]);
    expect(t.channelsUsed('synth')).toEqual([]);
    expect(t.heldCount()).toBe(1);
  });

  it('panics every output at once', () => {
    const t = new NoteTracker();
    t.noteOn('a', 1, 60);
    t.noteOn('b', 16, 127);
    t.noteOn('c', 2, 40);
    t.noteOff('c', 2, 40); // nothing held, but channel 2 was used: it still gets All Notes Off
    const all = t.panicAll();
    expect([...all.keys()]).toEqual(['a', 'b', 'c']);
    expect(all.get('b')).toEqual([off(16, 127), cc(16, 64), cc(16, 123)]);
    expect(all.get('c')).toEqual([cc(2, 64), cc(2, 123)]);
    expect(t.heldCount()).toBe(0);
    expect(t.panicAll().size).toBe(0);
  });

  it('tracks sent messages: note on with velocity 0 is a note off, system messages are ignored', () => {
    const t = new NoteTracker();
    t.track('s', { kind: 'noteon', channel: 4, note: 61, velocity: 100 });
    t.track('s', { kind: 'noteon', channel: 4, note: 62, velocity: 90 });
    t.track('s', { kind: 'noteon', channel: 4, note: 61, velocity: 0 });
    t.track('s', { kind: 'noteoff', channel: 4, note: 62, velocity: 64 });
    t.track('s', { kind: 'noteon', channel: 4, note: 63, velocity: 1 });
    t.track('s', { kind: 'pitchbend', channel: 9, value: 8192 });
    t.track('s', { kind: 'clock' });
    t.track('s', { kind: 'sysex', data: new Uint8Array([0xf0, 0x7e, 0xf7]) });
    expect(t.held('s')).toEqual([{ output: 's', channel: 4, note: 63, count: 1 }]);
    expect(t.channelsUsed('s')).toEqual([4, 9]);
  });

  it('forgets an output that went away without a message', () => {
    const t = new NoteTracker();
    t.noteOn('gone', 1, 60);
    t.forget('gone');
    expect(t.heldCount('gone')).toBe(0);
    expect(t.panic('gone')).toEqual([]);
  });

  it('refuses channels and notes out of range, with a code', () => {
    const t = new NoteTracker();
    const code = expect.objectContaining({ code: 'PFM_ERR_MIDI_ENCODE' });
    expect(() => t.noteOn('s', 0, 60)).toThrow(code);
    expect(() => t.noteOn('s', 17, 60)).toThrow(code);
    expect(() => t.noteOn('s', 1, 128)).toThrow(code);
    expect(() => t.noteOff('s', 1, -1)).toThrow(code);
    expect(() => t.track('s', { kind: 'cc', channel: 1.5, controller: 1, value: 0 })).toThrow(code);
    expect(t.heldCount()).toBe(0);
  });
});
