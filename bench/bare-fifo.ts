/**
 * Baselines written in the bench: the least a queue with synchronous dispatch can cost here.
 *
 * Plain arrays with a head index, drained in one setImmediate callback with no time slices, stats or
 * routing: what the bus would cost if it did nothing but queue. Messages have the bus's message shape
 * so both sides allocate the same objects.
 */

/** The bus's message shape, built by the bench. Keep every field one type (PERFORMANCE-NOTES.md). */
export interface BenchMessage {
  id: number;
  type: string;
  from: string;
  to: string;
  priority: number;
  payload: unknown;
  timestamp: number;
  at: number | undefined;
}

/** A message of the bus's shape; timestamp is a constant float so the baseline reads no clock. */
export function benchMessage(id: number, type: string, priority: number, payload: unknown): BenchMessage {
  return { id, type, from: 'bench', to: 'broadcast', priority, payload, timestamp: 1.5, at: undefined };
}

type Sink = (message: BenchMessage) => void;

/** Four FIFO lanes by priority, most urgent first, like the bus but bare. */
export class FourFifo {
  private readonly lanes: (BenchMessage | undefined)[][] = [[], [], [], []];
  private readonly heads = [0, 0, 0, 0];
  private pending = 0;
  private scheduled = false;

  constructor(private readonly sink: Sink) {}

  push(message: BenchMessage): void {
    this.lanes[message.priority]!.push(message);
    this.pending++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const lanes = this.lanes;
    const heads = this.heads;
    while (this.pending > 0) {
      let p = 0;
      while (heads[p] === lanes[p]!.length) p++;
      const lane = lanes[p]!;
      const head = heads[p]!;
      const message = lane[head]!;
      lane[head] = undefined;
      if (head + 1 === lane.length) {
        lane.length = 0;
        heads[p] = 0;
      } else heads[p] = head + 1;
      this.pending--;
      this.sink(message);
    }
  };
}

/** One FIFO for every priority: a CRITICAL message waits behind everything queued before it. */
export class SingleFifo {
  private readonly items: (BenchMessage | undefined)[] = [];
  private head = 0;
  private scheduled = false;

  constructor(private readonly sink: Sink) {}

  push(message: BenchMessage): void {
    this.items.push(message);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const items = this.items;
    while (this.head < items.length) {
      const message = items[this.head]!;
      items[this.head++] = undefined;
      this.sink(message);
    }
    items.length = 0;
    this.head = 0;
  };
}
