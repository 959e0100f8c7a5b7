/**
 * OS MIDI ports with hotplug (issue #7): configured inputs and outputs are found by name, opened when
 * they appear and marked disconnected when they go, with no restart. RtMidi sends no events, so the
 * port list is polled (`midi.ports.pollMs`). A port missing at start is waited for, never fatal; a
 * missing MIDI system leaves every port `unavailable` with the reason, and the rest runs.
 */
import { matchPort, type OpenInput, type OpenOutput, type PortBackend, type PortMatch } from './os-ports.js';

/** A port endpoint's state. */
export type PortState = 'open' | 'waiting' | 'disconnected' | 'unavailable' | 'failed' | 'closed';

/** What /health shows of one port. */
export interface PortStats {
  id: string;
  direction: 'in' | 'out';
  /** The OS name it is open under (or was last), if any. */
  osName: string | undefined;
  state: PortState;
  reason?: string;
}

/** What the manager is told to open. */
export interface PortSettings {
  enabled: boolean;
  pollMs: number;
  virtual: { enabled: boolean; input: string; output: string };
  inputs: Readonly<Record<string, PortMatch>>;
  outputs: Readonly<Record<string, PortMatch>>;
}

/** Callbacks into the adapter. */
export interface PortEvents {
  bytes(id: string, bytes: Uint8Array): void;
  /** A port opened, went away, or failed: `midi_device` on the bus, a log line. */
  change(port: PortStats): void;
}

interface Slot {
  stats: PortStats;
  want: PortMatch | undefined;
  virtualName: string | undefined;
  input?: OpenInput;
  output?: OpenOutput;
}

export class PortManager {
  private readonly slots: Slot[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The OS port names as last read (for `GET /midi/ports` and `performia ports`). */
  private names: { inputs: string[]; outputs: string[] } = { inputs: [], outputs: [] };

  constructor(
    private readonly settings: PortSettings,
    private readonly backend: PortBackend,
    private readonly events: PortEvents,
  ) {
    const add = (id: string, direction: 'in' | 'out', want?: PortMatch, virtualName?: string): void => {
      this.slots.push({ stats: { id, direction, osName: virtualName, state: 'closed' }, want, virtualName });
    };
    if (settings.virtual.enabled) {
      add('virtual', 'in', undefined, settings.virtual.input);
      add('virtual', 'out', undefined, settings.virtual.output);
    }
    for (const [id, want] of Object.entries(settings.inputs)) add(id, 'in', want);
    for (const [id, want] of Object.entries(settings.outputs)) add(id, 'out', want);
  }

  /** Why no port can open, or undefined. */
  get unavailable(): string | undefined {
    return this.backend.unavailable();
  }

  /** Opens what can open now and starts polling for the rest. */
  start(): void {
    const reason = this.backend.unavailable();
    if (reason !== undefined) {
      // One reason for every port: the adapter logs it once and /health shows it per port.
      for (const s of this.slots) Object.assign(s.stats, { state: 'unavailable', reason });
      return;
    }
    for (const s of this.slots.filter((x) => x.virtualName !== undefined)) this.openVirtual(s);
    this.poll();
    this.timer = setInterval(() => this.poll(), this.settings.pollMs);
  }

  /** Closes every port and stops polling. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.slots) this.close(s, 'closed');
  }

  /** What the OS offers, as last polled. */
  available(): { inputs: string[]; outputs: string[] } {
    return { inputs: [...this.names.inputs], outputs: [...this.names.outputs] };
  }

  stats(): PortStats[] {
    return this.slots.map((s) => ({ ...s.stats }));
  }

  /** Sends to an open output port; false when it is not open (the caller counts it). */
  send(id: string, bytes: Uint8Array): boolean {
    let sent = false;
    for (const s of this.slots) {
      if (s.stats.id !== id || s.output === undefined) continue;
      try {
        s.output.send(bytes);
        sent = true;
      } catch (err) {
        // A device unplugged between two polls: the next poll marks it disconnected.
        this.close(s, 'disconnected', (err as Error).message);
      }
    }
    return sent;
  }

  /** Output endpoint ids that are open now. */
  openOutputs(): string[] {
    return this.slots.filter((s) => s.output !== undefined).map((s) => s.stats.id);
  }

  /** Reads the OS port lists: opens configured ports that appeared, closes those that went. */
  poll(): void {
    let names: { in: string[]; out: string[] };
    try {
      names = { in: this.backend.inputs(), out: this.backend.outputs() };
      this.names = { inputs: names.in, outputs: names.out };
    } catch (err) {
      for (const s of this.slots)
        if (s.virtualName === undefined) this.close(s, 'failed', (err as Error).message);
      return;
    }
    for (const s of this.slots) {
      if (s.want === undefined) continue;
      const list = s.stats.direction === 'in' ? names.in : names.out;
      const open = s.input !== undefined || s.output !== undefined;
      if (open && s.stats.osName !== undefined && !list.includes(s.stats.osName)) {
        this.close(s, 'disconnected', `${s.stats.osName} is gone (unplugged?); waiting for it to come back`);
        continue;
      }
      if (open) continue;
      const found = matchPort(list, s.want);
      if (found === undefined) {
        if (s.stats.state !== 'waiting' && s.stats.state !== 'disconnected') {
          this.set(
            s,
            'waiting',
            `no ${s.stats.direction === 'in' ? 'input' : 'output'} port matches "${s.want.name}" (${s.want.match}); waiting for it`,
          );
        }
        continue;
      }
      this.openPort(s, found, false);
    }
  }

  private openVirtual(s: Slot): void {
    if (!this.backend.virtualPorts) {
      this.set(
        s,
        'unavailable',
        'virtual MIDI ports need Linux (ALSA) or macOS (CoreMIDI); on Windows use loopMIDI',
      );
      return;
    }
    this.openPort(s, s.virtualName as string, true);
  }

  private openPort(s: Slot, name: string, virtual: boolean): void {
    try {
      if (s.stats.direction === 'in')
        s.input = this.backend.openInput(name, virtual, (b) => this.events.bytes(s.stats.id, b));
      else s.output = this.backend.openOutput(name, virtual);
      s.stats.osName = name;
      this.set(s, 'open');
    } catch (err) {
      this.set(s, 'failed', `cannot open ${name}: ${(err as Error).message}`);
    }
  }

  private close(s: Slot, state: PortState, reason?: string): void {
    try {
      s.input?.close();
      s.output?.close();
    } catch {
      // Closing a port whose device is gone can throw; the port is released either way.
    }
    const was = s.input !== undefined || s.output !== undefined;
    s.input = undefined;
    s.output = undefined;
    if (was || s.stats.state !== state) this.set(s, state, reason);
  }

  private set(s: Slot, state: PortState, reason?: string): void {
    s.stats.state = state;
    if (reason === undefined) delete s.stats.reason;
    else s.stats.reason = reason;
    this.events.change({ ...s.stats });
  }
}
