/**
 * The band over the control API (issue #8): transport, tempo and progression steer the conductor
 * through the bus; agents stop and start at runtime; the analytics report is served. A real daemon on
 * free ports, with the real agents (no audio needed: the band's messages are what is checked).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { collector, startDaemon, testConfig } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const band = (conductor: Record<string, unknown> = {}) =>
  testConfig({
    agents: {
      enabled: true,
      conductor: { bpm: 240, autoStart: false, lookaheadMs: 50, ...conductor },
      analytics: { intervalMs: 200 },
    },
  });

const call = (d: Daemon, method: string, path: string, body?: unknown) =>
  fetch(`${d.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('the band over the API', () => {
  it('lists the five agents; POST /transport starts and stops the beats', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(band(), [], [collector(got)]));
    const d = daemon;
    const agents = (await (await call(d, 'GET', '/agents')).json()) as { name: string; state: string }[];
    expect(agents.map((a) => [a.name, a.state])).toEqual([
      ['conductor', 'ok'],
      ['bass', 'ok'],
      ['drums', 'ok'],
      ['harmony', 'ok'],
      ['analytics', 'ok'],
    ]);
    expect(got.some((m) => m.type === 'beat_event')).toBe(false);
    expect((await call(d, 'POST', '/transport', { state: 'start' })).status).toBe(202);
    await until(() => got.filter((m) => m.type === 'beat_event').length >= 4, 'four beats');
    const beats = got
      .filter((m) => m.type === 'beat_event')
      .map((m) => m.payload as { beat: number; bar: number });
    expect(beats.slice(0, 4)).toEqual([
      { beat: 1, bar: 1, bpm: 240, at: expect.any(Number) },
      { beat: 2, bar: 1, bpm: 240, at: expect.any(Number) },
      { beat: 3, bar: 1, bpm: 240, at: expect.any(Number) },
      { beat: 4, bar: 1, bpm: 240, at: expect.any(Number) },
    ]);
    expect(got.find((m) => m.type === 'chord_change')?.payload).toMatchObject({ chord: 'C', bar: 1 });
    expect(got.some((m) => m.type === 'play_note' && m.from === 'bass')).toBe(true);
    expect((await call(d, 'POST', '/transport', { state: 'stop' })).status).toBe(202);
    await until(
      () => d.health().parts.find((p) => p.name === 'conductor')?.details?.running === false,
      'stopped',
    );
    const count = got.filter((m) => m.type === 'beat_event').length;
    await new Promise((r) => setTimeout(r, 400));
    // At most the beats already inside the lookahead when it stopped.
    expect(got.filter((m) => m.type === 'beat_event').length).toBeLessThanOrEqual(count + 1);
  });

  it('PUT /tempo and PUT /progression reach the conductor; a bad chord is refused naming it', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(band({ autoStart: true }), [], [collector(got)]));
    const d = daemon;
    expect((await call(d, 'PUT', '/tempo', { bpm: 300 })).status).toBe(202);
    await until(
      () => got.some((m) => m.type === 'beat_event' && (m.payload as { bpm: number }).bpm === 300),
      'beats at 300',
    );
    const bad = await call(d, 'PUT', '/progression', { chords: ['Am', 'H7'] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      code: 'PFM_ERR_AGENT_CHORD',
      message: expect.stringContaining('Invalid chord symbol "H7"'),
    });
    expect((await call(d, 'PUT', '/tempo', { bpm: 5 })).status).toBe(400);
    expect((await call(d, 'PUT', '/progression', { chords: ['Dm7', 'G7', 'Cmaj7'] })).status).toBe(202);
    await until(
      () => got.some((m) => m.type === 'chord_change' && (m.payload as { chord: string }).chord === 'Dm7'),
      'Dm7',
    );
    const chords = got
      .filter((m) => m.type === 'chord_change')
      .map((m) => (m.payload as { chord: string }).chord);
    expect(chords.slice(chords.indexOf('Dm7'), chords.indexOf('Dm7') + 1)).toEqual(['Dm7']);
  });

  it('stops and starts an agent at runtime, and serves the analytics report', async () => {
    const got: AnyMessage[] = [];
    ({ daemon } = await startDaemon(band({ autoStart: true }), [], [collector(got)]));
    const d = daemon;
    const stopped = (await (await call(d, 'POST', '/agents/drums/stop')).json()) as { state: string };
    expect(stopped.state).toBe('stopped');
    const mark = got.length;
    await until(() => got.slice(mark).filter((m) => m.type === 'beat_event').length >= 4, 'beats');
    const drumsAfter = got.slice(mark + 2).filter((m) => m.type === 'play_drums');
    expect(drumsAfter.length).toBeLessThanOrEqual(1);
    const started = (await (await call(d, 'POST', '/agents/drums/start')).json()) as { state: string };
    expect(started.state).toBe('ok');
    const again = got.length;
    await until(() => got.slice(again).some((m) => m.type === 'play_drums'), 'drums again');
    expect((await call(d, 'POST', '/agents/nobody/start')).status).toBe(404);
    await until(() => got.some((m) => m.type === 'analytics_report'), 'a report');
    const report = (await (await call(d, 'GET', '/agents/analytics')).json()) as Record<string, unknown>;
    expect(Object.keys(report).length).toBeGreaterThan(0);
    expect(JSON.stringify(report)).toContain('beat_event');
  });
});
