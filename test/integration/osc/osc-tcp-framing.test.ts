/**
 * OSC over TCP in both framings (issue #10): OSC 1.0's int32 length prefix (liblo's oscsend and oscdump,
 * SuperCollider) and OSC 1.1's SLIP (osc.js, TouchOSC), detected per connection; TCP targets in either
 * framing; streams that fit neither closed with a counted warning naming the source.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import osc from 'osc';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePacket, encodeMessage } from '../../../adapters/osc/codec.js';
import type { ListenerStats } from '../../../adapters/osc/listeners.js';
import { slipEncode } from '../../../adapters/osc/slip.js';
import { lengthEncode } from '../../../adapters/osc/tcp-framing.js';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { collector, oscPort, startDaemon, testConfig } from '../../helpers/daemon.js';
import { type Dump, libloAvailable, oscsend, startDump } from '../../helpers/liblo.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
let dump: Dump | undefined;
const sockets: Socket[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await daemon?.stop();
  daemon = undefined;
  await dump?.stop();
  dump = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const tcpConfig = (tcp: Record<string, unknown> = {}, more: Record<string, unknown> = {}) =>
  testConfig({
    osc: {
      listen: { host: '127.0.0.1', port: 0 },
      tcp: { enabled: true, host: '127.0.0.1', port: 0, ...tcp },
      ...more,
    },
  });

/** The TCP listener's figures (listener 1: after the UDP one). */
function tcpStats(d: Daemon): ListenerStats {
  const listeners = d.health().parts.find((p) => p.name === 'osc')?.details?.listeners as ListenerStats[];
  const tcp = listeners.find((l) => l.protocol === 'tcp');
  if (tcp === undefined) throw new Error('no TCP listener');
  return tcp;
}

function open(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  sockets.push(s);
  s.setNoDelay(true);
  // A connection the daemon closes may end in a reset: that is the outcome under test, not a failure.
  s.on('error', () => {});
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

const closed = (s: Socket): Promise<void> =>
  s.closed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));

const args = (got: AnyMessage[], address: string) =>
  got
    .filter((m) => (m.payload as { address?: string }).address === address)
    .map((m) => (m.payload as { args: unknown[] }).args);

const msg = (address: string, i: number) => encodeMessage(address, [{ type: 'i', value: i }]);

