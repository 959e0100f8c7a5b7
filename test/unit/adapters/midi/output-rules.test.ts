import { describe, expect, it } from 'vitest';
import {
  compileMidiOutputs,
  type MidiOutputRule,
  type OutputPlan,
} from '../../../../adapters/midi/output-rules.js';
import type { AnyMessage } from '../../../../daemon/bus/index.js';

const options = { drumMap: { kick: 36, snare: 38, hat: 42 }, drumChannel: 10 };
const endpoints = new Set(['virtual', 'network', 'synth']);

function bus(type: string, payload: unknown, at?: number): AnyMessage {
  return { id: 1, type, from: 'test', to: 'broadcast', priority: 2, payload, timestamp: 5_000, at };
}

function plan(rule: MidiOutputRule, m: AnyMessage): OutputPlan {
  const [o] = compileMidiOutputs([rule], options, endpoints);
  const p = o!.plan(m);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

const hex = (p: OutputPlan) => p.sends.map((s) => [Buffer.from(s.bytes).toString('hex'), s.at]);

describe('MIDI output rules', () => {
  it('play_note: note on at `at`, note off `duration` seconds later', () => {
    const p = plan(
      { type: 'play_note', send: 'note' },
      bus('play_note', { note: 60, velocity: 100, duration: 0.5, channel: 2 }, 10_000),
    );
    expect(hex(p)).toEqual([
      ['913c64', 10_000],
      ['813c00', 10_500],
    ]);
  });

  it('play_note without `at`: at once, the note off after the publish time plus the duration', () => {
    const p = plan(
      { type: 'play_note', send: 'note' },
      bus('play_note', { note: 60, velocity: 1, duration: 1, channel: 1 }),
    );
    expect(hex(p)).toEqual([
      ['903c01', undefined],
      ['803c00', 6_000],
    ]);
  });

  it('play_chord: every note on, then every note off', () => {
    const p = plan(
      { type: 'play_chord', send: 'chord' },
      bus('play_chord', { notes: [57, 60, 64], velocity: 70, duration: 2, channel: 3 }, 0),
    );
    expect(hex(p)).toEqual([
      ['923946', 0],
      ['923c46', 0],
      ['924046', 0],
      ['823900', 2_000],
      ['823c00', 2_000],
      ['824000', 2_000],
    ]);
  });

  it('play_drums: hits through the drum map on the drum channel, short notes', () => {
    const p = plan(
      { type: 'play_drums', send: 'drums' },
      bus('play_drums', { hits: ['kick', 'hat'], velocity: 96 }, 100),
    );
    expect(hex(p)).toEqual([
      ['992460', 100],
      ['992a60', 100],
      ['892400', 200],
      ['892a00', 200],
    ]);
    const [o] = compileMidiOutputs([{ type: 'play_drums', send: 'drums' }], options, endpoints);
    expect(o!.plan(bus('play_drums', { hits: ['cowbell'], velocity: 1 }))).toBe(
      'midi.outputs[0] (play_drums → drums): Cannot encode MIDI: drum "cowbell" is not in midi.drumMap',
    );
  });

  it('control_change → CC, with a field taken from elsewhere or a constant', () => {
    expect(
      hex(
        plan(
          { type: 'control_change', send: 'cc' },
          bus('control_change', { channel: 1, controller: 7, value: 99 }),
        ),
      ),
    ).toEqual([['b00763', undefined]]);
    const p = plan(
      {
        type: 'fader',
        send: 'cc',
        fields: { channel: { value: 16 }, controller: { value: 1 }, value: { from: 'level' } },
      },
      bus('fader', { level: 5 }),
    );
    expect(hex(p)).toEqual([['bf0105', undefined]]);
  });

  it('tempo_change as tempo gives the clock out its bpm, sends nothing itself', () => {
    expect(plan({ type: 'tempo_change', send: 'tempo' }, bus('tempo_change', { bpm: 128 }))).toEqual({
      sends: [],
      tempo: 128,
    });
  });

  it('a payload that does not fit sends nothing and says why', () => {
    const [o] = compileMidiOutputs([{ type: 'play_chord', send: 'chord' }], options, endpoints);
    expect(o!.plan(bus('play_chord', { notes: [60, 128], velocity: 1, duration: 1, channel: 1 }))).toBe(
      'midi.outputs[0] (play_chord → chord): Cannot encode MIDI: noteon note 128 is outside 0..127',
    );
    expect(o!.plan(bus('play_chord', { velocity: 1, duration: 1, channel: 1 }))).toMatch(
      /payload has no "notes"/,
    );
  });

  it('filters with where, and refuses an unknown endpoint at compile time', () => {
    const [o] = compileMidiOutputs(
      [{ type: 'play_note', send: 'note', where: { channel: 10 } }],
      options,
      endpoints,
    );
    expect(o!.accepts(bus('play_note', { channel: 10 }))).toBe(true);
    expect(o!.accepts(bus('play_note', { channel: 1 }))).toBe(false);
    expect(() => compileMidiOutputs([{ type: 'x', send: 'cc', to: ['synht'] }], options, endpoints)).toThrow(
      '"synht" is not an output endpoint (known: virtual, network, synth)',
    );
  });
});
