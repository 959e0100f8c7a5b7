/**
 * The MIDI adapter through the control API and the daemon's lifecycle: POST /midi/panic releases held
 * notes on a session, GET /midi/ports, /metrics, a reload of routes and outputs, held notes released at
 * stop, and a lost note off repaired from the RTP-MIDI recovery journal. The npm rtpmidi package is the
 * outside peer; for the journal, a raw socket speaks AppleMIDI with our own encoder, because rtpmidi
 * never sends a journal (scratch notes: it parses and discards them).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalState } from '../../../adapters/midi/rtp/journal.js';
import { encodeRtpMidi } from '../../../adapters/midi/rtp/rtp-midi.js';
import { decodeSessionPacket, encodeSessionPacket } from '../../../adapters/midi/rtp/session-packets.js';
import type { PerformiaConfig } from '../../../config/index.js';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import { Daemon } from '../../../daemon/daemon.js';
import { defaultParts } from '../../../daemon/parts.js';
import { collector, memoryLogger, startDaemon, testConfig } from '../../helpers/daemon.js';
import { type RtpMidiPeer, startPeer } from '../../helpers/rtpmidi-peer.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
const peers: RtpMidiPeer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await Promise.all(peers.splice(0).map((p) => p.close()));
  for (const s of sockets.splice(0)) s.close();
});

const midiConfig = (midi: Record<string, unknown>): PerformiaConfig =>
  testConfig({ midi: { ports: { enabled: false }, network: { port: 0 }, ...midi } });
/** The MIDI part's health details (fails the test when the part is missing). */
function details(d: Daemon): Record<string, unknown> {
  const part = d.health().parts.find((p) => p.name === 'midi');
  if (part?.details === undefined) throw new Error('no MIDI part in /health');
  return part.details;
}
interface NetworkView {
  listener: { controlPort: number; state: string };
  sessions: { lost: number; recovered: number }[];
}
const network = (d: Daemon): NetworkView => details(d).network as NetworkView;
const controlPort = (d: Daemon): number => network(d).listener.controlPort;
const sessionCount = (d: Daemon): number => network(d).sessions.length;
const bytesAre = (bytes: number[]) => (m: { bytes: number[] }) => m.bytes.join() === bytes.join();
const publish = (d: Daemon, m: Record<string, unknown>): void =>
  (d as unknown as { bus: { publish(m: unknown): void } }).bus.publish(m);

async function peerIn(d: Daemon, name: string): Promise<RtpMidiPeer> {
  const p = await startPeer({ name, port: 0 });
  peers.push(p);
  await p.invite('127.0.0.1', controlPort(d));
  await until(
    () => (d.health().parts.find((x) => x.name === 'midi')?.details?.out as object) !== undefined,
    'midi',
  );
  return p;
}

