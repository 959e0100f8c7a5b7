/**
 * Network MIDI end to end (issue #7): the daemon's RTP-MIDI session listener and initiator against the
 * npm `rtpmidi` package as the outside peer, over 127.0.0.1. Invitation both ways, notes, CC, SysEx and
 * clock both ways, the end of a session, a lost peer, no stuck notes, malformed packets.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { PerformiaConfig } from '../../../config/index.js';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { collector, startDaemon, testConfig } from '../../helpers/daemon.js';
import { type RtpMidiPeer, startPeer } from '../../helpers/rtpmidi-peer.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
const peers: RtpMidiPeer[] = [];
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function peer(name: string): Promise<RtpMidiPeer> {
  const p = await startPeer({ name, port: 0 });
  peers.push(p);
  return p;
}

function midiConfig(midi: Record<string, unknown>): PerformiaConfig {
  return testConfig({ midi: { ports: { enabled: false }, network: { port: 0, timeoutMs: 1_000 }, ...midi } });
}

interface NetworkDetails {
  listener: { controlPort: number; malformed: number; refused: number };
  sessions: { id: string; name: string; stage: string; latencyMs?: number; packetsIn: number }[];
}
const network = (d: Daemon): NetworkDetails =>
  d.health().parts.find((p) => p.name === 'midi')?.details?.network as NetworkDetails;
const midiDetails = (d: Daemon) =>
  d.health().parts.find((p) => p.name === 'midi')?.details as Record<string, unknown>;

/** Starts the daemon and has `p` invite it; resolves when the session is open on both sides. */
async function joined(config: PerformiaConfig, got: AnyMessage[], ...ps: RtpMidiPeer[]): Promise<Daemon> {
  ({ daemon } = await startDaemon(config, [], [collector(got)]));
  const d = daemon;
  for (const p of ps) await p.invite('127.0.0.1', network(d).listener.controlPort);
  await until(
    () => network(d).sessions.filter((s) => s.stage === 'open').length === ps.length,
    'sessions open',
  );
  return d;
}

const waitBus = (got: AnyMessage[], match: (m: AnyMessage) => boolean, what: string) =>
  until(() => got.some(match), what).then(() => got.find(match) as AnyMessage);
const bytesAre = (bytes: number[]) => (m: { bytes: number[] }) => m.bytes.join() === bytes.join();
const SYSEX = [0xf0, 0x7d, ...Array.from({ length: 97 }, (_, i) => i), 0xf7];

