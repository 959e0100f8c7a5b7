/**
 * The operating system's MIDI ports through easymidi (issue #7): a thin seam, so that what needs the
 * hardware is small and everything above it (matching, hotplug, routing) is plain logic.
 *
 * What easymidi 3.2.0 is used for, and what not (CONVENTIONS.md, "Known traps"):
 * - used: the port lists (`getInputs`/`getOutputs`), opening a port by name or as a virtual port, and
 *   its RtMidi binding (`_input`, `_output`) for raw bytes in and out;
 * - not used: its message parsing. Its input handler throws a ReferenceError on a SysEx that arrives in
 *   chunks (it assigns an undeclared variable), inside a native callback: that would be an uncaught
 *   exception, so its listener is removed and our own strict parser (parser.ts) takes the bytes. Its
 *   `Output.send` does no range checks: we send bytes our codec encoded and checked.
 * - Without ALSA (Linux with no /dev/snd/seq), RtMidi prints lines on stderr and every call throws
 *   "Failed to initialise RtMidi": the sequencer device is checked first, so nothing is printed and
 *   the reason says what to do.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** An open input port. */
export interface OpenInput {
  close(): void;
}

/** An open output port. */
export interface OpenOutput {
  send(bytes: Uint8Array): void;
  close(): void;
}

/** What the adapter needs of the OS MIDI system. */
export interface PortBackend {
  /** Undefined when ports can be used, else the reason, in words a person can act on. */
  unavailable(): string | undefined;
  inputs(): string[];
  outputs(): string[];
  /** Opens an input by its exact OS name, or creates a virtual one; bytes arrive as RtMidi chunks. */
  openInput(name: string, virtual: boolean, onBytes: (bytes: Uint8Array) => void): OpenInput;
  openOutput(name: string, virtual: boolean): OpenOutput;
  /** Virtual ports exist on Linux (ALSA) and macOS (CoreMIDI), not on Windows. */
  readonly virtualPorts: boolean;
}

interface RtMidiInput {
  on(event: 'message', fn: (deltaTime: number, bytes: number[]) => void): void;
  removeAllListeners(event: string): void;
  closePort(): void;
}
interface RtMidiOutput {
  sendMessage(bytes: number[] | Buffer): void;
  closePort(): void;
}
interface EasyMidi {
  getInputs(): string[];
  getOutputs(): string[];
  Input: new (name: string, virtual?: boolean) => { _input: RtMidiInput; close(): void };
  Output: new (name: string, virtual?: boolean) => { _output: RtMidiOutput; close(): void };
}

const require = createRequire(import.meta.url);

/** Why OS MIDI is unusable on this machine before loading anything, or undefined. */
export function probeMidiSystem(platform = process.platform, exists = existsSync): string | undefined {
  if (platform === 'linux' && !exists('/dev/snd/seq')) {
    return 'MIDI ports unavailable: no ALSA sequencer (/dev/snd/seq missing; load snd-seq or run on a machine with MIDI)';
  }
  return undefined;
}

/** The real backend: easymidi and its RtMidi binding. */
export class EasyMidiBackend implements PortBackend {
  private lib: EasyMidi | undefined;
  private reason: string | undefined;
  readonly virtualPorts = process.platform !== 'win32';

  constructor() {
    this.reason = probeMidiSystem();
    if (this.reason !== undefined) return;
    try {
      // easymidi is CommonJS and loads a native binding: a failure here (no prebuilt binary for this
      // platform) must degrade the adapter, not stop the daemon.
      this.lib = require('easymidi') as EasyMidi;
      this.lib.getInputs();
    } catch (err) {
      this.lib = undefined;
      this.reason = `MIDI ports unavailable: ${(err as Error).message}`;
    }
  }

  unavailable(): string | undefined {
    return this.reason;
  }

  inputs(): string[] {
    return this.need().getInputs();
  }

  outputs(): string[] {
    return this.need().getOutputs();
  }

  openInput(name: string, virtual: boolean, onBytes: (bytes: Uint8Array) => void): OpenInput {
    const input = new (this.need().Input)(name, virtual);
    // easymidi's own handler throws on chunked SysEx (see the file comment): ours replaces it.
    input._input.removeAllListeners('message');
    input._input.on('message', (_dt, bytes) => onBytes(Uint8Array.from(bytes)));
    return {
      close: () => {
        input._input.removeAllListeners('message');
        input.close();
      },
    };
  }

  openOutput(name: string, virtual: boolean): OpenOutput {
    const output = new (this.need().Output)(name, virtual);
    return {
      send: (bytes) => output._output.sendMessage(Array.from(bytes)),
      close: () => output.close(),
    };
  }

  private need(): EasyMidi {
    if (this.lib === undefined) throw new Error(this.reason ?? 'MIDI ports unavailable');
    return this.lib;
  }
}

/** How a configured port is found among the OS port names. */
export interface PortMatch {
  name: string;
  match: 'exact' | 'substring' | 'regex';
}

/**
 * The first OS port name that matches: `exact` the whole name, `substring` a part of it ignoring case,
 * `regex` a regular expression (names and indexes change when a device is replugged: "Launchpad
 * X:Launchpad X MIDI 1 24:0" on Linux carries the ALSA client number).
 */
export function matchPort(names: readonly string[], want: PortMatch): string | undefined {
  switch (want.match) {
    case 'exact':
      return names.find((n) => n === want.name);
    case 'substring': {
      const needle = want.name.toLowerCase();
      return names.find((n) => n.toLowerCase().includes(needle));
    }
    case 'regex': {
      const re = new RegExp(want.name);
      return names.find((n) => re.test(n));
    }
  }
}
