/**
 * What the daemon does for the dashboard (issue #12), without a browser: the static files under /ui
 * (open like /docs, pre-compressed, with a Content-Security-Policy), a clear 404 where the dashboard is
 * not built, and the stream's `maxTypeRate`, the sample a page asks for so that it never slows the bus.
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { dashboardAddress, uiRoutes } from '../../daemon/api/ui.js';
import type { MessageBus } from '../../daemon/bus/index.js';
import type { Daemon } from '../../daemon/daemon.js';
import { startDaemon, testConfig } from '../helpers/daemon.js';
import { until } from '../helpers/waiting.js';
import { dashboardBuilt } from './dashboard.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

describe('the dashboard served under /ui', () => {
  it.skipIf(!dashboardBuilt())('serves the built page to anyone, compressed, with a strict CSP', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { token: 'sekrit', tokenForReads: true } })));
    const url = daemon.url;
    const bare = await fetch(`${url}/ui`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('ui/');
    const page = await fetch(`${url}/ui/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const script = await fetch(`${url}/ui/app.js`, { headers: { 'accept-encoding': 'br' } });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-encoding')).toBe('br');
    // The page is open, what it reads is not: reads need the token (api.tokenForReads).
    expect((await fetch(`${url}/stats`)).status).toBe(401);
    expect((await fetch(`${url}/ui/missing.js`)).status).toBe(404);
  });

  it('says so, with a 404, where the dashboard is not built', async () => {
    const app = Fastify();
    await app.register(uiRoutes, { root: undefined });
    for (const path of ['/ui', '/ui/', '/ui/app.js']) {
      const res = await app.inject({ url: path });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({
        code: 'PFM_ERR_API_NOT_FOUND',
        message: expect.stringMatching(/dashboard is not built.*npm run build/),
      });
    }
    await app.close();
    expect(dashboardAddress('http://127.0.0.1:7070', false)).toBe(
      'http://127.0.0.1:7070/ui/ (not built: run npm run build)',
    );
  });
});

describe('/stream?maxTypeRate', () => {
  it('sends at most that many messages a second of each type, and every message of the rare ones', async () => {
    let bus: MessageBus | undefined;
    ({ daemon } = await startDaemon(
      testConfig(),
      [],
      [
        (ctx) => {
          bus = ctx.bus;
          return [];
        },
      ],
    ));
    const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/stream?maxTypeRate=20`);
    const got: { type: string; payload: number }[] = [];
    ws.on('message', (data) => got.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    try {
      for (let i = 0; i < 500; i++) bus?.publish({ type: 'flood', payload: i, from: 'test' });
      for (let i = 0; i < 3; i++) bus?.publish({ type: 'beat_like', payload: i, from: 'test' });
      await until(() => got.filter((m) => m.type === 'beat_like').length === 3, 'the three rare messages');
      // Published within one second: the first 20 of the flood, in order.
      expect(got.filter((m) => m.type === 'flood').map((m) => m.payload)).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
    } finally {
      ws.close();
    }
    const refused = new WebSocket(`${daemon.url.replace('http', 'ws')}/stream?maxTypeRate=0`);
    const status = await new Promise<number>((resolve, reject) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('open', () => reject(new Error('maxTypeRate=0 was accepted')));
    });
    // Refused before it opened: terminate reports that as an error, which is the expected outcome here.
    refused.on('error', () => undefined);
    refused.terminate();
    expect(status).toBe(400);
  });
});