describe('network MIDI with the rtpmidi package as the peer', () => {
  it('accepts an invitation, announces the session, and turns notes, CC and SysEx into bus messages', async () => {
    const got: AnyMessage[] = [];
    const p = await peer('stage-laptop');
    const d = await joined(
      midiConfig({
        routes: [
          {
            kind: 'cc',
            controller: [20, 20],
            type: 'tempo_change',
            payload: { bpm: { name: 'value', add: 60 } },
          },
        ],
      }),
      got,
      p,
    );
    const opened = await waitBus(
      got,
      (m) => m.type === 'midi_device' && (m.payload as { state: string }).state === 'open',
      'midi_device open',
    );
    expect(opened.payload).toMatchObject({
      port: 'network:stage-laptop',
      direction: 'both',
      name: 'stage-laptop',
    });
    await p.send([0x92, 60, 100]);
    await p.send([0x82, 60, 0]);
    await p.send([0xb0, 20, 68]);
    await p.send(SYSEX);
    const sysex = await waitBus(
      got,
      (m) => m.type === 'midi_in' && (m.payload as { kind: string }).kind === 'sysex',
      'sysex',
    );
    const ins = got.filter((m) => m.type === 'midi_in').map((m) => m.payload);
    expect(ins.slice(0, 2)).toEqual([
      { port: 'network:stage-laptop', kind: 'noteon', channel: 3, note: 60, velocity: 100 },
      { port: 'network:stage-laptop', kind: 'noteoff', channel: 3, note: 60, velocity: 0 },
    ]);
    expect((sysex.payload as { data: number[] }).data).toEqual(SYSEX);
    expect(got.find((m) => m.type === 'tempo_change')?.payload).toEqual({ bpm: 128 });
    expect(network(d).sessions[0]).toMatchObject({
      id: 'network:stage-laptop',
      name: 'stage-laptop',
      stage: 'open',
    });
  });

  it('sends play_note, control_change and SysEx to the session, the note off after the duration', async () => {
    const got: AnyMessage[] = [];
    const p = await peer('synth');
    const d = await joined(
      midiConfig({
        outputs: [
          { type: 'play_note', send: 'note', to: ['network'] },
          { type: 'control_change', send: 'cc' },
          { type: 'dump', send: 'sysex', fields: { data: { from: 'bytes' } } },
        ],
      }),
      got,
      p,
    );
    const bus = (d as unknown as { bus: { publish: (m: unknown) => AnyMessage } }).bus;
    const sent = performance.now();
    bus.publish({ type: 'play_note', payload: { note: 64, velocity: 90, duration: 0.2, channel: 1 } });
    bus.publish({ type: 'control_change', payload: { channel: 16, controller: 7, value: 3 } });
    bus.publish({ type: 'dump', payload: { bytes: SYSEX } });
    await p.waitFor(bytesAre([0x90, 64, 90]));
    await p.waitFor(bytesAre([0xbf, 7, 3]));
    await p.waitFor(bytesAre(SYSEX));
    const off = await p.waitFor(bytesAre([0x80, 64, 0]));
    expect(off.at - sent).toBeGreaterThanOrEqual(195);
    expect(midiDetails(d).heldNotes).toEqual([]);
  });

  it('invites a configured peer, re-invites it when it is lost, and exchanges MIDI both ways', async () => {
    const got: AnyMessage[] = [];
    const p = await peer('desk');
    ({ daemon } = await startDaemon(
      midiConfig({
        network: { port: 0, timeoutMs: 1_000, peers: { desk: { host: '127.0.0.1', port: p.controlPort } } },
        outputs: [{ type: 'control_change', send: 'cc', to: ['desk'] }],
      }),
      [],
      [collector(got)],
    ));
    const d = daemon;
    const remote = await p.waitForJoin();
    expect(remote.name).toBe('Performia');
    await until(() => network(d).sessions.some((s) => s.id === 'desk' && s.stage === 'open'), 'desk open');
    await p.send([0x99, 36, 120]);
    const pad = await waitBus(got, (m) => m.type === 'midi_in', 'pad');
    expect(pad.payload).toEqual({ port: 'desk', kind: 'noteon', channel: 10, note: 36, velocity: 120 });
    (d as unknown as { bus: { publish: (m: unknown) => void } }).bus.publish({
      type: 'control_change',
      payload: { channel: 1, controller: 1, value: 99 },
    });
    await p.waitFor(bytesAre([0xb0, 1, 99]));
    // Clock sync ran (Performia initiated it): the latency estimate is in /health.
    await until(
      () => (network(d).sessions.find((s) => s.id === 'desk')?.latencyMs ?? -1) >= 0,
      'a clock sync',
    );
  });

  it('a peer that ends the session (BY) or vanishes gets its notes released on the other outputs', async () => {
    const got: AnyMessage[] = [];
    const keys = await peer('keys');
    const synth = await peer('synth');
    const d = await joined(
      midiConfig({
        // MIDI thru: notes from any session go to every other session.
        outputs: [
          { type: 'midi_in', where: { kind: 'noteon' }, send: 'noteon', to: ['network'] },
          { type: 'midi_in', where: { kind: 'noteoff' }, send: 'noteoff', to: ['network'] },
        ],
      }),
      got,
      keys,
      synth,
    );
    await keys.send([0x90, 60, 100]);
    await keys.send([0x90, 67, 100]);
    await synth.waitFor(bytesAre([0x90, 67, 100]));
    // Never echoed back to where it came from.
    expect(keys.received).toEqual([]);
    expect((midiDetails(d).heldNotes as unknown[]).length).toBe(2);
    await keys.end();
    await synth.waitFor(bytesAre([0x80, 60, 0]));
    await synth.waitFor(bytesAre([0x80, 67, 0]));
    await waitBus(
      got,
      (m) => m.type === 'midi_device' && (m.payload as { state: string }).state === 'closed',
      'closed',
    );
    expect(midiDetails(d).heldNotes).toEqual([]);

    // A second player who vanishes without a word: dropped after midi.network.timeoutMs (1 s here).
    const drums = await peer('drums');
    await drums.invite('127.0.0.1', network(d).listener.controlPort);
    await until(
      () => network(d).sessions.some((s) => s.name === 'drums' && s.stage === 'open'),
      'drums open',
    );
    await drums.send([0x99, 38, 100]);
    await synth.waitFor(bytesAre([0x99, 38, 100]));
    await drums.kill();
    const lost = await waitBus(
      got,
      (m) => m.type === 'midi_device' && (m.payload as { state: string }).state === 'lost',
      'lost',
    );
    expect(lost.payload).toMatchObject({
      port: 'network:drums',
      reason: expect.stringMatching(/no packet for/),
    });
    await synth.waitFor(bytesAre([0x89, 38, 0]));
    // The synth said nothing all this while, yet answers the clock-sync probe: it stays.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(network(d).sessions.map((s) => s.id)).toEqual(['network:synth']);
  });

  it('follows the clock a peer sends: tempo_change and transport', async () => {
    const got: AnyMessage[] = [];
    const p = await peer('daw');
    await joined(midiConfig({}), got, p);
    await p.send([0xfa]);
    // Real time, paced on this machine: a loaded VM adds jitter, so the clock runs until the tempo is
    // reported (at most 4 bars), not for a fixed count.
    const period = 60_000 / (150 * 24);
    const t0 = performance.now();
    for (let i = 0; i < 384 && !got.some((m) => m.type === 'tempo_change'); i++) {
      const due = t0 + i * period;
      while (performance.now() < due) await new Promise((r) => setImmediate(r));
      await p.send([0xf8]);
    }
    const start = await waitBus(got, (m) => m.type === 'transport', 'transport');
    expect(start.payload).toEqual({ state: 'start', position: 0 });
    const tempo = await waitBus(got, (m) => m.type === 'tempo_change', 'tempo_change');
    expect((tempo.payload as { bpm: number }).bpm).toBeGreaterThan(148);
    expect((tempo.payload as { bpm: number }).bpm).toBeLessThan(152);
    expect(got.some((m) => m.type === 'midi_in' && (m.payload as { kind: string }).kind === 'clock')).toBe(
      false,
    );
  });

  it('decodes MTC quarter frames from a session into a timecode position', async () => {
    const got: AnyMessage[] = [];
    const p = await peer('video');
    await joined(midiConfig({}), got, p);
    // 01:02:03:04 at 25 fps: pieces 0..7 carry frames, seconds, minutes, hours and the rate (MTC spec).
    for (const [piece, value] of [4, 0, 3, 0, 2, 0, 1, 2].entries())
      await p.send([0xf1, (piece << 4) | value]);
    const tc = await waitBus(got, (m) => (m.payload as { kind?: string }).kind === 'timecode', 'timecode');
    expect(tc.payload).toMatchObject({
      port: 'network:video',
      kind: 'timecode',
      hours: 1,
      minutes: 2,
      seconds: 3,
      frames: 4,
      rate: 25,
    });
    expect((tc.payload as { totalSeconds: number }).totalSeconds).toBeCloseTo(3723.16, 6);
    expect(got.some((m) => (m.payload as { kind?: string }).kind === 'mtc')).toBe(false);
  });

  it('sends its clock and start/stop to a session, following transport and tempo', async () => {
    const got: AnyMessage[] = [];
    const p = await peer('drum-machine');
    const d = await joined(midiConfig({ clock: { out: { to: ['network'], bpm: 120 } } }), got, p);
    const bus = (d as unknown as { bus: { publish: (m: unknown) => void } }).bus;
    bus.publish({ type: 'tempo_change', payload: { bpm: 150 } });
    bus.publish({ type: 'transport', payload: { state: 'start', position: 0 } });
    await p.waitFor(bytesAre([0xfa]));
    await until(() => p.received.filter((m) => m.bytes[0] === 0xf8).length >= 25, '25 clocks');
    const ticks = p.received.filter((m) => m.bytes[0] === 0xf8).map((m) => m.at);
    const span = (ticks[24]! - ticks[0]!) / 24;
    expect(span).toBeGreaterThan(60_000 / (150 * 24) - 2);
    expect(span).toBeLessThan(60_000 / (150 * 24) + 2);
    bus.publish({ type: 'transport', payload: { state: 'stop', position: 0 } });
    await p.waitFor(bytesAre([0xfc]));
  });

  it('counts malformed packets and random bytes, refuses nothing else, and keeps the session working', async () => {
    const got: AnyMessage[] = [];
    const p = await peer('noisy');
    const d = await joined(midiConfig({}), got, p);
    const port = network(d).listener.controlPort;
    const junk = createSocket('udp4');
    await new Promise<void>((r) => junk.bind(0, '127.0.0.1', () => r()));
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: 2 + (rand() % 64) }, () => rand() & 0xff));
      if (i % 3 === 0) bytes.writeUInt16BE(0xffff, 0); // looks like a session packet
      if (i % 3 === 1) bytes[0] = 0x80; // looks like RTP
      junk.send(bytes, port + (i % 2), '127.0.0.1');
    }
    // A truncated RTP-MIDI packet from the session's own address.
    junk.send(Buffer.from([0x80, 0x61, 0, 1, 0, 0, 0, 0]), port + 1, '127.0.0.1');
    await until(() => network(d).listener.malformed >= 250, 'malformed counted');
    junk.close();
    await p.send([0x90, 1, 1]);
    await waitBus(
      got,
      (m) => m.type === 'midi_in' && (m.payload as { note?: number }).note === 1,
      'note after junk',
    );
    expect(d.health().parts.find((x) => x.name === 'midi')?.state).toBe('ok');
  });
});
