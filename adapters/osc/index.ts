/** The OSC adapter's public surface: its part factory. */
import type { PartFactory } from '../../daemon/kernel/part.js';
import { registerOscMetrics } from './metrics.js';
import { OscAdapter, type OscSettings } from './osc-adapter.js';

export { OscAdapter, type OscSettings } from './osc-adapter.js';

/** Builds the OSC adapter from `config.osc` (none when `osc.enabled` is false). */
export const oscParts: PartFactory = (ctx) => {
  const settings: OscSettings & { enabled: boolean } = ctx.config.osc;
  if (!settings.enabled) return [];
  const adapter = new OscAdapter(
    settings,
    ctx.bus,
    ctx.scheduler,
    ctx.logger.child({ component: 'adapter.osc' }),
  );
  registerOscMetrics(ctx.metrics, adapter);
  return [adapter];
};
