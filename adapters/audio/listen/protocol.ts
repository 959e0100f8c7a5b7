/**
 * The listening process's protocol (Node IPC, JSON): the parent (listen-child.ts) sends `open` once
 * and `close` at the end; the host (listen-host.ts) answers `opened` or `error`, then streams `events`
 * and, once a second, `stats`; `ended` when a file input reached its end (no loop).
 *
 * Times are on the host's clock (ms, `performance.timeOrigin + performance.now()`): the host maps the
 * input's stream time to it (stream-clock.ts), and the parent maps the host's clock to the bus clock
 * with an offset measured by `ping`s when the input opens (the two processes took their `timeOrigin`
 * from the wall clock at different moments: an NTP step or a suspend between them would show).
 */
import type { AnalyzerOptions } from '../analysis/index.js';

/** What to listen to and how. */
export interface ListenOptions {
  /** 'default', a device id, or a part of a device label. */
  device: string;
  /** A WAV file played in real time instead of the device; '' for the device. */
  file: string;
  loop: boolean;
  /** The channel listened to, from 1; 0 mixes all. */
  channel: number;
  /** Samples per block the input delivers. */
  blockFrames: number;
  /** The analyzer's settings, without the sample rate (the input's). */
  analysis: Omit<AnalyzerOptions, 'sampleRate'>;
}

/** An event as the host sends it: the analyzer's event with `at` (and a tempo's beat) on the bus clock. */
export type ListenEvent =
  | {
      kind: 'pitch';
      hz: number;
      midi: number;
      note: string;
      cents: number;
      confidence: number;
      at: number;
      /** When the decision's last sample entered the input, bus clock. */
      detectedAt: number;
    }
  | { kind: 'onset'; strength: number; at: number; detectedAt: number }
  | { kind: 'tempo'; bpm: number; confidence: number; at: number; detectedAt: number };

/** What the host reports about its input once a second. */
export interface InputStats {
  /** Blocks and samples analyzed since open. */
  blocks: number;
  seconds: number;
  /** Loudest sample of the last second, dBFS (-Infinity is sent as null: silence). */
  peakDb: number | null;
  /** Longest analysis of one block within the last second, ms. */
  analyzeMaxMs: number;
  /** Blocks that came more than two blocks' length after the one before (the process was held up). */
  gaps: number;
  /** The host process: resident memory and CPU time since it started. */
  rssBytes: number;
  cpuMs: number;
}

/** What was opened. */
export interface InputInfo {
  source: 'device' | 'file';
  /** The device's label, or the file's path. */
  name: string;
  sampleRate: number;
  channels: number;
}

/** Parent → host. `ping`: a clock reading, answered at once with `pong` (listen-child.ts). */
export type ListenRequest =
  | { op: 'open'; options: ListenOptions }
  | { op: 'ping'; id: number }
  | { op: 'close' };

/** Host → parent. `device`: the failure is the input's (missing, busy), not the process's. */
export type ListenReply =
  | { op: 'opened'; info: InputInfo }
  | { op: 'error'; message: string; device: boolean }
  | { op: 'events'; events: ListenEvent[] /** When the host sent them, bus clock. */; sentAt: number }
  | { op: 'stats'; stats: InputStats }
  | { op: 'pong'; id: number; now: number }
  | { op: 'ended' }
  | { op: 'closed' };
