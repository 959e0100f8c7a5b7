/**
 * One priority lane: a growable ring buffer (power-of-two capacity) addressed by absolute sequence
 * numbers, so a queued item keeps a stable address while the lane grows: coalescing replaces an item
 * in place through it. No holes, no compaction, no per-item allocation.
 */
export class Fifo<T> {
  private items: (T | undefined)[];
  private mask: number;
  /** Absolute sequence number of the oldest queued item. */
  private start = 0;
  /** Absolute sequence number the next pushed item gets. */
  private end = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.items = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Appends an item; returns its sequence number. */
  push(item: T): number {
    if (this.end - this.start > this.mask) this.grow();
    const seq = this.end++;
    this.items[seq & this.mask] = item;
    return seq;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.start === this.end) return undefined;
    const i = this.start & this.mask;
    const item = this.items[i];
    this.items[i] = undefined;
    this.start++;
    if (this.start === this.end) {
      // Empty: restart at 0 so sequence numbers stay small integers.
      this.start = 0;
      this.end = 0;
    }
    return item;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.start === this.end ? undefined : this.items[this.start & this.mask];
  }

  /** The item queued under `seq`, or undefined if it has left the lane. */
  at(seq: number): T | undefined {
    return seq >= this.start && seq < this.end ? this.items[seq & this.mask] : undefined;
  }

  /** Replaces the item queued under `seq` (which must still be queued). */
  replace(seq: number, item: T): void {
    this.items[seq & this.mask] = item;
  }

  /** Removes every item, returning them oldest first. */
  clear(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const next = new Array<T | undefined>(cap).fill(undefined);
    const mask = cap - 1;
    for (let s = this.start; s < this.end; s++) next[s & mask] = this.items[s & this.mask];
    this.items = next;
    this.mask = mask;
  }
}
