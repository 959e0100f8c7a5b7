/** The bus and the scheduler, plotted over the last minutes (bus-figures.ts says where each comes from). */

import { useRef } from 'preact/hooks';
import type { Store } from '../store.js';
import { Plot } from './plot.js';
import { fmt, useChannelsWhileSeen } from './use-store.js';

function Totals({ store }: { store: Store }) {
  const box = useRef<HTMLDListElement>(null);
  useChannelsWhileSeen(store, box, 'stats', 'health');
  const t = store.bus.totals;
  const s = store.stats;
  const h = store.health;
  return (
    <dl class="totals" ref={box}>
      <div>
        <dt>published</dt>
        <dd>{fmt(t.published)}</dd>
      </div>
      <div class={t.refused > 0 ? 'warn' : ''}>
        <dt>refused</dt>
        <dd id="bus-refused">{fmt(t.refused)}</dd>
      </div>
      <div class={t.evicted > 0 ? 'warn' : ''}>
        <dt>evicted</dt>
        <dd id="bus-evicted">{fmt(t.evicted)}</dd>
      </div>
      <div class={t.handlerErrors > 0 ? 'warn' : ''}>
        <dt>handler errors</dt>
        <dd>{fmt(t.handlerErrors)}</dd>
      </div>
      {s !== undefined && (
        <div>
          <dt>queue limit</dt>
          <dd>{fmt(s.maxQueueSize)}</dd>
        </div>
      )}
      {h !== undefined && (
        <>
          <div class={h.scheduler.stalls > 0 ? 'warn' : ''}>
            <dt>scheduler stalls</dt>
            <dd>
              {fmt(h.scheduler.stalls)} (max {fmt(h.scheduler.maxStallMs, 1)} ms)
            </dd>
          </div>
          <div>
            <dt>event loop</dt>
            <dd>
              {h.scheduler.realtime.policy}
              {h.scheduler.realtime.problem !== undefined ? ` (${h.scheduler.realtime.problem})` : ''}
            </dd>
          </div>
          <div class={h.stream.dropped > 0 ? 'warn' : ''}>
            <dt>stream clients</dt>
            <dd>
              {h.stream.clients}/{h.stream.maxClients} · dropped {fmt(h.stream.dropped)}
            </dd>
          </div>
        </>
      )}
    </dl>
  );
}

export function BusView({ store }: { store: Store }) {
  const b = store.bus;
  return (
    <section aria-labelledby="bus-h" class="panel wide">
      <h2 id="bus-h">Bus</h2>
      <Totals store={store} />
      <div class="plots">
        <Plot store={store} channel="stats" id="plot-rates" title="Messages/s by priority" series={b.rates} />
        <Plot store={store} channel="stats" id="plot-depth" title="Queue depth" series={b.depth} />
        <Plot
          store={store}
          channel="stats"
          id="plot-losses"
          title="Refused and evicted /s"
          series={b.losses}
        />
        <Plot
          store={store}
          channel="stats"
          id="plot-latency"
          title="Delivery latency (bus window)"
          series={b.latency}
          log
        />
        <Plot
          store={store}
          channel="health"
          id="plot-scheduler"
          title="Scheduler: max lateness, stalls"
          series={b.scheduler}
          digits={1}
        />
      </div>
    </section>
  );
}