describe('MIDI through the API and the lifecycle', () => {
  it('POST /midi/panic sends note offs for held notes and All Notes Off on the channels used', async () => {
    ({ daemon } = await startDaemon(
      midiConfig({ outputs: [{ type: 'play_chord', send: 'chord', to: ['network'] }] }),
    ));
    const d = daemon;
    const synth = await peerIn(d, 'synth');
    await until(() => sessionCount(d) === 1, 'session');
    publish(d, { type: 'play_chord', payload: { notes: [48, 55], velocity: 90, duration: 30, channel: 5 } });
    await synth.waitFor(bytesAre([0x94, 55, 90]));
    const res = await fetch(`${d.url}/midi/panic`, { method: 'POST' });
    expect(res.status).toBe(202);
    await synth.waitFor(bytesAre([0xb4, 123, 0]));
    const after = synth.received.map((m) => m.bytes).slice(2);
    expect(after).toEqual([
      [0x84, 48, 0],
      [0x84, 55, 0],
      [0xb4, 64, 0],
      [0xb4, 123, 0],
    ]);
    // The note offs the chord had scheduled 30 s ahead were cancelled with the panic.
    const held = details(d).heldNotes;
    expect(held).toEqual([]);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toMatch(/performia_midi_messages_out_total\{endpoint="network:synth"\} 6/);
    expect(metrics).toMatch(/performia_midi_events_total\{event="panics"\} 1/);
    expect(metrics).toContain('performia_midi_sessions 1');
  });

  it('GET /midi/ports lists the OS ports (or why none), the configured ones and the sessions', async () => {
    ({ daemon } = await startDaemon(testConfig({ midi: { network: { port: 0 } } })));
    const d = daemon;
    await peerIn(d, 'laptop');
    const body = (await (await fetch(`${d.url}/midi/ports`)).json()) as Record<string, unknown>;
    expect(body.configured).toEqual(details(d).ports);
    expect(typeof body.available).toBe('boolean');
    if (body.available === false) expect(body.reason).toMatch(/MIDI ports unavailable/);
    expect((body.network as { listener: { state: string } }).listener.state).toBe('bound');
    await until(() => sessionCount(d) === 1, 'session listed');
  });

  it('stopping the daemon releases held notes on the sessions before they close', async () => {
    ({ daemon } = await startDaemon(
      midiConfig({ outputs: [{ type: 'play_note', send: 'note', to: ['network'] }] }),
    ));
    const d = daemon;
    const synth = await peerIn(d, 'synth');
    await until(() => sessionCount(d) === 1, 'session');
    publish(d, { type: 'play_note', payload: { note: 70, velocity: 70, duration: 60, channel: 1 } });
    await synth.waitFor(bytesAre([0x90, 70, 70]));
    await d.stop();
    daemon = undefined;
    await synth.waitFor(bytesAre([0x80, 70, 0]));
    await synth.waitFor(bytesAre([0xb0, 123, 0]));
    await synth.waitForLeave();
  });

  it('a reload applies new MIDI routes and outputs at once', async () => {
    const first = midiConfig({ routes: [{ kind: 'noteon', type: 'pad_old' }] });
    let next = first;
    const got: AnyMessage[] = [];
    const { logger } = memoryLogger();
    daemon = new Daemon({
      config: first,
      logger,
      parts: [...defaultParts, collector(got)],
      reloadConfig: () => next,
    });
    await daemon.start();
    const d = daemon;
    const keys = await peerIn(d, 'keys');
    await until(() => sessionCount(d) === 1, 'session');
    await keys.send([0x90, 1, 1]);
    await until(() => got.some((m) => m.type === 'pad_old'), 'pad_old');
    next = midiConfig({
      routes: [{ kind: 'noteon', type: 'pad_new' }],
      outputs: [
        {
          type: 'pad_new',
          send: 'cc',
          fields: { channel: { value: 1 }, controller: { value: 9 }, value: { from: 'note' } },
        },
      ],
    });
    const result = await d.reload();
    expect(result?.restartNeeded).toEqual([]);
    expect(result?.changed).toEqual(expect.arrayContaining(['midi.routes', 'midi.outputs']));
    await keys.send([0x90, 2, 1]);
    await until(() => got.some((m) => m.type === 'pad_new'), 'pad_new');
    // The new output rule answers the new route's message, back to the other sessions only: none here.
    expect(got.filter((m) => m.type === 'pad_old')).toHaveLength(1);
  });

  it('repairs a lost note off from the recovery journal: the note is released, not left hanging', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(midiConfig({}), [], [collector(got)]));
    const port = controlPort(daemon);
    // A raw AppleMIDI peer (control + data sockets) that invites Performia.
    const [control, data] = await Promise.all([udp(), udp()]);
    const ssrc = 0x1234abcd;
    const token = 0x0badcafe;
    const answers: Buffer[] = [];
    const answered = (socket: Socket) =>
      new Promise<Buffer>((resolve) => socket.once('message', (b: Buffer) => resolve(b)));
    let ok = answered(control);
    control.send(encodeSessionPacket({ command: 'IN', token, ssrc, name: 'raw' }), port, '127.0.0.1');
    answers.push(await ok);
    ok = answered(data);
    data.send(encodeSessionPacket({ command: 'IN', token, ssrc, name: 'raw' }), port + 1, '127.0.0.1');
    answers.push(await ok);
    expect(answers.map((b) => decodeSessionPacket(new Uint8Array(b)).command)).toEqual(['OK', 'OK']);

    const journal = new JournalState();
    const sendPacket = (sequence: number, bytes: number[], deliver: boolean) => {
      const commands = [{ delta: 0, bytes: Uint8Array.from(bytes) }];
      const packet = encodeRtpMidi({
        ssrc,
        sequence,
        timestamp: sequence * 10,
        commands,
        journal: journal.journalFor(sequence, sequence * 10),
      });
      journal.record({ sequence, timestamp: sequence * 10, commands });
      if (deliver) data.send(packet, port + 1, '127.0.0.1');
    };
    sendPacket(100, [0x90, 60, 100], true); // note on arrives
    await until(
      () => got.some((m) => m.type === 'midi_in' && (m.payload as { kind: string }).kind === 'noteon'),
      'note on',
    );
    sendPacket(101, [0x80, 60, 0], false); // its note off is lost on the way
    sendPacket(102, [0xb0, 1, 5], true); // the next packet carries the journal
    await until(
      () => got.some((m) => m.type === 'midi_in' && (m.payload as { kind: string }).kind === 'noteoff'),
      'repaired note off',
    );
    const kinds = got.filter((m) => m.type === 'midi_in').map((m) => (m.payload as { kind: string }).kind);
    expect(kinds).toEqual(['noteon', 'noteoff', 'cc']);
    const session = network(daemon).sessions[0];
    expect(session).toMatchObject({ lost: 1, recovered: 1 });
  });
});

function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}
