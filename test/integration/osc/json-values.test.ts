/**
 * Values that JSON cannot carry (issue #10): OSC's Infinitum, float infinities and NaN, and blobs reach
 * a /stream client in forms it can tell apart (daemon/kernel/json-values.ts), and sent back as they were
 * read (POST /messages) an output rule puts them on the wire again. The OSC peers are liblo's oscsend
 * and oscdump; the blob, which oscsend cannot send, goes out of our encoder.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeMessage } from '../../../adapters/osc/codec.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { oscPort, startDaemon, testConfig } from '../../helpers/daemon.js';
import { type Dump, libloAvailable, oscsend, startDump } from '../../helpers/liblo.js';

let daemon: Daemon | undefined;
let dump: Dump | undefined;
let ws: WebSocket | undefined;
afterEach(async () => {
  ws?.terminate();
  ws = undefined;
  await daemon?.stop();
  daemon = undefined;
  await dump?.stop();
  dump = undefined;
});

describe.skipIf(!libloAvailable)('OSC values through JSON and back', () => {
  it('tells Infinitum from Nil on the stream, and sends what the stream showed back as it came', async () => {
    dump = await startDump();
    ({ daemon } = await startDaemon(
      testConfig({
        osc: {
          listen: { host: '127.0.0.1', port: 0 },
          targets: { peer: { host: '127.0.0.1', port: dump.port, protocol: 'udp' } },
          outputs: [
            {
              type: 'echo',
              target: 'peer',
              address: '/back',
              args: [
                { type: 'I' },
                { type: 'f', from: 'inf' },
                { type: 'd', from: 'nan' },
                { type: 'N' },
                { type: 'f', from: 'neg' },
                { type: 'b', from: 'blob' },
              ],
            },
          ],
        },
      }),
    ));
    const frames: { payload: { address: string; types: string; args: unknown[] } }[] = [];
    ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/stream?type=osc_in`);
    const socket = ws;
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    const port = oscPort(daemon);

    await oscsend(port, '/a', 'IfdNf', 'inf', 'nan', '-inf');
    const blob = createSocket('udp4');
    await new Promise<void>((resolve) =>
      blob.send(
        encodeMessage('/blob', [{ type: 'b', value: Uint8Array.of(1, 2, 254) }]),
        port,
        '127.0.0.1',
        () => resolve(),
      ),
    );
    blob.close();
    const deadline = Date.now() + 5_000;
    while (frames.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const a = frames.find((f) => f.payload.address === '/a')?.payload;
    const b = frames.find((f) => f.payload.address === '/blob')?.payload;
    expect(a?.types).toBe('IfdNf');
    expect(a?.args).toEqual([
      { $numberDouble: 'Infinity' },
      { $numberDouble: 'Infinity' },
      { $numberDouble: 'NaN' },
      null,
      { $numberDouble: '-Infinity' },
    ]);
    expect(b?.args).toEqual([[1, 2, 254]]);

    // What the stream showed, sent back through the API, goes out as it came in.
    const res = await fetch(`${daemon.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'echo',
        payload: { inf: a?.args[1], nan: a?.args[2], neg: a?.args[4], blob: b?.args[0] },
      }),
    });
    expect(res.status).toBe(202);
    const line = await dump.waitFor((l) => l.address === '/back');
    expect(line.types).toBe('IfdNfb');
    expect(line.values.slice(0, 5)).toEqual(['Infinitum', 'inf', 'nan', 'Nil', '-inf']);
    // oscdump prints a blob as [<size>b <bytes in hex>].
    expect(line.raw).toMatch(/ \[3b 0x1 0x2 0xfe\]$/);
  });
});
