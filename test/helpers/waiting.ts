/**
 * Waiting in tests without sleeps (CONVENTIONS.md): what a child process printed, line by line, and
 * the first item matching a predicate, awaited with a timeout.
 */
import type { Readable } from 'node:stream';

/** Calls `onLine` with every complete line `stream` prints. */
export function eachLine(stream: Readable | null | undefined, onLine: (text: string) => void): void {
  let buffer = '';
  stream?.on('data', (chunk) => {
    buffer += String(chunk);
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      onLine(text);
    }
  });
}

/** Items as they arrive (`seen`), and `waitFor` the first one that matches, seen already or to come. */
export class Sightings<T> {
  readonly seen: T[] = [];
  private readonly waiters = new Set<{ match: (item: T) => boolean; resolve: (item: T) => void }>();

  add(item: T): void {
    this.seen.push(item);
    for (const w of this.waiters) {
      if (w.match(item)) {
        this.waiters.delete(w);
        w.resolve(item);
      }
    }
  }

  /** Rejects after `ms` with `describe()` in the error, to say what was seen instead. */
  waitFor(match: (item: T) => boolean, ms: number, describe: () => string): Promise<T> {
    const found = this.seen.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(describe()));
      }, ms);
      this.waiters.add(waiter);
    });
  }
}

/** Polls `check` until it holds; fails naming `what` after `ms`. For state that raises no event. */
export async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
