/**
 * `performia monitor` against a guarded stream (issue #10): it sends the token on the upgrade, and a
 * stream the server refuses (over its client cap) ends the command with the server's reason.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { streamMessages } from '../../../daemon/cli-client.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { startDaemon, testConfig } from '../../helpers/daemon.js';
import { CLI } from '../../helpers/process.js';
import { until } from '../../helpers/waiting.js';

const TOKEN = 'stage-token';
let daemon: Daemon | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await daemon?.stop();
  daemon = undefined;
});

const publish = (url: string) =>
  fetch(`${url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ type: 'cue', payload: { n: 1 } }),
  });

describe('performia monitor', () => {
  it('follows a stream that needs the token for reads', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { token: TOKEN, tokenForReads: true } })));
    const url = daemon.url;
    const lines: string[] = [];
    const done = streamMessages({ url, token: TOKEN }, new URLSearchParams({ type: 'cue' }), (l) =>
      lines.push(l),
    );
    // Connected once /health counts it.
    for (let clients = 0; clients !== 1; ) {
      const res = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
      clients = ((await res.json()) as { stream: { clients: number } }).stream.clients;
    }
    expect((await publish(url)).status).toBe(202);
    await until(() => lines.length > 0, 'the message');
    expect(lines[0]).toMatch(/cue api->broadcast \{"n":1\}/);
    await daemon.stop();
    await done;
    daemon = undefined;
    // Without the token the upgrade is refused.
    ({ daemon } = await startDaemon(testConfig({ api: { token: TOKEN, tokenForReads: true } })));
    await expect(
      streamMessages({ url: daemon.url, token: '' }, new URLSearchParams(), () => {}),
    ).rejects.toThrow(/401/);
  });

  it("ends with the server's reason when the stream is over its client cap", async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { stream: { maxClients: 1 } } })));
    const first = new WebSocket(`${daemon.url.replace('http', 'ws')}/stream`);
    clients.push(first);
    await new Promise((resolve, reject) => {
      first.once('open', resolve);
      first.once('error', reject);
    });
    await expect(
      streamMessages({ url: daemon.url, token: '' }, new URLSearchParams(), () => {}),
    ).rejects.toThrow(/the stream was closed: PFM_ERR_API_STREAM_FULL: Too many \/stream clients: 1/);
  });

  it('ends quietly when its reader goes away (`performia monitor | head -1`)', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const url = daemon.url;
    const shell = spawn('sh', ['-c', `node "${CLI}" monitor --url ${url} --type cue | head -1`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (d) => {
      stdout += String(d);
    });
    shell.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((resolve) => shell.once('exit', resolve));
    // Publish until `head` has its line and the monitor, writing the next ones into a closed pipe, ends.
    let ended = false;
    void exited.then(() => {
      ended = true;
    });
    const t0 = Date.now();
    while (!ended && Date.now() - t0 < 15_000) {
      await fetch(`${url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'cue', payload: { n: 1 } }),
      });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/^.*cue api->broadcast \{"n":1\}\n$/);
    expect(stderr).toBe('');
    // The monitor closed its stream: no client left.
    const res = await fetch(`${url}/health`);
    expect(((await res.json()) as { stream: { clients: number } }).stream.clients).toBe(0);
  });
});
