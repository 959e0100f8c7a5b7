/**
 * The ui group (issue #12, ui-relay.ts): the OSC relay's rate with five dashboards open and streaming
 * against none, in the same run on the same daemon. ui.bus_throughput_ratio is the figure (five
 * chromium pages on this machine); ui.stream_clients_ratio the daemon's own share (their network load,
 * no browser).
 */
import type { Figure } from './types.js';
import { busThroughputRatio, streamClientsRatio } from './ui-relay.js';

export const figures: readonly Figure[] = [busThroughputRatio, streamClientsRatio];
