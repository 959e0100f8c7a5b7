/**
 * The top bar and the alert line under it: the daemon's status, the stream's, the token; and every part
 * in trouble with its reason, announced to screen readers as it appears (role="alert").
 */
import { useEffect } from 'preact/hooks';
import type { Store } from '../store.js';
import { describeClose } from '../stream.js';
import { ago, fmt, useChannels } from './use-store.js';

function StreamStatus({ store }: { store: Store }) {
  const s = store.streamState;
  if (s.kind === 'open')
    return <span class="pill ok">stream live · {fmt(store.traffic.rate)} msg/s sampled</span>;
  if (s.kind === 'connecting') return <span class="pill notice">stream connecting…</span>;
  const wait = Math.max(0, Math.round((s.retryAt - Date.now()) / 1000));
  return (
    <span class="pill trouble" title={describeClose(s.code, s.reason)}>
      stream closed · retry in {wait} s
    </span>
  );
}

/** When the daemon started, to the minute (a text that does not change at every poll). */
function upSince(uptimeS: number): string {
  const start = new Date(Date.now() - uptimeS * 1000);
  return start.toTimeString().slice(0, 5);
}

export function Header({ store }: { store: Store }) {
  useChannels(store, 'health', 'stream', 'auth', 'stats');
  const h = store.health;
  const status = !store.reach.ok ? 'unreachable' : (h?.status ?? '…');
  const level = status === 'ok' ? 'ok' : status === 'degraded' || status === '…' ? 'notice' : 'trouble';
  return (
    <header class="top">
      <h1>Performia</h1>
      <span class={`pill ${level}`} id="daemon-status" data-status={status}>
        daemon {status}
      </span>
      {h !== undefined && <span class="pill">up since {upSince(h.uptimeS)}</span>}
      <StreamStatus store={store} />
      <span class="spacer" />
      {store.auth.need !== 'none' && store.auth.need !== 'unknown' && (
        <button
          type="button"
          class="small"
          onClick={() => (store.hasToken ? store.forgetToken() : store.askToken('asked'))}
        >
          {store.hasToken ? 'Forget token' : 'Enter token'}
        </button>
      )}
    </header>
  );
}

export function Alerts({ store }: { store: Store }) {
  useChannels(store, 'parts', 'health', 'stream');
  const troubled = store.parts.filter((p) => p.level === 'trouble');
  const s = store.streamState;
  useEffect(() => {
    document.title = troubled.length > 0 ? `▲ ${troubled.length} in trouble · Performia` : 'Performia';
  }, [troubled.length]);
  return (
    <div role="alert" class="alerts" id="alerts">
      {!store.reach.ok && (
        <p class="alert trouble">
          The daemon does not answer ({ago(store.reach.at)}): {store.reach.error}
        </p>
      )}
      {troubled.map((p) => (
        <p class="alert trouble" key={p.name} data-part={p.name}>
          <b>{p.name}</b> {p.state}
          {p.reason !== undefined ? `: ${p.reason}` : ''}
          {p.findings.map((f) => ` · ${f.where}: ${f.what}`).join('')}
        </p>
      ))}
      {s.kind === 'closed' && <p class="alert notice">Stream: {describeClose(s.code, s.reason)}</p>}
    </div>
  );
}
