/**
 * Asks for the API token (a native modal <dialog>: focus moves into it, Escape closes it). The daemon
 * checks the token before it is kept (store.ts, tryToken); a refusal is said plainly and the dialog
 * stays open.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Store } from '../store.js';
import { useChannels } from './use-store.js';

export function TokenDialog({ store }: { store: Store }) {
  useChannels(store, 'auth');
  const ref = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const asking = store.auth.asking;

  useEffect(() => {
    const d = ref.current;
    if (d === null) return;
    if (asking && !d.open) d.showModal();
    if (!asking && d.open) d.close();
  }, [asking]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    setBusy(true);
    const why = await store.tryToken(input.value);
    setBusy(false);
    setError(why ?? '');
    if (why === undefined) input.value = '';
  };

  return (
    <dialog
      ref={ref}
      id="token-dialog"
      aria-labelledby="token-h"
      onCancel={(e) => {
        e.preventDefault();
        setError('');
        store.dismissToken();
      }}
    >
      <form onSubmit={submit} class="stack">
        <h2 id="token-h">API token</h2>
        <p>{store.auth.message}</p>
        <label>
          token{' '}
          <input
            name="token"
            type="password"
            autoComplete="off"
            required
            autoFocus
            aria-describedby="token-error"
          />
        </label>
        <p id="token-error" class="result trouble" role="alert">
          {error}
        </p>
        <div class="row">
          <button type="submit" disabled={busy}>
            Use token
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setError('');
              store.dismissToken();
            }}
          >
            Watch without
          </button>
        </div>
      </form>
    </dialog>
  );
}
