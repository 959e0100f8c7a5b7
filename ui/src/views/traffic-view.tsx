/**
 * Live traffic from /stream: the newest messages that pass the filters (type, priority, source),
 * redrawn a few times a second at most; paused, the table holds still while messages keep coming in
 * (and are counted), so the stream is read on time either way.
 */
import { useRef, useState } from 'preact/hooks';
import type { Store } from '../store.js';
import { MAX_TYPE_RATE } from '../stream.js';
import { type Arrival, NO_FILTER, type TrafficFilter } from '../traffic.js';
import { PRIORITIES, type PriorityName } from '../types.js';
import { fmt, useChannelsWhileSeen } from './use-store.js';

const ROWS = 60;
const PAYLOAD_CHARS = 160;

function time(at: number): string {
  const d = new Date(at);
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function Row({ a }: { a: Arrival }) {
  const { m } = a;
  let payload = JSON.stringify(m.payload) ?? '';
  if (payload.length > PAYLOAD_CHARS) payload = `${payload.slice(0, PAYLOAD_CHARS)}…`;
  return (
    <tr>
      <td class="num">{time(a.at)}</td>
      <td>
        <span class={`prio p${m.priority}`}>{PRIORITIES[m.priority] ?? m.priority}</span>
      </td>
      <td>{m.type}</td>
      <td>
        {m.from} → {m.to}
      </td>
      <td class="payload">{payload}</td>
    </tr>
  );
}

function Select(props: {
  label: string;
  value: string;
  options: string[];
  onChange: (v: string) => void;
  id: string;
}) {
  return (
    <label>
      {props.label}{' '}
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="">any</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

export function TrafficView({ store }: { store: Store }) {
  const section = useRef<HTMLElement>(null);
  useChannelsWhileSeen(store, section, 'traffic', 'stream');
  const t = store.traffic;
  const [filter, setFilter] = useState<TrafficFilter>(NO_FILTER);
  const [frozen, setFrozen] = useState<{ rows: Arrival[]; received: number } | undefined>(undefined);
  const set = (k: keyof TrafficFilter) => (v: string) => {
    setFilter({ ...filter, [k]: v });
    if (frozen !== undefined)
      setFrozen({ ...frozen, rows: t.latest({ ...filter, [k]: v } as TrafficFilter, ROWS) });
  };
  const rows = frozen?.rows ?? t.latest(filter, ROWS);
  const toggle = () => setFrozen(frozen === undefined ? { rows, received: t.received } : undefined);
  return (
    <section aria-labelledby="traffic-h" class="panel wide" ref={section}>
      <h2 id="traffic-h">Traffic</h2>
      <div class="row filters">
        <Select
          id="filter-type"
          label="type"
          value={filter.type}
          options={[...t.types.keys()].sort()}
          onChange={set('type')}
        />
        <Select
          id="filter-priority"
          label="priority"
          value={filter.priority}
          options={[...PRIORITIES]}
          onChange={(v) => set('priority')(v as PriorityName)}
        />
        <Select
          id="filter-source"
          label="source"
          value={filter.source}
          options={[...t.sources.keys()].sort()}
          onChange={set('source')}
        />
        <button type="button" id="pause" aria-pressed={frozen !== undefined} onClick={toggle}>
          {frozen === undefined ? '❚❚ Pause' : '▶ Resume'}
        </button>
        <span class="muted" id="traffic-count">
          {fmt(t.rate)} msg/s · {fmt(t.received)} received (at most {MAX_TYPE_RATE}/s of each type)
          {frozen !== undefined && ` · paused, ${fmt(t.received - frozen.received)} new since`}
        </span>
      </div>
      <div class="table-wrap">
        <table class="traffic">
          <thead>
            <tr>
              <th scope="col">time</th>
              <th scope="col">priority</th>
              <th scope="col">type</th>
              <th scope="col">from → to</th>
              <th scope="col">payload</th>
            </tr>
          </thead>
          <tbody id="traffic-rows">
            {rows.map((a) => (
              <Row key={a.seq} a={a} />
            ))}
          </tbody>
        </table>
        {rows.length === 0 && (
          <p class="muted">No messages {filter === NO_FILTER ? 'yet' : 'match the filters'}.</p>
        )}
      </div>
    </section>
  );
}
