import { describe, expect, it } from 'vitest';
import { compileMidiRoutes, type MidiRouteRule, midiFields } from '../../../../adapters/midi/routes.js';
import type { MidiMessage } from '../../../../adapters/midi/types.js';

const noteOn = (channel: number, note: number, velocity = 100): MidiMessage => ({
  kind: 'noteon',
  channel,
  note,
  velocity,
});
const cc = (channel: number, controller: number, value: number): MidiMessage => ({
  kind: 'cc',
  channel,
  controller,
  value,
});

/** The first route that matches, as the adapter picks it. */
function first(rules: MidiRouteRule[], m: MidiMessage, endpoint = 'pads') {
  const routes = compileMidiRoutes(rules);
  const r = routes.find((x) => x.matches(m, endpoint));
  return r === undefined ? undefined : r.map(m, endpoint, 1_000);
}

describe('MIDI routes', () => {
  it('pads on channel 10 become play_drums; other channels do not match', () => {
    const rules: MidiRouteRule[] = [
      {
        kind: 'noteon',
        channel: 10,
        note: [36, 51],
        type: 'play_drums',
        payload: { hits: { value: ['kick'] }, velocity: { name: 'velocity' } },
      },
    ];
    expect(first(rules, noteOn(10, 36, 90))).toEqual({
      type: 'play_drums',
      priority: undefined,
      to: undefined,
      payload: { hits: ['kick'], velocity: 90 },
    });
    expect(first(rules, noteOn(1, 36))).toBeUndefined();
    expect(first(rules, noteOn(10, 52))).toBeUndefined();
    expect(first(rules, { kind: 'noteoff', channel: 10, note: 36, velocity: 0 })).toBeUndefined();
  });

  it('a fader CC scaled 0..127 to 60..180 BPM becomes tempo_change', () => {
    const rules: MidiRouteRule[] = [
      {
        kind: 'cc',
        controller: [20, 20],
        type: 'tempo_change',
        payload: { bpm: { name: 'value', scale: [0, 127, 60, 180], round: true } },
      },
    ];
    expect(first(rules, cc(1, 20, 127))).toMatchObject({ type: 'tempo_change', payload: { bpm: 180 } });
    expect(first(rules, cc(1, 20, 0))).toMatchObject({ payload: { bpm: 60 } });
    expect(first(rules, cc(1, 21, 0))).toBeUndefined();
  });

  it('matches by endpoint: an id, or network for every session', () => {
    const rules: MidiRouteRule[] = [
      { from: 'keys', kind: 'noteon', type: 'from_keys' },
      { from: 'network', kind: 'noteon', type: 'from_net' },
    ];
    const routes = compileMidiRoutes(
      rules,
      new Map(),
      (want, ep) => want === ep || (want === 'network' && ep === 'laptop'),
    );
    const pick = (ep: string) => routes.find((r) => r.matches(noteOn(1, 60), ep))?.rule.type;
    expect(pick('keys')).toBe('from_keys');
    expect(pick('laptop')).toBe('from_net');
    expect(pick('pads')).toBeUndefined();
  });

  it('without payload fields, publishes the message fields with the endpoint as port', () => {
    expect(first([{ kind: 'cc', type: 'knob' }], cc(3, 74, 12), 'virtual')).toEqual({
      type: 'knob',
      priority: undefined,
      to: undefined,
      payload: { port: 'virtual', kind: 'cc', channel: 3, controller: 74, value: 12 },
    });
    expect(midiFields({ kind: 'sysex', data: Uint8Array.of(0xf0, 1, 2, 0xf7) }, 'x')).toEqual({
      port: 'x',
      kind: 'sysex',
      data: [0xf0, 1, 2, 0xf7],
    });
  });

  it('a field the message lacks is a reason, and a catalog payload that does not fit too', () => {
    const r = first([{ kind: 'program', type: 'hit', payload: { v: { name: 'velocity' } } }], {
      kind: 'program',
      channel: 1,
      program: 5,
    });
    expect(r).toBe('midi.routes[0] (program): v: a program message has no velocity');
    const bad = first(
      [{ kind: 'noteon', type: 'tempo_change', payload: { bpm: { name: 'note', add: 1000 } } }],
      noteOn(1, 60),
    );
    expect(bad).toBe('midi.routes[0] (noteon): payload.bpm: must be <= 999 (tempo_change)');
  });

  it('refuses a route naming a field MIDI messages do not have, at compile time', () => {
    expect(() =>
      compileMidiRoutes([{ kind: 'noteon', type: 'x', payload: { a: { name: 'pitch' } } }]),
    ).toThrow(/PFM_ERR_MIDI_CONFIG|"pitch" is not one of the MIDI message fields/);
  });
});
