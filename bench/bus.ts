/** The bus group: figures in the order they are run and printed. */
import { criticalBehindFlood, deliveryLatencyP99 } from './bus-latency.js';
import { bytesPerQueuedMessage, publishNs } from './bus-queue.js';
import { throughput } from './bus-throughput.js';
import type { Figure } from './types.js';

export const figures: readonly Figure[] = [
  throughput,
  publishNs,
  criticalBehindFlood,
  deliveryLatencyP99,
  bytesPerQueuedMessage,
];
