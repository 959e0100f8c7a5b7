/**
 * The /stream client caps (issue #10, "The API under abuse"): in total and per source address, a
 * client over a cap is closed with 1013 and a reason, counted in /metrics and /health, and a place that
 * frees up lets the next client in. Real WebSocket clients; other source addresses come from binding
 * the client to 127.0.0.2 and 127.0.0.3 (all of 127.0.0.0/8 is loopback on Linux).
 */
import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Daemon } from '../../../daemon/daemon.js';
import { startDaemon, testConfig } from '../../helpers/daemon.js';

let daemon: Daemon | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await daemon?.stop();
  daemon = undefined;
});

interface Client {
  ws: WebSocket;
  received: { type: string; payload: unknown }[];
  /** Resolves with the close code and reason, whenever the connection closes. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens /stream?type=probe from `from` (a loopback address); resolves once the handshake is done. */
function connect(url: string, from = '127.0.0.1'): Promise<Client> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/stream?type=probe`, { localAddress: from });
  clients.push(ws);
  const received: Client['received'] = [];
  ws.on('message', (data) => received.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no handshake from ${from} within 5 s`)), 5_000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ ws, received, closed });
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** The close of `client`, within 5 s. */
function closeOf(client: Client): Promise<{ code: number; reason: string }> {
  return Promise.race([
    client.closed,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the client was not closed within 5 s')), 5_000).unref(),
    ),
  ]);
}

/** Publishes one `probe` and waits until every client in `admitted` has it (so each is really served). */
async function probe(url: string, admitted: Client[], n: number): Promise<void> {
  const res = await fetch(`${url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'probe', payload: n }),
  });
  expect(res.status).toBe(202);
  const end = Date.now() + 5_000;
  while (!admitted.every((c) => c.received.some((m) => m.payload === n))) {
    if (Date.now() > end) throw new Error(`probe ${n} did not reach every admitted client`);
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const c of admitted) expect(c.ws.readyState).toBe(WebSocket.OPEN);
}

async function metric(url: string, line: RegExp): Promise<string | undefined> {
  return (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => line.test(l));
}

async function streamHealth(url: string): Promise<Record<string, unknown>> {
  return ((await (await fetch(`${url}/health`)).json()) as { stream: Record<string, unknown> }).stream;
}

const PER_ADDRESS =
  'PFM_ERR_API_STREAM_FULL: Too many /stream clients from one address: 2 (api.stream.maxClientsPerAddress)';
const TOTAL = 'PFM_ERR_API_STREAM_FULL: Too many /stream clients: 3 (api.stream.maxClients)';

describe('WebSocket /stream caps', () => {
  it('caps clients per source address; other addresses still get in; a freed place lets one in', async () => {
    let lines: Record<string, unknown>[];
    ({ daemon, lines } = await startDaemon(testConfig({ api: { stream: { maxClientsPerAddress: 2 } } })));
    const url = daemon.url;
    const a1 = await connect(url);
    const a2 = await connect(url);
    const a3 = await connect(url);
    expect(await closeOf(a3)).toEqual({ code: 1013, reason: PER_ADDRESS });
    // Another address has its own places.
    const b1 = await connect(url, '127.0.0.2');
    await probe(url, [a1, a2, b1], 1);
    expect(a3.received).toEqual([]);
    expect(await streamHealth(url)).toEqual({
      clients: 3,
      maxClients: 32,
      maxClientsPerAddress: 2,
      dropped: 0,
      refused: { maxClients: 0, maxClientsPerAddress: 1 },
    });
    expect(await metric(url, /^performia_stream_refused_total\{limit="maxClientsPerAddress"\}/)).toBe(
      'performia_stream_refused_total{limit="maxClientsPerAddress"} 1',
    );
    expect(await metric(url, /^performia_stream_clients /)).toBe('performia_stream_clients 3');

    // One of 127.0.0.1's clients leaves: the next one from there gets its place, the one after does not.
    a1.ws.close();
    await closeOf(a1);
    const a4 = await connect(url);
    const a5 = await connect(url);
    expect(await closeOf(a5)).toEqual({ code: 1013, reason: PER_ADDRESS });
    await probe(url, [a2, a4, b1], 2);
    expect(a4.received.map((m) => m.payload)).toEqual([2]);
    expect(await metric(url, /^performia_stream_refused_total\{limit="maxClientsPerAddress"\}/)).toBe(
      'performia_stream_refused_total{limit="maxClientsPerAddress"} 2',
    );
    // Logged at warn with the code, once per address and interval: the second refusal is held back.
    const refusals = lines.filter((l) => l.code === 'PFM_ERR_API_STREAM_FULL');
    expect(refusals).toEqual([
      expect.objectContaining({ level: 40, address: '127.0.0.1', limit: 2, refused: 1 }),
    ]);
  });

  it('caps clients in total, whatever their address; a freed place lets one in', async () => {
    ({ daemon } = await startDaemon(
      testConfig({ api: { stream: { maxClients: 3, maxClientsPerAddress: 10 } } }),
    ));
    const url = daemon.url;
    const first = [await connect(url), await connect(url), await connect(url)];
    const fourth = await connect(url);
    expect(await closeOf(fourth)).toEqual({ code: 1013, reason: TOTAL });
    // The total cap holds for a fresh address as well.
    const elsewhere = await connect(url, '127.0.0.3');
    expect(await closeOf(elsewhere)).toEqual({ code: 1013, reason: TOTAL });
    await probe(url, first, 1);
    expect(await streamHealth(url)).toMatchObject({
      clients: 3,
      refused: { maxClients: 2, maxClientsPerAddress: 0 },
    });
    expect(await metric(url, /^performia_stream_refused_total\{limit="maxClients"\}/)).toBe(
      'performia_stream_refused_total{limit="maxClients"} 2',
    );

    first[0]?.ws.close();
    if (first[0] !== undefined) await closeOf(first[0]);
    const again = await connect(url, '127.0.0.3');
    await probe(url, [again, ...first.slice(1)], 2);
    expect(await streamHealth(url)).toMatchObject({ clients: 3 });
  });

  it('cuts a refused client that never answers the close frame', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { stream: { maxClientsPerAddress: 1 } } })));
    const url = daemon.url;
    await connect(url);
    // A raw client: it reads everything the server sends but never answers the close frame.
    const socket = connectTcp({ host: '127.0.0.1', port: Number(new URL(url).port) });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    socket.write(
      [
        'GET /stream HTTP/1.1',
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    const started = Date.now();
    const endedAt = await Promise.race([
      ended,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the server kept the refused socket open')), 5_000).unref(),
      ),
    ]);
    // The server let go after its 1 s linger, far sooner than ws's 30 s closing-handshake timeout.
    expect(endedAt - started).toBeLessThan(5_000);
    const bytes = Buffer.concat(chunks);
    expect(bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    // The close frame (opcode 8), then code 1013 and the reason.
    const frame = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(1013);
    expect(frame.subarray(4).toString()).toMatch(/^PFM_ERR_API_STREAM_FULL: /);
    expect(await streamHealth(url)).toMatchObject({ clients: 1 });
  });
});
