/**
 * The osc group (issue #4), each figure beside a raw node:dgram relay or its own baseline measured in
 * the same run: osc.relay_pps and osc.relay_latency_p99_us (osc-relay.ts, the real daemon process
 * against a raw relay process) and osc.critical_under_flood_p99_us (osc-flood.ts, in-process daemon).
 */
import { criticalUnderFlood } from './osc-flood.js';
import { relayLatencyP99, relayPps } from './osc-relay.js';
import type { Figure } from './types.js';

export const figures: readonly Figure[] = [relayPps, relayLatencyP99, criticalUnderFlood];
