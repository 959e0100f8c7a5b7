/**
 * The hotplug logic above the OS seam: configured ports found by name, opened when they appear, marked
 * disconnected when they go and reopened when they come back, never fatal when missing. The port list
 * here is scripted (this machine has no ALSA); the real binding is exercised by
 * test/integration/midi/os-ports.test.ts where a MIDI system exists.
 */
import { describe, expect, it } from 'vitest';
import {
  matchPort,
  type OpenInput,
  type OpenOutput,
  type PortBackend,
  probeMidiSystem,
} from '../../../../adapters/midi/os-ports.js';
import { PortManager, type PortSettings, type PortStats } from '../../../../adapters/midi/port-manager.js';

/** An OS port list the test edits, recording what was opened and sent. */
class ScriptedPorts implements PortBackend {
  inputNames: string[] = [];
  outputNames: string[] = [];
  reason: string | undefined;
  readonly virtualPorts = true;
  readonly opened: string[] = [];
  readonly sent: [string, number[]][] = [];
  readonly feeds = new Map<string, (b: Uint8Array) => void>();
  unavailable(): string | undefined {
    return this.reason;
  }
  inputs(): string[] {
    return [...this.inputNames];
  }
  outputs(): string[] {
    return [...this.outputNames];
  }
  openInput(name: string, virtual: boolean, onBytes: (bytes: Uint8Array) => void): OpenInput {
    if (!virtual && !this.inputNames.includes(name))
      throw new Error(`No MIDI input found with name: ${name}`);
    this.opened.push(`in:${name}${virtual ? ' (virtual)' : ''}`);
    this.feeds.set(name, onBytes);
    return { close: () => this.feeds.delete(name) };
  }
  openOutput(name: string, virtual: boolean): OpenOutput {
    this.opened.push(`out:${name}${virtual ? ' (virtual)' : ''}`);
    return {
      send: (bytes) => {
        if (!virtual && !this.outputNames.includes(name)) throw new Error('device gone');
        this.sent.push([name, [...bytes]]);
      },
      close: () => {},
    };
  }
}

const settings = (over: Partial<PortSettings> = {}): PortSettings => ({
  enabled: true,
  pollMs: 60_000,
  virtual: { enabled: true, input: 'Performia In', output: 'Performia Out' },
  inputs: { pads: { name: 'launchpad', match: 'substring' } },
  outputs: { synth: { name: '^Minilogue', match: 'regex' } },
  ...over,
});

function manager(backend: ScriptedPorts, over?: Partial<PortSettings>) {
  const changes: PortStats[] = [];
  const bytes: [string, number[]][] = [];
  const m = new PortManager(settings(over), backend, {
    bytes: (id, b) => bytes.push([id, [...b]]),
    change: (p) => changes.push(p),
  });
  return { m, changes, bytes };
}

const state = (m: PortManager, id: string, direction: 'in' | 'out') =>
  m.stats().find((p) => p.id === id && p.direction === direction)?.state;

describe('PortManager', () => {
  it('opens the virtual ports at once and waits for a configured port that is missing', () => {
    const os = new ScriptedPorts();
    const { m, changes } = manager(os);
    m.start();
    expect(os.opened).toEqual(['in:Performia In (virtual)', 'out:Performia Out (virtual)']);
    expect(state(m, 'pads', 'in')).toBe('waiting');
    expect(changes.find((c) => c.id === 'pads')?.reason).toBe(
      'no input port matches "launchpad" (substring); waiting for it',
    );
    m.stop();
  });

  it('opens a port when it appears, marks it disconnected when it goes, reopens it when it comes back', () => {
    const os = new ScriptedPorts();
    const { m, changes, bytes } = manager(os);
    m.start();
    os.inputNames = ['Launchpad X:Launchpad X MIDI 1 24:0'];
    os.outputNames = ['Minilogue:Minilogue SOUND 20:1'];
    m.poll();
    expect(state(m, 'pads', 'in')).toBe('open');
    expect(state(m, 'synth', 'out')).toBe('open');
    os.feeds.get('Launchpad X:Launchpad X MIDI 1 24:0')?.(Uint8Array.of(0x90, 36, 100));
    expect(bytes).toEqual([['pads', [0x90, 36, 100]]]);
    expect(m.send('synth', Uint8Array.of(0xb0, 7, 1))).toBe(true);
    expect(os.sent).toEqual([['Minilogue:Minilogue SOUND 20:1', [0xb0, 7, 1]]]);

    // Unplugged: the name is gone from the list.
    os.inputNames = [];
    m.poll();
    expect(state(m, 'pads', 'in')).toBe('disconnected');
    expect(changes.at(-1)).toMatchObject({ id: 'pads', state: 'disconnected' });
    // Replugged under a new ALSA client number: found again by its name.
    os.inputNames = ['Launchpad X:Launchpad X MIDI 1 28:0'];
    m.poll();
    expect(state(m, 'pads', 'in')).toBe('open');
    expect(m.stats().find((p) => p.id === 'pads')?.osName).toBe('Launchpad X:Launchpad X MIDI 1 28:0');
    m.stop();
    expect(m.stats().every((p) => p.state === 'closed')).toBe(true);
  });

  it('a send that fails (device gone between polls) marks the port disconnected, not a throw', () => {
    const os = new ScriptedPorts();
    os.outputNames = ['Minilogue'];
    const { m } = manager(os);
    m.start();
    os.outputNames = [];
    expect(m.send('synth', Uint8Array.of(0x90, 1, 1))).toBe(false);
    expect(state(m, 'synth', 'out')).toBe('disconnected');
    expect(m.send('nowhere', Uint8Array.of(0x90, 1, 1))).toBe(false);
    m.stop();
  });

  it('without a MIDI system every port is unavailable with the reason, and nothing is opened', () => {
    const os = new ScriptedPorts();
    os.reason = 'MIDI ports unavailable: no ALSA sequencer';
    const { m, changes } = manager(os);
    m.start();
    expect(os.opened).toEqual([]);
    expect(m.stats().map((p) => p.state)).toEqual([
      'unavailable',
      'unavailable',
      'unavailable',
      'unavailable',
    ]);
    expect(m.unavailable).toBe('MIDI ports unavailable: no ALSA sequencer');
    // One reason for all: the adapter logs it once, not once per port.
    expect(changes).toEqual([]);
    m.stop();
  });
});

describe('matchPort and the MIDI system probe', () => {
  const names = ['Midi Through:Midi Through Port-0 14:0', 'Launchpad X:Launchpad X MIDI 1 24:0'];
  it('matches exact, substring (case-insensitive) and regex', () => {
    expect(matchPort(names, { name: 'Launchpad X:Launchpad X MIDI 1 24:0', match: 'exact' })).toBe(names[1]);
    expect(matchPort(names, { name: 'Launchpad', match: 'exact' })).toBeUndefined();
    expect(matchPort(names, { name: 'launchpad x', match: 'substring' })).toBe(names[1]);
    expect(matchPort(names, { name: 'Through Port-\\d', match: 'regex' })).toBe(names[0]);
  });

  it('says what to do when Linux has no ALSA sequencer, without touching RtMidi', () => {
    expect(probeMidiSystem('linux', () => false)).toBe(
      'MIDI ports unavailable: no ALSA sequencer (/dev/snd/seq missing; load snd-seq or run on a machine with MIDI)',
    );
    expect(probeMidiSystem('linux', () => true)).toBeUndefined();
    expect(probeMidiSystem('darwin', () => false)).toBeUndefined();
  });
});
