/** The audio part factory: from `config.audio`, with its metrics. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AudioAdapter, audioParts } from '../../../adapters/audio/index.js';
import { MessageBus, silentLogger, systemClock } from '../../../daemon/bus/index.js';
import type { PartContext } from '../../../daemon/kernel/part.js';
import { Scheduler } from '../../../daemon/kernel/scheduler.js';
import { testConfig } from '../../helpers/daemon.js';

function context(audio: Record<string, unknown>): PartContext {
  const logger: PartContext['logger'] = { ...silentLogger, child: () => logger };
  return {
    bus: new MessageBus({ clock: systemClock }),
    config: testConfig({ audio }),
    logger,
    scheduler: new Scheduler({ clock: systemClock }),
    metrics: new Registry(),
  };
}

describe('audioParts', () => {
  it('builds nothing when audio is disabled', () => {
    expect(audioParts(context({ enabled: false }))).toEqual([]);
  });

  it('builds the adapter from config.audio, and its metrics', async () => {
    const ctx = context({
      enabled: true,
      sinkId: 'none',
      isolation: 'inline',
      clock: { syncIntervalMs: 100 },
    });
    const [part] = audioParts(ctx);
    expect(part).toBeInstanceOf(AudioAdapter);
    expect(part).toMatchObject({ name: 'audio', kind: 'adapter', critical: false });
    await ctx.bus.start();
    await part!.start();
    try {
      const text = await ctx.metrics.metrics();
      expect(text).toMatch(/^performia_audio_device_ok 1$/m);
      expect(text).toMatch(/^performia_audio_voices_active 0$/m);
      expect(text).toMatch(/^performia_audio_clock_drift_ppm /m);
      ctx.bus.publish({ type: 'play_drums', payload: { hits: ['kick'], velocity: 100 } });
      await new Promise((r) => setTimeout(r, 20));
      expect(await ctx.metrics.metrics()).toMatch(/^performia_audio_events_total\{event="immediate"\} 1$/m);
    } finally {
      await part!.stop();
      (ctx.scheduler as Scheduler).stop();
      await ctx.bus.stop();
    }
  });
});
