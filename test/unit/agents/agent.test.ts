import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, on, type Subscription } from '../../../agents/agent.js';
import { agentParts } from '../../../agents/index.js';
import { DEFAULT_CONFIG, type PerformiaConfig } from '../../../config/index.js';
import type { PartContext } from '../../../daemon/kernel/part.js';
import { agentsConfig, Band, memoryLogger } from './band-harness.js';

let band: Band;
afterEach(async () => {
  await band?.stop();
});

/** An agent that echoes `ping` as `pong`, fails on demand, and ticks on the timeline. */
class Echo extends Agent<{ every: number }> {
  ticks: number[] = [];

  protected subscriptions(): readonly Subscription[] {
    return [
      on('ping', (m) => {
        const payload = m.payload as { fail?: 'throw' | 'reject' };
        if (payload.fail === 'throw') throw new Error('boom');
        if (payload.fail === 'reject') return Promise.reject(new Error('async boom'));
        this.publish({ type: 'pong', payload: {} });
        return undefined;
      }),
    ];
  }

  protected override onStart(): void {
    const tick = (time: number): void => {
      this.schedule(time, () => {
        this.ticks.push(this.timeline.now());
        tick(time + this.config.every);
      });
    };
    tick(this.timeline.now() + this.config.every);
  }

  protected override details(): Record<string, unknown> {
    return { ticks: this.ticks.length };
  }
}

describe('agent base', () => {
  it('publishes as itself, counts what it handles and publishes, and reports its health', async () => {
    band = await new Band(0).start();
    const echo = new Echo('echo', { every: 100 }, band.context);
    expect(echo).toMatchObject({ name: 'echo', kind: 'agent' });
    expect(echo.health()).toMatchObject({ state: 'idle' });
    await echo.start();
    band.bus.publish({ type: 'ping', from: 'test', payload: {} });
    await band.runTo(250);
    expect(band.of('pong').map((m) => m.from)).toEqual(['echo']);
    expect(echo.ticks).toEqual([100, 200]);
    expect(echo.health()).toEqual({
      state: 'ok',
      details: { handled: 1, published: 1, errors: 0, lastError: null, ticks: 2 },
    });
  });

  it('counts a handler that throws or rejects, without throwing, and handles the next message', async () => {
    band = await new Band(0).start();
    const logger = memoryLogger();
    const echo = new Echo('echo', { every: 1_000 }, { ...band.context, logger });
    await echo.start();
    band.bus.publish({ type: 'ping', from: 'test', payload: { fail: 'throw' } });
    band.bus.publish({ type: 'ping', from: 'test', payload: { fail: 'reject' } });
    band.bus.publish({ type: 'ping', from: 'test', payload: {} });
    await band.settle();
    expect(band.of('pong')).toHaveLength(1);
    expect(echo.health()).toMatchObject({
      state: 'ok',
      details: { handled: 3, published: 1, errors: 2, lastError: 'handler of ping: async boom' },
    });
    // The bus saw no failing handler: the agent took it.
    expect(band.bus.getStats().handlerErrors).toBe(0);
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'agent echo: handler of ping failed'],
    ]);
  });

  it('stops and starts again, repeatedly: no handling and no callbacks while stopped', async () => {
    band = await new Band(0).start();
    const echo = new Echo('echo', { every: 100 }, band.context);
    for (let round = 0; round < 3; round++) {
      await echo.start();
      await echo.start();
      band.bus.publish({ type: 'ping', from: 'test', payload: {} });
      await band.runTo(band.clock.now() + 150);
      await echo.stop();
      await echo.stop();
      expect(echo.health().state).toBe('stopped');
      expect(band.clock.pending).toBe(0);
      band.bus.publish({ type: 'ping', from: 'test', payload: {} });
      await band.runTo(band.clock.now() + 500);
    }
    expect(band.of('pong')).toHaveLength(3);
    expect(echo.ticks).toEqual([100, 750, 1_400]);
    expect(echo.health().details).toMatchObject({ handled: 3, published: 3, errors: 0 });
  });

  it('counts a publish the bus refuses', async () => {
    band = await new Band(0).start();
    const echo = new Echo('echo', { every: 1_000 }, band.context);
    await echo.start();
    band.bus.publish({ type: 'ping', from: 'test', payload: {} });
    await band.bus.stop({ drain: false });
    // The bus is stopped: deliver by hand, as a handler called late would.
    const handler = (echo as unknown as { subscriptions(): Subscription[] }).subscriptions()[0]![1];
    handler({ id: 0, type: 'ping', from: 't', to: 'broadcast', priority: 2, payload: {}, timestamp: 0 });
    expect(echo.health().details).toMatchObject({
      published: 0,
      errors: 1,
      lastError: expect.stringMatching(/^publish pong: Bus is stopped/),
    });
  });

  it('is degraded with a reason while a problem stands', async () => {
    band = await new Band(0).start();
    class Troubled extends Echo {
      constructor() {
        super('troubled', { every: 1_000 }, band.context);
        this.setProblem('no pattern');
      }
    }
    const agent = new Troubled();
    await agent.start();
    expect(agent.health()).toMatchObject({ state: 'degraded', reason: 'no pattern' });
    await agent.stop();
    expect(agent.health()).toMatchObject({ state: 'stopped' });
    expect(agent.health().reason).toBeUndefined();
  });
});

describe('agentParts', () => {
  const context = (config: PerformiaConfig): PartContext => {
    const logger = { ...memoryLogger(), child: () => logger };
    return { bus: band.bus, scheduler: band.clock, config, logger, metrics: new Registry() };
  };
  const withAgents = (agents: unknown): PerformiaConfig => ({ ...DEFAULT_CONFIG, agents }) as PerformiaConfig;

  it('builds the five agents from the default section, in start order', () => {
    band = new Band(0);
    const parts = agentParts(context(DEFAULT_CONFIG));
    expect(parts.map((p) => [p.name, p.kind])).toEqual([
      ['conductor', 'agent'],
      ['bass', 'agent'],
      ['drums', 'agent'],
      ['harmony', 'agent'],
      ['analytics', 'agent'],
    ]);
  });

  it('builds only the enabled ones, and none when the band is off', () => {
    band = new Band(0);
    const agents = agentsConfig();
    agents.drums.enabled = false;
    agents.analytics.enabled = false;
    expect(agentParts(context(withAgents(agents))).map((p) => p.name)).toEqual([
      'conductor',
      'bass',
      'harmony',
    ]);
    expect(agentParts(context(withAgents({ ...agentsConfig(), enabled: false })))).toEqual([]);
  });

  it('plays the band from the config: beats, chords and notes on the bus', async () => {
    band = await new Band(0).start();
    const parts = agentParts(context(DEFAULT_CONFIG));
    for (const p of parts) await p.start();
    await band.runTo(2_100);
    const counts = Object.fromEntries(
      ['beat_event', 'chord_change', 'play_note', 'play_drums', 'play_chord'].map((t) => [
        t,
        band.of(t).length,
      ]),
    );
    // Bar 1 (beats at 200, 700, 1200, 1700) and bar 2's downbeat (2200, published 2100).
    expect(counts).toEqual({
      beat_event: 5,
      chord_change: 2,
      play_note: 5,
      play_drums: 11 + 3,
      play_chord: 2,
    });
    for (const p of [...parts].reverse()) await p.stop();
    expect(band.clock.pending).toBe(0);
  });
});
