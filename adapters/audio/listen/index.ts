/** The listening part's public surface (issue #9): its factory and its types. */
import type { PartFactory } from '../../../daemon/kernel/part.js';
import { ListenAdapter } from './listen-adapter.js';
import type { ListenChildOptions } from './listen-child.js';
import { registerListenMetrics } from './metrics.js';

export { ListenAdapter, type ListenCounters, type ListenSettings } from './listen-adapter.js';
export type { ListenChildOptions } from './listen-child.js';
export type { InputInfo, InputStats, ListenEvent } from './protocol.js';

/** Builds the listening part from `config.listen` (none when `listen.enabled` is false). */
export function listenPartsWith(options: ListenChildOptions = {}): PartFactory {
  return (ctx) => {
    const cfg = ctx.config.listen;
    if (!cfg.enabled) return [];
    const adapter = new ListenAdapter(
      cfg,
      ctx.bus,
      ctx.logger.child({ component: 'adapter.listen' }),
      options,
    );
    registerListenMetrics(ctx.metrics, adapter);
    return [adapter];
  };
}

/** The listening part on the configured input. */
export const listenParts: PartFactory = listenPartsWith();
