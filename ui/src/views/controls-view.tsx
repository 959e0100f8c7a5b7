/**
 * What a person may do, each through the API's own route (README, "Control API"), with the answer or
 * the API's error shown as it said it: tempo (PUT /tempo), transport (POST /transport), progression
 * (PUT /progression), agents (POST /agents/:id/start|stop), MIDI panic (POST /midi/panic), and any
 * message (POST /messages).
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import type { Store } from '../store.js';
import { PRIORITIES } from '../types.js';
import { useChannels } from './use-store.js';

type Outcome = { ok: boolean; text: string } | undefined;

/** Runs API calls for one control and keeps the last outcome to show. */
function useAction(store: Store): [Outcome, boolean, (run: (api: Api) => Promise<unknown>) => Promise<void>] {
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const [busy, setBusy] = useState(false);
  const go = async (run: (api: Api) => Promise<unknown>) => {
    setBusy(true);
    setOutcome(await store.act(run));
    setBusy(false);
  };
  return [outcome, busy, go];
}

function Result({ outcome, id }: { outcome: Outcome; id: string }) {
  return (
    <output
      id={id}
      class={`result ${outcome === undefined ? '' : outcome.ok ? 'ok' : 'trouble'}`}
      aria-live="polite"
    >
      {outcome === undefined ? '' : outcome.ok ? `✓ ${outcome.text}` : `✗ ${outcome.text}`}
    </output>
  );
}

function Control(props: { title: string; id: string; children: ComponentChildren; outcome: Outcome }) {
  return (
    <div class="control" id={props.id}>
      <h3>{props.title}</h3>
      {props.children}
      <Result outcome={props.outcome} id={`${props.id}-result`} />
    </div>
  );
}

/** Reads a form's named field. */
const field = (e: Event, name: string): string =>
  String(new FormData(e.currentTarget as HTMLFormElement).get(name) ?? '').trim();

function TempoControl({ store }: { store: Store }) {
  const [outcome, busy, go] = useAction(store);
  const submit = (e: Event) => {
    e.preventDefault();
    const bpm = Number(field(e, 'bpm'));
    void go((api) => api.send('PUT', '/tempo', { bpm }));
  };
  return (
    <Control title="Tempo" id="ctl-tempo" outcome={outcome}>
      <form onSubmit={submit} class="row">
        <label>
          bpm <input name="bpm" type="number" step="0.1" inputMode="decimal" required placeholder="120" />
        </label>
        <button type="submit" disabled={busy}>
          Set tempo
        </button>
      </form>
    </Control>
  );
}

function TransportControl({ store }: { store: Store }) {
  const [outcome, busy, go] = useAction(store);
  const send = (state: 'start' | 'stop' | 'continue') =>
    go((api) => api.send('POST', '/transport', { state }));
  return (
    <Control title="Transport" id="ctl-transport" outcome={outcome}>
      <div class="row">
        <button type="button" disabled={busy} onClick={() => send('start')}>
          ▶ Start
        </button>
        <button type="button" disabled={busy} onClick={() => send('stop')}>
          ■ Stop
        </button>
        <button type="button" disabled={busy} onClick={() => send('continue')}>
          Continue
        </button>
      </div>
    </Control>
  );
}

function ProgressionControl({ store }: { store: Store }) {
  const [outcome, busy, go] = useAction(store);
  const submit = (e: Event) => {
    e.preventDefault();
    const chords = field(e, 'chords')
      .split(/[\s,|]+/)
      .filter((c) => c !== '');
    void go((api) => api.send('PUT', '/progression', { chords }));
  };
  return (
    <Control title="Progression" id="ctl-progression" outcome={outcome}>
      <form onSubmit={submit} class="row">
        <label>
          chords, one per bar <input name="chords" required placeholder="C Am F G" autoComplete="off" />
        </label>
        <button type="submit" disabled={busy}>
          Set
        </button>
      </form>
    </Control>
  );
}

function AgentsControl({ store }: { store: Store }) {
  useChannels(store, 'parts');
  const [outcome, busy, go] = useAction(store);
  const agents = store.parts.filter((p) => p.kind === 'agent').sort((a, b) => a.name.localeCompare(b.name));
  return (
    <Control title="Agents" id="ctl-agents" outcome={outcome}>
      {agents.length === 0 && <p class="muted">No agents in this daemon.</p>}
      <ul class="agents">
        {agents.map((a) => {
          const running = a.state === 'ok' || a.state === 'degraded' || a.state === 'starting';
          const action = running ? 'stop' : 'start';
          return (
            <li key={a.name}>
              <span>
                {a.name} <span class={`badge ${a.level}`}>{a.state}</span>
              </span>
              <button
                type="button"
                class="small"
                disabled={busy}
                aria-label={`${action} ${a.name}`}
                onClick={() =>
                  go((api) => api.send('POST', `/agents/${encodeURIComponent(a.name)}/${action}`))
                }
              >
                {running ? 'Stop' : 'Start'}
              </button>
            </li>
          );
        })}
      </ul>
    </Control>
  );
}

function PanicControl({ store }: { store: Store }) {
  const [outcome, busy, go] = useAction(store);
  return (
    <Control title="MIDI panic" id="ctl-panic" outcome={outcome}>
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={() => go((api) => api.send('POST', '/midi/panic'))}
      >
        Silence all MIDI outputs
      </button>
    </Control>
  );
}

function SendControl({ store }: { store: Store }) {
  const [outcome, busy, go] = useAction(store);
  const [local, setLocal] = useState<Outcome>(undefined);
  const submit = (e: Event) => {
    e.preventDefault();
    const text = field(e, 'payload');
    let payload: unknown = null;
    try {
      payload = text === '' ? null : JSON.parse(text);
    } catch (err) {
      setLocal({ ok: false, text: `payload is not JSON: ${(err as Error).message}` });
      return;
    }
    setLocal(undefined);
    const body: Record<string, unknown> = { type: field(e, 'type'), payload };
    const priority = field(e, 'priority');
    const to = field(e, 'to');
    if (priority !== '') body.priority = priority;
    if (to !== '') body.to = to;
    void go((api) => api.send('POST', '/messages', body));
  };
  return (
    <Control title="Send a message" id="ctl-send" outcome={local ?? outcome}>
      <form onSubmit={submit} class="stack">
        <label>
          type <input name="type" required placeholder="tempo_change" autoComplete="off" />
        </label>
        <label>
          priority{' '}
          <select name="priority">
            <option value="">the type's usual</option>
            {PRIORITIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          to <input name="to" placeholder="broadcast" autoComplete="off" />
        </label>
        <label>
          payload (JSON) <textarea name="payload" rows={3} placeholder='{"bpm": 128}' spellcheck={false} />
        </label>
        <button type="submit" disabled={busy}>
          Publish
        </button>
      </form>
    </Control>
  );
}

export function ControlsView({ store }: { store: Store }) {
  useChannels(store, 'auth');
  const needsToken = (store.auth.need === 'writes' || store.auth.need === 'reads') && !store.hasToken;
  return (
    <section aria-labelledby="controls-h" class="panel">
      <h2 id="controls-h">Controls</h2>
      {needsToken && (
        <p class="alert notice">
          These need the API token.{' '}
          <button type="button" class="small" onClick={() => store.askToken('asked')}>
            Enter token
          </button>
        </p>
      )}
      <div class="controls">
        <TempoControl store={store} />
        <TransportControl store={store} />
        <ProgressionControl store={store} />
        <AgentsControl store={store} />
        <PanicControl store={store} />
        <SendControl store={store} />
      </div>
    </section>
  );
}