describe.skipIf(!libloAvailable && process.env.CI !== 'true')('OSC over TCP with liblo as the peer', () => {
  it('receives what oscsend sends over TCP (OSC 1.0 length prefix), one connection per message', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(tcpConfig(), [], [collector(got)]));
    const url = `osc.tcp://127.0.0.1:${oscPort(daemon, 1)}`;
    await oscsend(url, '/liblo/tcp', 'ifs', 1, 2.5, 'three');
    await oscsend(url, '/liblo/tcp', 'ifs', 2, 3.5, 'four');
    await until(() => got.length === 2, 'two messages from oscsend');
    expect(args(got, '/liblo/tcp')).toEqual([
      [1, 2.5, 'three'],
      [2, 3.5, 'four'],
    ]);
    const stats = tcpStats(daemon);
    expect(stats.framings).toEqual({ slip: 0, length: 2 });
    expect(stats.packetsIn).toBe(2);
    expect(stats.published).toBe(2);
    // Each oscsend wrote a 4-byte prefix and its packet: every byte is counted, framing included.
    const packet = encodeMessage('/liblo/tcp', [
      { type: 'i', value: 1 },
      { type: 'f', value: 2.5 },
      { type: 's', value: 'three' },
    ]);
    expect(stats.bytesIn).toBe(2 * (4 + packet.length));
  });

  it('sends to a TCP target with framing: length, several packets on one connection, as oscdump reads them', async () => {
    dump = await startDump('tcp');
    ({ daemon } = await startDaemon(
      tcpConfig(
        {},
        {
          targets: { sc: { host: '127.0.0.1', port: dump.port, protocol: 'tcp', framing: 'length' } },
          outputs: [
            { type: 'tempo_change', target: 'sc', address: '/sc/tempo', args: [{ type: 'f', from: 'bpm' }] },
          ],
        },
      ),
    ));
    for (const bpm of [90, 91, 92]) {
      const res = await fetch(`${daemon.url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'tempo_change', payload: { bpm } }),
      });
      expect(res.status).toBe(202);
    }
    await dump.waitFor((l) => l.address === '/sc/tempo' && Number(l.values[0]) === 92);
    expect(dump.lines.filter((l) => l.address === '/sc/tempo').map((l) => Number(l.values[0]))).toEqual([
      90, 91, 92,
    ]);
    const targets = daemon.health().parts.find((p) => p.name === 'osc')?.details?.targets;
    expect(targets).toMatchObject([
      { name: 'sc', framing: 'length', connected: true, packetsOut: 3, sendErrors: 0 },
    ]);
  });
});

describe('OSC over TCP, raw sockets', () => {
  it('reads several length-prefixed packets on one connection, split across TCP segments', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(tcpConfig(), [], [collector(got)]));
    const s = await open(oscPort(daemon, 1));
    const stream = Buffer.concat([1, 2, 3, 4].map((i) => lengthEncode(msg('/split', i))));
    // Pieces of 1, 2, 3… bytes, each read by the daemon before the next is written (bytesIn shows it),
    // so prefixes and packets are cut at every kind of place.
    let written = 0;
    for (let size = 1; written < stream.length; size = (size % 7) + 1) {
      const piece = stream.subarray(written, written + size);
      s.write(piece);
      written += piece.length;
      const d = daemon;
      await until(() => tcpStats(d).bytesIn === written, `the daemon to read ${written} bytes`);
    }
    await until(() => got.length === 4, 'four messages');
    expect(args(got, '/split')).toEqual([[1], [2], [3], [4]]);
    expect(tcpStats(daemon)).toMatchObject({ packetsIn: 4, published: 4, framings: { slip: 0, length: 1 } });
  });

  it('tells the framing of each connection apart, with a SLIP and a length-prefixed one open at once', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(tcpConfig(), [], [collector(got)]));
    const port = oscPort(daemon, 1);
    const slip = await open(port);
    const length = await open(port);
    const slipBytes = Buffer.concat([1, 2, 3].map((i) => slipEncode(msg('/slip', i))));
    const lengthBytes = Buffer.concat([1, 2, 3].map((i) => lengthEncode(msg('/length', i))));
    // Interleaved halves: each connection's bytes arrive while the other is mid-packet.
    const half = (b: Buffer) => Math.floor(b.length / 2);
    slip.write(slipBytes.subarray(0, half(slipBytes)));
    length.write(lengthBytes.subarray(0, half(lengthBytes)));
    const d = daemon;
    await until(() => tcpStats(d).bytesIn === half(slipBytes) + half(lengthBytes), 'both first halves read');
    length.write(lengthBytes.subarray(half(lengthBytes)));
    slip.write(slipBytes.subarray(half(slipBytes)));
    await until(() => got.length === 6, 'six messages');
    expect(args(got, '/slip')).toEqual([[1], [2], [3]]);
    expect(args(got, '/length')).toEqual([[1], [2], [3]]);
    expect(tcpStats(daemon)).toMatchObject({
      connections: 2,
      framings: { slip: 1, length: 1 },
      packetsIn: 6,
      published: 6,
      bytesIn: slipBytes.length + lengthBytes.length,
    });
  });

  it('still reads SLIP from osc.js (its TCPSocketPort), on auto and on framing: slip', async () => {
    for (const framing of ['auto', 'slip']) {
      const got: AnyMessage[] = [];
      ({ daemon } = await startDaemon(tcpConfig({ framing }), [], [collector(got)]));
      const port = new (osc as unknown as { TCPSocketPort: new (o: object) => OscJsTcpPort }).TCPSocketPort({
        address: '127.0.0.1',
        port: oscPort(daemon, 1),
        metadata: true,
      });
      port.on('error', () => {});
      const ready = new Promise<void>((r) => port.once('ready', () => r()));
      port.open();
      await ready;
      for (const i of [1, 2])
        port.send({
          address: '/oscjs',
          args: [
            { type: 'i', value: i },
            { type: 's', value: framing },
          ],
        });
      await until(() => got.length === 2, `two messages over ${framing}`);
      port.close();
      expect(args(got, '/oscjs')).toEqual([
        [1, framing],
        [2, framing],
      ]);
      expect(tcpStats(daemon).framings).toEqual({ slip: 1, length: 0 });
      await daemon.stop();
      daemon = undefined;
    }
  });

  it('sends SLIP to a TCP target without framing (the default), length-prefixed with framing: length', async () => {
    const received = new Map<string, Buffer>();
    const listen = (name: string) =>
      new Promise<number>((resolve) => {
        const server = createServer((c) => {
          c.on('data', (d) => received.set(name, Buffer.concat([received.get(name) ?? Buffer.alloc(0), d])));
        });
        servers.push(server);
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
      });
    const [slipPort, lengthPort] = [await listen('slip'), await listen('length')];
    ({ daemon } = await startDaemon(
      tcpConfig(
        {},
        {
          targets: {
            slip: { host: '127.0.0.1', port: slipPort, protocol: 'tcp' },
            length: { host: '127.0.0.1', port: lengthPort, protocol: 'tcp', framing: 'length' },
          },
          outputs: ['slip', 'length'].map((target) => ({
            type: 'tempo_change',
            target,
            address: '/t',
            args: [{ type: 'i', from: 'bpm' }],
          })),
        },
      ),
    ));
    for (const bpm of [100, 101]) {
      await fetch(`${daemon.url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'tempo_change', payload: { bpm } }),
      });
    }
    const packets = [100, 101].map((i) => msg('/t', i));
    const wantSlip = Buffer.concat(packets.map(slipEncode));
    const wantLength = Buffer.concat(packets.map(lengthEncode));
    await until(
      () =>
        received.get('slip')?.length === wantSlip.length &&
        received.get('length')?.length === wantLength.length,
      'both targets to receive two packets',
    );
    expect(received.get('slip')).toEqual(wantSlip);
    // Read back by hand: an int32 big-endian size, then the packet (OSC 1.0 "OSC Packets").
    const bytes = received.get('length') as Buffer;
    const first = bytes.readUInt32BE(0);
    expect(decodePacket(bytes.subarray(4, 4 + first), { maxBytes: 1024, maxDepth: 1 })).toMatchObject({
      address: '/t',
      args: [100],
    });
    expect(bytes).toEqual(wantLength);
  });

  it('closes a connection whose bytes fit neither framing, or whose length prefix is over the limit, counted and logged with the source', async () => {
    const got: AnyMessage[] = [];
    let lines: Record<string, unknown>[];
    ({ daemon, lines } = await startDaemon(tcpConfig({}, { maxDatagramBytes: 256 }), [], [collector(got)]));
    const port = oscPort(daemon, 1);

    const http = await open(port);
    const httpPort = http.localPort;
    http.write('GET / HTTP/1.1\r\n\r\n');
    await closed(http);
    const big = await open(port);
    big.write(Buffer.concat([lengthEncode(msg('/ok', 1)), Buffer.from([0, 0, 1, 4]), Buffer.alloc(260)]));
    await closed(big);

    const d = daemon;
    await until(() => got.length === 1, 'the packet before the over-size prefix');
    expect(tcpStats(d)).toMatchObject({
      connectionsClosed: 2,
      droppedFraming: 1,
      droppedOversize: 1,
      published: 1,
      packetsIn: 3,
    });
    const warnings = lines.filter((l) => l.code === 'PFM_ERR_OSC_FRAMING');
    expect(warnings.map((w) => w.msg)).toEqual([
      expect.stringMatching(
        /^OSC over TCP from 127\.0\.0\.1:\d+: first byte 0x47 fits neither framing: .*; the connection is closed$/,
      ),
      expect.stringMatching(
        /^OSC over TCP from 127\.0\.0\.1:\d+: length prefix of 260 bytes is over osc\.maxDatagramBytes \(256\); the connection is closed$/,
      ),
    ]);
    expect(warnings[0]).toMatchObject({ level: 40, listener: 'tcp', source: `127.0.0.1:${httpPort}` });

    // The listener goes on: a good connection after the bad ones is read.
    const good = await open(port);
    good.write(lengthEncode(msg('/after', 1)));
    await until(() => got.length === 2, 'a message after the bad connections');
    expect(args(got, '/after')).toEqual([[1]]);
  });

  it('drops a SLIP frame with a bad escape and reads on; counts a packet cut off by the close', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(tcpConfig(), [], [collector(got)]));
    const s = await open(oscPort(daemon, 1));
    s.write(
      Buffer.concat([
        slipEncode(msg('/a', 1)),
        Buffer.from([0xc0, 0x2f, 0xdb, 0x01, 0xc0]),
        slipEncode(msg('/a', 2)),
      ]),
    );
    await until(() => got.length === 2, 'the frames around the bad one');
    s.end(slipEncode(msg('/a', 3)).subarray(0, 6));
    await closed(s);
    const d = daemon;
    await until(() => tcpStats(d).droppedFraming === 2, 'the cut-off packet counted');
    expect(args(got, '/a')).toEqual([[1], [2]]);
    expect(tcpStats(daemon)).toMatchObject({
      packetsIn: 4,
      published: 2,
      droppedFraming: 2,
      connectionsClosed: 0,
    });
  });
});

describe('OSC TCP listener limits', () => {
  it('counts a connection refused over the 64 open ones', async () => {
    ({ daemon } = await startDaemon(tcpConfig()));
    const port = oscPort(daemon, 1);
    for (let i = 0; i < 64; i++) await open(port);
    const d = daemon;
    await until(() => tcpStats(d).connections === 64, '64 open connections');
    const extra = await open(port);
    await closed(extra);
    await until(() => tcpStats(d).connectionsOverLimit === 1, 'the refusal counted');
    expect(tcpStats(d)).toMatchObject({ connections: 64, packetsIn: 0, bytesIn: 0 });
  });
});

/** The part of osc.js's TCPSocketPort used here (osc-js.d.ts declares the UDP port only). */
interface OscJsTcpPort {
  on(event: 'error', fn: (err: Error) => void): void;
  once(event: 'ready', fn: () => void): void;
  open(): void;
  close(): void;
  send(packet: { address: string; args: { type: string; value: unknown }[] }): void;
}
