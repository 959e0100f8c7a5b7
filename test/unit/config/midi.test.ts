import { describe, expect, it } from 'vitest';
import { configProblemsOf, validateConfig } from '../../../config/index.js';

/** The problem lines of a `midi:` section, or [] when it is valid. */
function linesOf(midi: unknown): string[] {
  try {
    validateConfig({ midi });
    return [];
  } catch (err) {
    return configProblemsOf(err).map((p) => p.message);
  }
}

describe('midi: one specific message per problem', () => {
  it('accepts routes, outputs, ports, peers and clock that fit together', () => {
    const config = validateConfig({
      midi: {
        ports: {
          inputs: { pads: { name: 'Launchpad' } },
          outputs: { synth: { name: '^Mini', match: 'regex' } },
        },
        network: { peers: { laptop: { host: '10.0.0.2' } } },
        routes: [
          { from: 'pads', kind: 'noteon', channel: 10, note: [36, 51], type: 'play_drums' },
          { kind: 'cc', controller: [20, 20], type: 'tempo_change', payload: { bpm: { name: 'value' } } },
        ],
        outputs: [{ type: 'play_note', send: 'note', to: ['synth', 'laptop', 'network', 'virtual'] }],
        clock: { in: { from: 'laptop' }, out: { to: ['synth'] } },
      },
    });
    expect(config.midi.ports.inputs.pads).toEqual({ name: 'Launchpad', match: 'substring' });
    expect(config.midi.network.peers.laptop).toEqual({ host: '10.0.0.2', port: 5004 });
  });

  it('names endpoints that do not exist, with the known ones', () => {
    expect(
      linesOf({
        routes: [{ from: 'keys', kind: 'noteon', type: 'x' }],
        outputs: [{ type: 'play_note', send: 'note', to: ['synht'] }],
        clock: { out: { to: ['nowhere'] } },
      }),
    ).toEqual([
      'midi.routes[0].from: "keys" is not a MIDI input endpoint (known: virtual, network)',
      'midi.outputs[0].to[0]: "synht" is not a MIDI output endpoint (known: virtual, network)',
      'midi.clock.out.to[0]: "nowhere" is not a MIDI output endpoint (known: virtual, network)',
    ]);
  });

  it('refuses note and controller ranges on kinds that carry none, and reversed ranges', () => {
    expect(
      linesOf({
        routes: [
          { kind: 'cc', note: [1, 2], type: 'x' },
          { kind: 'noteon', controller: [1, 1], type: 'x' },
          { kind: 'clock', channel: 1, type: 'x' },
          { kind: 'noteon', note: [60, 48], type: 'x' },
        ],
      }),
    ).toEqual([
      'midi.routes[0].note: note matches noteon, noteoff and polyaftertouch only, not cc',
      'midi.routes[1].controller: controller matches cc only, not noteon',
      'midi.routes[2].channel: channel matches channel messages only, not clock',
      'midi.routes[3].note: low must not exceed high, got [60,48]',
    ]);
  });

  it('refuses arg sources and names a MIDI message does not have', () => {
    expect(
      linesOf({
        routes: [{ kind: 'noteon', type: 'x', payload: { a: { arg: 1 }, b: { name: 'velo' } } }],
      }),
    ).toEqual([
      'midi.routes[0].payload.a.arg: MIDI messages have no argument positions: take a field with name (e.g. name: velocity)',
      'midi.routes[0].payload.b.name: "velo" is not one of the MIDI message fields (known: channel, note, velocity, controller, value, program, pressure, beats, song, piece, data, kind, port)',
    ]);
  });

  it('refuses an output field its send does not take, or one with both from and value', () => {
    expect(
      linesOf({
        outputs: [
          {
            type: 'control_change',
            send: 'cc',
            fields: { note: { from: 'x' }, value: { from: 'v', value: 3 } },
          },
        ],
      }),
    ).toEqual([
      'midi.outputs[0].fields.note: send cc takes no field "note" (its fields: channel, controller, value)',
      'midi.outputs[0].fields.value: set exactly one of from or value',
    ]);
  });

  it('checks the schema too: kinds, ranges, ports', () => {
    expect(
      linesOf({ routes: [{ kind: 'noteonn', type: 'x' }], network: { port: 65535 }, drumChannel: 0 }),
    ).toEqual([
      expect.stringContaining('midi.network.port: expected integer 0..65534'),
      expect.stringContaining('midi.routes[0].kind: expected one of noteoff, noteon'),
      expect.stringContaining('midi.drumChannel: expected integer 1..16'),
    ]);
  });
});
