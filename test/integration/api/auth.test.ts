/**
 * Who may call what (issue #10, "The API under abuse"): the Bearer scheme in any case (RFC 7235 §2.1),
 * and `api.tokenForReads`, which guards every read but a status-only /health and /docs, over HTTP and
 * on the WebSocket upgrade (Authorization header, or the token subprotocol a browser can send; never the
 * URL).
 */
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

// A token as `openssl rand -base64` makes them: '/', '+' and '=' cannot stand in a subprotocol as is.
const TOKEN = 'k/9+Qz=';
const tokenProtocol = (token: string) => `performia.bearer.${Buffer.from(token).toString('base64url')}`;

const post = (url: string, headers: Record<string, string> = {}, type = 'x') =>
  fetch(`${url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ type }),
  });

/** A daemon bound beyond loopback with a token; its URL as reached over loopback. */
async function guarded(api: Record<string, unknown> = {}): Promise<string> {
  ({ daemon } = await startDaemon(testConfig({ api: { host: '0.0.0.0', token: TOKEN, ...api } })));
  return daemon.url.replace('0.0.0.0', '127.0.0.1');
}

/**
 * Opens /stream with `options`; resolves with the client once open and `probe` messages flow (one
 * published with the token reaches it), or rejects with `HTTP <status>` once the server has closed the
 * refused connection, or with the client's error.
 */
function stream(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string>; query?: string } = {},
): Promise<WebSocket> {
  const ws = new WebSocket(
    `${url.replace('http', 'ws')}/stream?type=probe${options.query ?? ''}`,
    options.protocols ?? [],
    { headers: options.headers ?? {} },
  );
  clients.push(ws);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to the upgrade within 5 s')), 5_000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      expect(JSON.parse(String(data))).toMatchObject({ type: 'probe' });
      resolve(ws);
    });
    ws.once('open', () => {
      void post(url, { authorization: `Bearer ${TOKEN}` }, 'probe');
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // A refused upgrade counts once the server has let go of its connection too (within the 5 s).
    ws.once('unexpected-response', (_req, res) => {
      const refused = (): void => {
        clearTimeout(timer);
        reject(new Error(`HTTP ${res.statusCode}`));
      };
      res.resume();
      if (res.socket.destroyed) refused();
      else res.socket.once('close', refused);
    });
  });
}

const GUARDED_READS = ['/config', '/stats', '/metrics', '/agents', '/adapters', '/midi/ports', '/nope'];

describe('bearer token', () => {
  it('takes the auth scheme in any case (RFC 7235 §2.1), and still refuses a wrong token', async () => {
    const url = await guarded();
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect((await post(url, { authorization: `${scheme} ${TOKEN}` })).status, scheme).toBe(202);
    }
    for (const header of [
      'bearer wrong',
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      `Bearer${TOKEN}`,
      TOKEN,
      'bearer ',
    ]) {
      const res = await post(url, { authorization: header });
      expect(res.status, header).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'PFM_ERR_API_UNAUTHORIZED' });
    }
  });

  it('leaves reads open by default (api.tokenForReads off)', async () => {
    const url = await guarded();
    for (const path of ['/config', '/stats', '/metrics'])
      expect((await fetch(`${url}${path}`)).status).toBe(200);
    await stream(url);
  });
});

describe('api.tokenForReads', () => {
  it('guards every read but /docs and a status-only /health', async () => {
    const url = await guarded({ tokenForReads: true });
    for (const path of GUARDED_READS) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'PFM_ERR_API_UNAUTHORIZED' });
      expect((await fetch(`${url}${path}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    }
    for (const path of GUARDED_READS.slice(0, -1)) {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `bearer ${TOKEN}` } });
      expect(res.status, path).toBe(200);
    }
    const config = await fetch(`${url}/config`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await config.json()).toMatchObject({ api: { token: '<redacted>', tokenForReads: true } });

    // /health: the liveness (status and HTTP code) for anyone, the parts and the stream with the token.
    const brief = await fetch(`${url}/health`);
    expect(brief.status).toBe(200);
    expect(await brief.json()).toEqual({ status: 'ok', ready: true });
    const wrong = await fetch(`${url}/health`, { headers: { authorization: 'Bearer wrong' } });
    expect(Object.keys((await wrong.json()) as object).sort()).toEqual(['ready', 'status']);
    const full = (await (
      await fetch(`${url}/health`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { parts: { name: string }[]; stream: { clients: number } };
    expect(full.parts.map((p) => p.name)).toContain('osc');
    expect(full.stream).toMatchObject({ clients: 0, maxClients: 32, maxClientsPerAddress: 8 });

    // The docs describe the routes, the same on every install.
    expect((await fetch(`${url}/docs/json`)).status).toBe(200);
    expect((await fetch(`${url}/docs/`)).status).toBe(200);
  });

  it('guards the /stream upgrade: header or subprotocol, never the URL', async () => {
    const url = await guarded({ tokenForReads: true });
    await expect(stream(url)).rejects.toThrow('HTTP 401');
    await expect(stream(url, { headers: { authorization: 'Bearer wrong' } })).rejects.toThrow('HTTP 401');
    await expect(stream(url, { protocols: ['performia', tokenProtocol('wrong')] })).rejects.toThrow(
      'HTTP 401',
    );
    // URLs end up in logs: a token there is not taken.
    await expect(stream(url, { query: `&token=${encodeURIComponent(TOKEN)}` })).rejects.toThrow('HTTP 401');
    await expect(stream(url, { query: `&access_token=${encodeURIComponent(TOKEN)}` })).rejects.toThrow(
      'HTTP 401',
    );

    const byHeader = await stream(url, { headers: { authorization: `bearer ${TOKEN}` } });
    expect(byHeader.protocol).toBe('');
    // A browser: the token as a subprotocol beside `performia`, which the server selects (the token is
    // never echoed back in the response).
    const byProtocol = await stream(url, { protocols: ['performia', tokenProtocol(TOKEN)] });
    expect(byProtocol.protocol).toBe('performia');
    // Offered the token alone, the server selects no subprotocol, and the client fails the handshake
    // (as a browser does): the token is not echoed back either.
    await expect(stream(url, { protocols: [tokenProtocol(TOKEN)] })).rejects.toThrow(
      'Server sent no subprotocol',
    );
  });

  it('applies on loopback too, when asked', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { token: TOKEN, tokenForReads: true } })));
    const url = daemon.url;
    expect((await fetch(`${url}/config`)).status).toBe(401);
    expect((await fetch(`${url}/config`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    await expect(stream(url)).rejects.toThrow('HTTP 401');
    await stream(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  });
});

describe('api.tokenForReads on reload', () => {
  it('applies at once: reads close on a reload that turns it on, with no restart of the API', async () => {
    const { Daemon } = await import('../../../daemon/daemon.js');
    const { defaultParts } = await import('../../../daemon/parts.js');
    const { memoryLogger } = await import('../../helpers/daemon.js');
    let config = testConfig({ api: { host: '127.0.0.1', token: TOKEN } });
    daemon = new Daemon({
      config,
      logger: memoryLogger().logger,
      parts: defaultParts,
      reloadConfig: () => config,
    });
    await daemon.start();
    const url = daemon.url;
    expect((await fetch(`${url}/config`)).status).toBe(200);
    config = testConfig({ api: { host: '127.0.0.1', token: TOKEN, tokenForReads: true } });
    await daemon.reload();
    expect(daemon.url).toBe(url);
    expect((await fetch(`${url}/config`)).status).toBe(401);
    const withToken = await fetch(`${url}/config`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(withToken.status).toBe(200);
  });
});
