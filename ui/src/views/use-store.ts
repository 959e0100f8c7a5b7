/** Draws a view again whenever one of the store's channels it reads changes. */
import type { RefObject } from 'preact';
import { useEffect, useReducer } from 'preact/hooks';
import type { Channel, Store } from '../store.js';

export function useChannels(store: Store, ...channels: Channel[]): void {
  useChannelsWhileSeen(store, undefined, ...channels);
}

/**
 * {@link useChannels} for a view that is drawn only while it is on screen (or near it): off screen its
 * changes are noted, and it is drawn once when it comes back. A page left open (a tablet beside the
 * desk, five of them in ui.bus_throughput_ratio) then spends nothing on what nobody sees.
 */
export function useChannelsWhileSeen(
  store: Store,
  seen: RefObject<Element | null> | undefined,
  ...channels: Channel[]
): void {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const key = channels.join(',');
  useEffect(() => {
    let visible = true;
    let missed = false;
    const el = seen?.current;
    const observer =
      el === undefined || el === null
        ? undefined
        : new IntersectionObserver(
            (entries) => {
              visible = entries.some((e) => e.isIntersecting);
              if (visible && missed) {
                missed = false;
                redraw(undefined);
              }
            },
            { rootMargin: '200px' },
          );
    if (el !== undefined && el !== null) observer?.observe(el);
    const offs = channels.map((c) =>
      store.on(c, () => {
        if (visible) redraw(undefined);
        else missed = true;
      }),
    );
    return () => {
      observer?.disconnect();
      for (const off of offs) off();
    };
  }, [store, key, seen]);
}

/** The clock time of `at` (page clock, ms), `07:53:12`; a fixed text, unlike "3 s ago", so a quiet page redraws nothing. */
export function clock(at: number | undefined): string {
  return at === undefined ? 'never' : new Date(at).toTimeString().slice(0, 8);
}

/** "3 s ago", "4 min ago": how long since `at` (page clock, ms). */
export function ago(at: number | undefined, now = Date.now()): string {
  if (at === undefined) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 1) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** One formatter per number of decimals: `toLocaleString` with options builds a new one at each call. */
const formats = new Map<number, Intl.NumberFormat>();

/** A number for people: thousands grouped, at most `digits` decimals. */
export function fmt(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  let f = formats.get(digits);
  if (f === undefined) {
    f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits });
    formats.set(digits, f);
  }
  return f.format(v);
}
