/**
 * Every part /health lists (adapters, agents, and whatever lands later), troubled first: state and
 * reason in words, the trouble found inside its details, headline counters, when its state changed and
 * when it last showed activity; the full details one keypress away (a native <details>).
 */
import { useState } from 'preact/hooks';
import type { PartView } from '../parts.js';
import type { Store } from '../store.js';
import { clock, useChannels } from './use-store.js';

const ICON: Record<PartView['level'], string> = { ok: '●', notice: '■', trouble: '▲' };

function Details({ details }: { details: Record<string, unknown> }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>all details</summary>
      {open && <pre>{JSON.stringify(details, null, 2)}</pre>}
    </details>
  );
}

function PartCard({ part }: { part: PartView }) {
  return (
    <li class={`part ${part.level}`} data-part={part.name} data-state={part.state} data-level={part.level}>
      <div class="part-head">
        <span class="part-name">{part.name}</span>
        <span class="kind">{part.kind}</span>
        <span class={`badge ${part.level}`}>
          <span aria-hidden="true">{ICON[part.level]} </span>
          {part.state}
        </span>
      </div>
      {part.reason !== undefined && <p class="reason">{part.reason}</p>}
      {part.findings.length > 0 && (
        <ul class="findings">
          {part.findings.map((f) => (
            <li key={f.where}>
              <b>{f.where}</b>: {f.what}
            </li>
          ))}
        </ul>
      )}
      {part.figures.length > 0 && (
        <dl class="figures">
          {part.figures.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
      <p class="times">
        {part.state} since {clock(part.stateSince)} · last change {clock(part.activeAt)}
      </p>
      {part.details !== undefined && <Details details={part.details} />}
    </li>
  );
}

export function PartsView({ store }: { store: Store }) {
  useChannels(store, 'parts');
  const parts = store.parts;
  return (
    <section aria-labelledby="parts-h" class="panel wide">
      <h2 id="parts-h">Parts</h2>
      {parts.length === 0 ? (
        <p class="muted">{store.health === undefined ? 'Waiting for /health…' : 'No parts.'}</p>
      ) : (
        <ul class="parts">
          {parts.map((p) => (
            <PartCard key={`${p.kind}:${p.name}`} part={p} />
          ))}
        </ul>
      )}
    </section>
  );
}
