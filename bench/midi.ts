/**
 * The midi group (issue #7), each figure beside a baseline measured in the same run:
 * midi.clock_out_jitter_p99_us (midi-clock-out.ts: the adapter's clock out on the real scheduler vs a
 * naive setInterval clock), midi.rtp_relay_latency_p99_us (midi-relay.ts: rtpmidi peer → the real
 * daemon process → a second peer vs the two peers directly) and midi.clock_in_lock_bars
 * (midi-clock-in.ts: the clock follower vs a naive mean of 24 intervals).
 */
import { clockInLockBars } from './midi-clock-in.js';
import { clockOutJitterP99 } from './midi-clock-out.js';
import { rtpRelayLatencyP99 } from './midi-relay.js';
import type { Figure } from './types.js';

export const figures: readonly Figure[] = [clockOutJitterP99, rtpRelayLatencyP99, clockInLockBars];
