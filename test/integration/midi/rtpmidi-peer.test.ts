/**
 * The rtpmidi test peer against itself over 127.0.0.1: proves the harness (invitation both ways, every kind
 * of MIDI message, BY, a vanished peer) before it is used against our own RTP-MIDI session.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { type RtpMidiPeer, startPeer } from '../../helpers/rtpmidi-peer.js';

const peers: RtpMidiPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function peer(name: string): Promise<RtpMidiPeer> {
  const p = await startPeer({ name, port: 0 });
  peers.push(p);
  return p;
}

/** `a` invites `b`; resolves when both sides report the other joined. */
async function joinedPair(): Promise<[RtpMidiPeer, RtpMidiPeer]> {
  const [a, b] = await Promise.all([peer('peer-a'), peer('peer-b')]);
  const [invited, joined] = await Promise.all([a.invite('127.0.0.1', b.controlPort), b.waitForJoin()]);
  expect(invited).toMatchObject({ name: 'peer-b', ssrc: b.ssrc, controlPort: b.controlPort });
  expect(joined).toMatchObject({ name: 'peer-a', ssrc: a.ssrc, address: '127.0.0.1' });
  return [a, b];
}

const same = (bytes: number[]) => (m: { bytes: number[] }) => m.bytes.join() === bytes.join();
const SYSEX = [0xf0, 0x7d, ...Array.from({ length: 97 }, (_, i) => i), 0xf7]; // 100 bytes

describe('rtpmidi peer harness', () => {
  it('binds an even control port and the odd data port above it on 127.0.0.1', async () => {
    const p = await peer('ports');
    expect(p.controlPort % 2).toBe(0);
    expect(p.dataPort).toBe(p.controlPort + 1);
    await expect(startPeer({ name: 'taken', port: p.controlPort })).rejects.toThrow(
      /cannot bind.*EADDRINUSE/,
    );
    await expect(startPeer({ name: 'odd', port: p.dataPort })).rejects.toThrow(/even control port/);
  });

  it.each([
    ['note on', [0x90, 60, 100]],
    ['note off', [0x80, 60, 0]],
    ['control change', [0xb3, 7, 127]],
    ['SysEx of 100 bytes', SYSEX],
    ['clock', [0xf8]],
  ])('%s arrives with its exact bytes, both ways', async (_what, bytes) => {
    const [a, b] = await joinedPair();
    await a.send(bytes);
    expect((await b.waitFor(same(bytes))).bytes).toEqual(bytes);
    await b.send(bytes);
    expect((await a.waitFor(same(bytes))).bytes).toEqual(bytes);
    expect([a.received.length, b.received.length]).toEqual([1, 1]);
  });

  it('invites the other way round, and several messages keep their order', async () => {
    const [a, b] = await Promise.all([peer('peer-a'), peer('peer-b')]);
    await Promise.all([b.invite('127.0.0.1', a.controlPort), a.waitForJoin()]);
    const sent = [[0x90, 64, 90], [0xf8], [0xb0, 1, 2], [0x80, 64, 0]];
    for (const bytes of sent) await b.send(bytes);
    await a.waitFor(same([0x80, 64, 0]));
    expect(a.received.map((m) => m.bytes)).toEqual(sent);
    expect(a.received.every((m, i) => i === 0 || m.at >= (a.received[i - 1]?.at ?? 0))).toBe(true);
  });

  it('end() sends BY: the other side sees the leave', async () => {
    const [a, b] = await joinedPair();
    const left = b.waitForLeave();
    await a.end();
    expect(await left).toMatchObject({ name: 'peer-a', ssrc: a.ssrc });
    await expect(a.send([0x90, 1, 1])).rejects.toThrow(/closed/);
    await expect(b.send([0x90, 1, 1])).rejects.toThrow(/no remote has joined/);
  });

  it('kill() vanishes without BY: rtpmidi never notices (no timeout), and sends into the void', async () => {
    const [a, b] = await joinedPair();
    await a.kill();
    await expect(b.waitForLeave(2_000)).rejects.toThrow(/no remote left/);
    expect(b.joined.map((r) => r.ssrc)).toEqual([a.ssrc]);
    await b.send([0x90, 2, 2]); // still "joined": the datagram goes to a closed port without an error
    expect(b.errors).toEqual([]);
  });

  it('invite() rejects with a clear error when nobody answers', async () => {
    const gone = await startPeer({ name: 'gone', port: 0 });
    await gone.close();
    const a = await peer('peer-a');
    await expect(a.invite('127.0.0.1', gone.controlPort, 500)).rejects.toThrow(
      `rtpmidi peer peer-a: invitation to 127.0.0.1:${gone.controlPort} not accepted on both channels within 500 ms`,
    );
  });

  it('invite() rejects with a clear error when the invited side answers NO', async () => {
    const free = await startPeer({ name: 'free', port: 0 });
    await free.close();
    // A stand-in that refuses every invitation: AppleMIDI NO echoes the IN's token (rtpmidi never refuses).
    const refuser = createSocket('udp4');
    await new Promise<void>((resolve) => refuser.bind(free.controlPort, '127.0.0.1', resolve));
    refuser.on('message', (msg, rinfo) => {
      const no = Buffer.from(msg.subarray(0, 16));
      no.write('NO', 2, 'latin1');
      refuser.send(no, rinfo.port, rinfo.address);
    });
    try {
      const a = await peer('peer-a');
      await expect(a.invite('127.0.0.1', free.controlPort)).rejects.toThrow(
        `rtpmidi peer peer-a: invitation to 127.0.0.1:${free.controlPort} refused (NO)`,
      );
    } finally {
      await new Promise<void>((resolve) => refuser.close(resolve));
    }
  });

  it('close() is idempotent and leaves no socket or timer running', async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
    const before = { udp: count('UDPWrap'), timers: count('Timeout') };
    const [a, b] = await joinedPair();
    await a.send([0x90, 3, 3]);
    await b.waitFor(same([0x90, 3, 3])); // arms b's receiver-feedback timer
    expect(count('UDPWrap')).toBe(before.udp + 4);
    const first = a.close();
    expect(a.close()).toBe(first);
    await Promise.all([first, b.end(), b.close()]);
    expect({ udp: count('UDPWrap'), timers: count('Timeout') }).toEqual(before);
  });
});
