import { afterEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../../daemon/daemon.js';
import { FakePart, memoryLogger, startDaemon, testConfig } from '../../helpers/daemon.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('control API over a real listen', () => {
  it('publishes a message and answers with its id; the bus delivers it', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const res = await post(daemon.url, { type: 'tempo_change', payload: { bpm: 128 } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: number; priority: number; type: string };
    expect(body).toMatchObject({ type: 'tempo_change', priority: 1 });
    expect(body.id).toBeGreaterThan(0);
    const stats = (await (await fetch(`${daemon.url}/stats`)).json()) as {
      published: number;
      byPriority: { HIGH: { published: number } };
    };
    expect(stats.published).toBe(1);
    expect(stats.byPriority.HIGH.published).toBe(1);
  });

  it('answers 400 with a reason for bad bodies', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const cases: [unknown, RegExp][] = [
      [{ payload: {} }, /must have required property 'type'/],
      [{ type: 'x', priority: 9 }, /priority/],
      [{ type: 'x', priority: 'URGENT' }, /priority/],
      [{ type: 'x', bogus: 1 }, /additional properties/],
      [{ type: 'has space' }, /type/],
      [{ type: 'tempo_change', payload: { bpm: 'fast' } }, /payload\.bpm: must be number \(tempo_change\)/],
      [{ type: 'play_note', payload: { note: 200, velocity: 1, duration: 1, channel: 1 } }, /payload\.note/],
      [
        { type: 'beat_event', payload: { beat: 1, bar: 1, bpm: 120, at: 0, extra: true } },
        /unknown field extra/,
      ],
    ];
    for (const [body, reason] of cases) {
      const res = await post(daemon.url, body);
      const json = (await res.json()) as { code: string; message: string };
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(json.code).toBe('PFM_ERR_API_BAD_REQUEST');
      expect(json.message).toMatch(reason);
    }
    const notJson = await fetch(`${daemon.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { code: string }).code).toBe('PFM_ERR_API_BAD_REQUEST');
    // Nothing bad reached the bus.
    expect(daemon.health().status).toBe('ok');
  });

  it('says what is wrong with a body JSON cannot take, or that holds a __proto__ key', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const raw = (body: string) =>
      fetch(`${daemon?.url}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const cases: [string, string][] = [
      [
        '{"type":"x","__proto__":{"polluted":true}}',
        'Bad request: body must not contain a __proto__ key (prototype pollution guard), found at __proto__',
      ],
      [
        '{"type":"x","payload":{"list":[1,{"__proto__":{}}]}}',
        'Bad request: body must not contain a __proto__ key (prototype pollution guard), found at payload.list[1].__proto__',
      ],
      // The same key spelled with a JSON escape is the same key.
      [
        '{"type":"x","\\u005f_proto__":{}}',
        'Bad request: body must not contain a __proto__ key (prototype pollution guard), found at __proto__',
      ],
      [
        '{"type":"x","payload":{"constructor":{"prototype":{"polluted":true}}}}',
        'Bad request: body must not contain a constructor.prototype key (prototype pollution guard), found at payload.constructor.prototype',
      ],
    ];
    for (const [body, message] of cases) {
      const res = await raw(body);
      expect(res.status, body).toBe(400);
      expect(await res.json(), body).toEqual({ code: 'PFM_ERR_API_BAD_REQUEST', message });
    }
    // Not valid JSON at all: the parser's reason.
    const broken = await raw('{"type":');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({
      code: 'PFM_ERR_API_BAD_REQUEST',
      message: expect.stringMatching(/^Bad request: body is not valid JSON: ./),
    });
    // A "constructor" key without a prototype in it is an ordinary key.
    const fine = await raw('{"type":"x","payload":{"constructor":"Bach"}}');
    expect(fine.status).toBe(202);
    const stats = (await (await fetch(`${daemon.url}/stats`)).json()) as { published: number };
    expect(stats.published).toBe(1);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('refuses a body over the limit with 413', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { bodyLimitBytes: 1024 } })));
    const res = await post(daemon.url, { type: 'x', payload: 'a'.repeat(2_000) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('PFM_ERR_API_BAD_REQUEST');
  });

  it('rate-limits mutating routes with 429 and a code, not the read routes', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { rateLimit: { max: 3, timeWindowMs: 60_000 } } })));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(daemon.url, { type: 'x' })).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const limited = await post(daemon.url, { type: 'x' });
    expect(((await limited.json()) as { code: string }).code).toBe('PFM_ERR_API_RATE_LIMITED');
    for (let i = 0; i < 5; i++) expect((await fetch(`${daemon.url}/health`)).status).toBe(200);
  });

  it('answers 404 with a code for unknown routes', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const res = await fetch(`${daemon.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'PFM_ERR_API_NOT_FOUND' });
  });

  it('shows each part in /health, /adapters and /agents; a failed part degrades, not kills', async () => {
    const lights = new FakePart('lights', 'adapter');
    const pads = new FakePart('pads', 'adapter', 'Failed to initialise RtMidi');
    const bass = new FakePart('bass', 'agent');
    ({ daemon } = await startDaemon(testConfig(), [bass, lights, pads]));
    const health = (await (await fetch(`${daemon.url}/health`)).json()) as {
      status: string;
      ready: boolean;
      parts: { name: string; state: string; reason?: string }[];
      scheduler: {
        pending: number;
        ran: number;
        maxLateMs: number;
        stalls: number;
        maxStallMs: number;
        realtime: { policy: string; priority: number; requested: number };
      };
    };
    expect(health.status).toBe('degraded');
    expect(health.ready).toBe(true);
    // The scheduler's warm-up entry at start has run.
    expect(health.scheduler).toMatchObject({ pending: 0, ran: 1 });
    expect(Object.keys(health.scheduler).sort()).toEqual([
      'maxLateMs',
      'maxStallMs',
      'pending',
      'ran',
      'realtime',
      'recentMaxLateMs',
      'stalls',
    ]);
    // Not asked for (daemon.realtimePriority 0): the event loop's own policy, read from /proc.
    expect(health.scheduler.realtime).toMatchObject({ requested: 0, policy: 'other', priority: 0 });
    // Adapters start before agents (the real OSC and MIDI adapters come first: they are default parts).
    expect(health.parts.map((p) => p.name)).toEqual(['osc', 'midi', 'lights', 'pads', 'bass']);
    expect(health.parts.find((p) => p.name === 'pads')).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('RtMidi'),
    });
    const adapters = (await (await fetch(`${daemon.url}/adapters`)).json()) as { name: string }[];
    expect(adapters.map((a) => a.name)).toEqual(['osc', 'midi', 'lights', 'pads']);
    const agents = (await (await fetch(`${daemon.url}/agents`)).json()) as { name: string }[];
    expect(agents.map((a) => a.name)).toEqual(['bass']);
    lights.current = { state: 'degraded', reason: 'port unplugged' };
    expect(daemon.health().parts.find((p) => p.name === 'lights')?.reason).toBe('port unplugged');
    await daemon.stop();
    expect([lights.stopped, pads.stopped, bass.stopped]).toEqual([1, 1, 1]);
  });

  it('serves the effective config with the token redacted', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { token: 's3cret' } })));
    const res = await fetch(`${daemon.url}/config`);
    const text = await res.text();
    expect(text).not.toContain('s3cret');
    expect(JSON.parse(text)).toMatchObject({ api: { token: '<redacted>' }, bus: { maxQueueSize: 100_000 } });
  });

  it('serves Prometheus text with bus counters, queue depth, part states and latency histograms', async () => {
    ({ daemon } = await startDaemon(testConfig(), [new FakePart('lights', 'adapter')]));
    for (let i = 0; i < 20; i++) await post(daemon.url, { type: 'x', priority: 'LOW' });
    const res = await fetch(`${daemon.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parsePrometheus(await res.text());
    expect(samples.get('performia_bus_messages_total{priority="LOW",outcome="published"}')).toBe(20);
    expect(samples.get('performia_bus_queue_depth{priority="CRITICAL"}')).toBe(0);
    expect(samples.get('performia_part_state{part="lights",kind="adapter",state="ok"}')).toBe(1);
    expect(samples.get('performia_part_state{part="lights",kind="adapter",state="failed"}')).toBe(0);
    expect(samples.get('performia_bus_delivery_latency_seconds_count')).toBeGreaterThan(0);
    expect(samples.get('performia_scheduler_runs_total')).toBe(1);
    expect(samples.get('performia_scheduler_pending')).toBe(0);
    expect([...samples.keys()].some((k) => k.startsWith('performia_process_cpu'))).toBe(true);
    // Counters stay monotonic across scrapes.
    await post(daemon.url, { type: 'x', priority: 'LOW' });
    const again = parsePrometheus(await (await fetch(`${daemon.url}/metrics`)).text());
    expect(again.get('performia_bus_messages_total{priority="LOW",outcome="published"}')).toBe(21);
  });

  it('serves an OpenAPI document and the docs UI', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const doc = (await (await fetch(`${daemon.url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/health',
      '/stats',
      '/metrics',
      '/messages',
      '/agents',
      '/adapters',
      '/config',
      '/stream',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
    const ui = await fetch(`${daemon.url}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('refuses to bind beyond loopback without a token, before opening anything', async () => {
    const { logger } = memoryLogger();
    const d = new Daemon({ config: testConfig({ api: { host: '0.0.0.0' } }), logger });
    await expect(d.start()).rejects.toMatchObject({ code: 'PFM_ERR_API_INSECURE_BIND' });
    expect(d.url).toBe('');
  });

  it('needs the bearer token on mutating routes when bound beyond loopback', async () => {
    ({ daemon } = await startDaemon(testConfig({ api: { host: '0.0.0.0', token: 'tok-123' } })));
    const url = daemon.url.replace('0.0.0.0', '127.0.0.1');
    const none = await post(url, { type: 'x' });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'PFM_ERR_API_UNAUTHORIZED' });
    expect((await post(url, { type: 'x' }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(url, { type: 'x' }, { authorization: 'Bearer tok-123' })).status).toBe(202);
    // Reading stays open.
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('applies a reloaded rate limit on the same address (the old server lets go of the port first)', async () => {
    const { logger } = memoryLogger();
    const first = testConfig();
    let next = first;
    daemon = new Daemon({ config: first, logger, reloadConfig: () => next });
    await daemon.start();
    const port = Number(new URL(daemon.url).port);
    next = testConfig({ api: { port, token: 'new-token', rateLimit: { max: 2, timeWindowMs: 60_000 } } });
    const result = await daemon.reload();
    expect(result?.changed).toEqual(expect.arrayContaining(['api.port', 'api.token', 'api.rateLimit.max']));
    const auth = { authorization: 'Bearer new-token' };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(daemon.url, { type: 'x' }, auth)).status);
    expect(statuses).toEqual([202, 202, 429]);
    expect(new URL(daemon.url).port).toBe(String(port));
  });

  it('names the port when the API port is in use', async () => {
    ({ daemon } = await startDaemon(testConfig()));
    const port = Number(new URL(daemon.url).port);
    const { logger } = memoryLogger();
    const second = new Daemon({ config: testConfig({ api: { port } }), logger });
    await expect(second.start()).rejects.toMatchObject({
      code: 'PFM_ERR_API_LISTEN',
      message: expect.stringContaining(`port ${port} is already in use`),
    });
    await second.stop();
  });
});

/** Parses Prometheus text exposition into `name{labels}` → value; throws on a malformed line. */
function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // prom-client writes NaN as "Nan"; Prometheus parses special values case-insensitively.
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|nan|\+inf|-inf)$/i.exec(line);
    if (m === null) throw new Error(`not Prometheus text: ${line}`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}
