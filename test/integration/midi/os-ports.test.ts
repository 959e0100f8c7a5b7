/**
 * The OS MIDI ports through the real easymidi/RtMidi binding. Needs a MIDI system: on Linux the ALSA
 * sequencer (`modprobe snd-seq`; `modprobe snd-virmidi` adds virtual hardware ports). Skipped by the
 * probe where there is none, as on this project's VMs and CI (README, "MIDI").
 *
 * easymidi itself is the outside peer here: it opens Performia's virtual ports from the other side.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { probeMidiSystem } from '../../../adapters/midi/os-ports.js';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { collector, startDaemon, testConfig } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';

interface EasyMidi {
  getInputs(): string[];
  getOutputs(): string[];
  Input: new (
    name: string,
  ) => { on(e: 'message', f: (m: Record<string, unknown>) => void): void; close(): void };
  Output: new (name: string) => { send(type: string, args: Record<string, unknown>): void; close(): void };
}

const midiSystem = probeMidiSystem() === undefined;
const easymidi = createRequire(import.meta.url)('easymidi') as EasyMidi;

let daemon: Daemon | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await daemon?.stop();
  daemon = undefined;
});

describe.skipIf(!midiSystem)('OS MIDI ports (needs a MIDI system)', () => {
  it('shows its virtual ports to other programs, and passes notes both ways', async () => {
    const got: AnyMessage[] = [];
    const name = `Performia Test ${process.pid}`;
    ({ daemon } = await startDaemon(
      testConfig({
        midi: {
          ports: { enabled: true, virtual: { enabled: true, input: `${name} In`, output: `${name} Out` } },
          network: { enabled: false },
          outputs: [{ type: 'play_note', send: 'note', to: ['virtual'] }],
        },
      }),
      [],
      [collector(got)],
    ));
    const d = daemon;
    // Performia's output is an input of other programs, and the other way round.
    const outName = easymidi.getInputs().find((n) => n.includes(`${name} Out`));
    const inName = easymidi.getOutputs().find((n) => n.includes(`${name} In`));
    expect(outName).toBeDefined();
    expect(inName).toBeDefined();
    const listener = new easymidi.Input(outName as string);
    const heard: Record<string, unknown>[] = [];
    listener.on('message', (m) => heard.push(m));
    closers.push(() => listener.close());
    const player = new easymidi.Output(inName as string);
    closers.push(() => player.close());

    player.send('noteon', { note: 60, velocity: 100, channel: 0 });
    await until(() => got.some((m) => m.type === 'midi_in'), 'midi_in from the virtual input');
    expect(got.find((m) => m.type === 'midi_in')?.payload).toEqual({
      port: 'virtual',
      kind: 'noteon',
      channel: 1,
      note: 60,
      velocity: 100,
    });
    (d as unknown as { bus: { publish(m: unknown): void } }).bus.publish({
      type: 'play_note',
      payload: { note: 64, velocity: 80, duration: 0.05, channel: 1 },
    });
    await until(
      () => heard.some((m) => m._type === 'noteoff' && m.note === 64),
      'note on and off at the listener',
    );
    expect(heard.filter((m) => m.note === 64).map((m) => m._type)).toEqual(['noteon', 'noteoff']);
  });
});
