/**
 * The clock group (issue #8, "Benchmarks"), each figure beside a baseline measured in the same run:
 * clock.beat_jitter_p99_us (clock-beats.ts: the conductor's beats on the real scheduler vs a naive
 * setInterval beat).
 */
import { beatJitterP99 } from './clock-beats.js';
import type { Figure } from './types.js';

export const figures: readonly Figure[] = [beatJitterP99];
