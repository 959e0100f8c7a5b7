/**
 * Nothing arrives without being counted (issue #10): every byte and packet a listener receives is in
 * its `bytesIn` and `packetsIn`, and every packet ends in exactly one counted outcome. A mixed run over
 * two UDP listeners and the TCP listener (both framings) holds the sum for each, in /health and in
 * /metrics.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBundle, encodeMessage, msToTimetag } from '../../../adapters/osc/codec.js';
import { type ListenerStats, PACKET_OUTCOMES } from '../../../adapters/osc/listeners.js';
import { slipEncode } from '../../../adapters/osc/slip.js';
import { lengthEncode } from '../../../adapters/osc/tcp-framing.js';
import { systemClock } from '../../../daemon/bus/index.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { startDaemon, testConfig } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
const udp: UdpSocket[] = [];
const tcp: Socket[] = [];
afterEach(async () => {
  for (const s of tcp.splice(0)) s.destroy();
  for (const s of udp.splice(0)) s.close();
  await daemon?.stop();
  daemon = undefined;
});

const MAX = 512;
const IMMEDIATELY = { seconds: 0, fraction: 1 };
const tempo = (bpm: number) => encodeMessage('/tempo', [{ type: 'f', value: bpm }]);
const unrouted = (i: number) => encodeMessage('/x', [{ type: 'i', value: i }]);
/** A message whose int argument is missing: the decoder refuses it (the bytes run out). */
const malformed = () => encodeMessage('/m', [{ type: 'i', value: 1 }]).subarray(0, 8);
const later = (ms: number) => encodeBundle(msToTimetag(systemClock() + ms), [unrouted(0)]);

/** A UDP socket bound to `from` (127.0.0.2 is outside the allowlist: all of 127/8 is loopback). */
function udpFrom(from: string): Promise<UdpSocket> {
  const s = createSocket('udp4');
  udp.push(s);
  return new Promise((resolve) => s.bind(0, from, () => resolve(s)));
}

