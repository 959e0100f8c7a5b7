import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Daemon } from '../../../daemon/daemon.js';
import { startDaemon, testConfig } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await daemon?.stop();
  daemon = undefined;
});

function connect(
  url: string,
  query: string,
): Promise<{ ws: WebSocket; received: { type: string; priority: number; payload: unknown }[] }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/stream${query}`);
  clients.push(ws);
  const received: { type: string; priority: number; payload: unknown }[] = [];
  ws.on('message', (data) => received.push(JSON.parse(String(data))));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, received }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

const publish = (url: string, body: unknown) =>
  fetch(`${url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('WebSocket /stream', () => {
  it('streams live messages filtered by type and minPriority, in order', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const url = daemon.url;
    const all = await connect(url, '');
    const filtered = await connect(url, '?type=alpha,beta&minPriority=HIGH');
    const sent = [
      { type: 'alpha', priority: 'LOW', payload: 1 },
      { type: 'alpha', priority: 'HIGH', payload: 2 },
      { type: 'gamma', priority: 'CRITICAL', payload: 3 },
      { type: 'beta', priority: 'CRITICAL', payload: 4 },
      { type: 'beta', priority: 'NORMAL', payload: 5 },
      { type: 'alpha', priority: 0, payload: 6 },
    ];
    for (const m of sent) expect((await publish(url, m)).status).toBe(202);
    await until(() => all.received.length === 6, 'all six messages');
    await until(() => filtered.received.length === 3, 'three filtered messages');
    expect(all.received.map((m) => m.payload)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(filtered.received.map((m) => `${m.type}:${m.payload}`)).toEqual(['alpha:2', 'beta:4', 'alpha:6']);
    expect(filtered.received[0]).toMatchObject({ from: 'api', to: 'broadcast', priority: 1 });
  });

  it('refuses a bad filter with 400 before the upgrade', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    await expect(connect(daemon.url, '?minPriority=URGENT')).rejects.toThrow(/HTTP 400/);
  });

  it('unsubscribes a client that leaves', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const { ws } = await connect(daemon.url, '?type=x');
    // The stream's own subscribers (the adapters have theirs).
    const count = async () =>
      (
        (await (await fetch(`${daemon?.url}/stats`)).json()) as { subscribers: { name: string }[] }
      ).subscribers.filter((s) => s.name.startsWith('stream#')).length;
    expect(await count()).toBe(1);
    ws.close();
    await until(() => ws.readyState === WebSocket.CLOSED, 'close');
    let n = 1;
    const end = Date.now() + 5_000;
    while (n !== 0 && Date.now() < end) {
      n = await count();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(n).toBe(0);
  });

  it('drops a client too slow to keep up, without slowing the bus', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { stream: { maxBufferedBytes: 4096 } } })));
    const url = daemon.url;
    const slow = await connect(url, '?type=big');
    const fast = await connect(url, '?type=big');
    // The slow client stops reading: its socket's buffers fill up on the server's side.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let closed = false;
    slow.ws.on('close', () => {
      closed = true;
    });
    const payload = 'x'.repeat(30_000);
    for (let i = 0; i < 200; i++) expect((await publish(url, { type: 'big', payload })).status).toBe(202);
    await until(() => fast.received.length === 200, 'the fast client to get all 200');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^performia_stream_dropped_total 1$/m);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => closed, 'the slow client to be closed');
    expect(slow.received.length).toBeLessThan(200);
  });
});