async function sendAll(s: UdpSocket, port: number, packets: readonly Uint8Array[]): Promise<number> {
  for (const p of packets)
    await new Promise<void>((r, j) => s.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  return packets.reduce((n, p) => n + p.length, 0);
}

/** Opens a TCP connection (from `from`), writes `bytes` in one write, and waits until it closed. */
async function tcpSession(
  port: number,
  bytes: Uint8Array,
  how: 'end' | 'wait',
  from = '127.0.0.1',
): Promise<void> {
  const s = connect({ host: '127.0.0.1', port, localAddress: from });
  tcp.push(s);
  // The daemon closes some of these connections (that is under test): a reset is an expected outcome.
  s.on('error', () => {});
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  await new Promise<void>((r) => s.once('connect', () => r()));
  if (how === 'end') s.end(bytes);
  else s.write(bytes);
  await closed;
}

const outcomeSum = (l: ListenerStats) =>
  PACKET_OUTCOMES.filter((o) => l.protocol === 'udp' || o !== 'droppedAllowlist').reduce(
    (n, o) => n + l[o],
    0,
  );

describe('OSC listeners count everything that arrives', () => {
  it('after a mixed run, each listener’s packets in equal the sum of their outcomes, and its bytes in all it was sent', async () => {
    ({ daemon } = await startDaemon(
      testConfig({
        osc: {
          listen: { host: '127.0.0.1', port: 0 },
          extraListen: [{ host: '127.0.0.1', port: 0 }],
          tcp: { enabled: true, host: '127.0.0.1', port: 0 },
          maxDatagramBytes: MAX,
          allow: ['127.0.0.1/32'],
          routes: [{ address: '/tempo', type: 'tempo_change', payload: { bpm: { arg: 0 } } }],
        },
      }),
    ));
    const d = daemon;
    const listeners = () =>
      d.health().parts.find((p) => p.name === 'osc')?.details?.listeners as ListenerStats[];
    const [udp0, udp1, tcpPort] = listeners().map((l) => l.port) as [number, number, number];

    // UDP: routed, unrouted, a route's mapping error (published as osc_in), malformed, over-size, held,
    // too far ahead, an immediate bundle holding a future one (held), and strangers.
    const mixed = [
      ...[120, 121, 122].map(tempo),
      encodeMessage('/tempo', [{ type: 's', value: 'fast' }]),
      ...[1, 2].map(unrouted),
      malformed(),
      malformed(),
      new Uint8Array(MAX + 88),
      later(30_000),
      later(120_000),
      encodeBundle(IMMEDIATELY, [unrouted(3), later(30_000)]),
    ];
    const sentUdp: number[] = [];
    for (const port of [udp0, udp1]) {
      const own = await sendAll(await udpFrom('127.0.0.1'), port, mixed);
      const stranger = await sendAll(await udpFrom('127.0.0.2'), port, [unrouted(9), unrouted(10)]);
      sentUdp.push(own + stranger);
    }

    // TCP: a length-prefixed stream (valid, held, malformed), a SLIP stream (valid, bad escape,
    // over-size, cut off by the close), streams closed by the daemon (an over-size prefix, bytes of
    // neither framing), and a stranger refused at accept.
    const lengthStream = Buffer.concat(
      [tempo(100), unrouted(4), unrouted(5), later(30_000), malformed()].map(lengthEncode),
    );
    const slipStream = Buffer.concat([
      ...[unrouted(6), tempo(101)].map(slipEncode),
      Buffer.from([0xc0, 0x2f, 0xdb, 0x05, 0xc0]),
      slipEncode(new Uint8Array(MAX + 4).fill(0x2f)),
      slipEncode(unrouted(7)).subarray(0, 9),
    ]);
    const oversizePrefix = Buffer.concat([lengthEncode(unrouted(8)), Buffer.from([0, 0, 4, 0])]);
    const neither = Buffer.from('GET ');
    await tcpSession(tcpPort, lengthStream, 'end');
    await tcpSession(tcpPort, slipStream, 'end');
    await tcpSession(tcpPort, oversizePrefix, 'wait');
    await tcpSession(tcpPort, neither, 'wait');
    await tcpSession(tcpPort, unrouted(11), 'wait', '127.0.0.2');
    const sentTcp = lengthStream.length + slipStream.length + oversizePrefix.length + neither.length;

    await until(
      () => listeners()[0]?.packetsIn === 14 && listeners()[1]?.packetsIn === 14,
      'every datagram read',
    );
    await until(
      () => listeners()[2]?.packetsIn === 13 && listeners()[2]?.connections === 0,
      'every stream read',
    );
    const [u0, u1, t] = listeners() as [ListenerStats, ListenerStats, ListenerStats];
    for (const l of [u0, u1]) {
      expect(l).toMatchObject({
        packetsIn: 14,
        published: 6,
        held: 2,
        decodeErrors: 2,
        droppedAllowlist: 2,
        droppedOversize: 1,
        droppedFraming: 0,
        droppedTooFar: 1,
        refusedByBus: 0,
        internalErrors: 0,
      });
      expect(outcomeSum(l)).toBe(l.packetsIn);
    }
    expect([u0.bytesIn, u1.bytesIn]).toEqual(sentUdp);
    expect(t).toMatchObject({
      packetsIn: 13,
      published: 6,
      held: 1,
      decodeErrors: 1,
      droppedOversize: 2,
      droppedFraming: 3,
      droppedTooFar: 0,
      // Connections refused at accept: no byte of theirs was read, so no packet counted.
      droppedAllowlist: 1,
      connectionsClosed: 2,
      framings: { slip: 1, length: 2 },
    });
    expect(outcomeSum(t)).toBe(t.packetsIn);
    expect(t.bytesIn).toBe(sentTcp);

    // /metrics: the outcomes of each listener sum to its packets in.
    const text = await (await fetch(`${d.url}/metrics`)).text();
    for (const l of [u0, u1, t]) {
      const name = `${l.protocol}://${l.host}:${l.port}`;
      const value = (re: RegExp) =>
        text
          .split('\n')
          .filter((line) => re.test(line) && line.includes(`listener="${name}"`))
          .reduce((n, line) => n + Number(line.split(' ').at(-1)), 0);
      expect(value(/^performia_osc_packets_in_total\{/), name).toBe(l.packetsIn);
      expect(value(/^performia_osc_packet_outcomes_total\{/), name).toBe(l.packetsIn);
      expect(value(/^performia_osc_bytes_in_total\{/), name).toBe(l.bytesIn);
    }
  });
});
