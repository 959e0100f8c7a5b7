/**
 * midi.rtp_relay_latency_p99_us (issue #7): a note sent by an rtpmidi peer A into Performia over network
 * MIDI, routed (MIDI thru, midi-procs.ts RELAY_CONFIG: a `midi_in` note on or off → the same to every
 * other session) and sent out to a second rtpmidi peer B; the baseline is the same notes from A to B
 * directly (A invites B). Latency of a note = B's arrival time of its note on − A's send time, both on
 * CLOCK_MONOTONIC (rtpmidi-peer.ts `sharedNow`): A's read just before its datagram goes to the socket,
 * B's when rtpmidi delivers the message (its packet parse is in both paths alike).
 *
 * Three processes, so that no two of the parties share an event loop: this one (A, and the
 * orchestration), the real daemon (`dist/daemon/cli.js start`) and B (midi-child.ts). B is a process
 * of its own rather than A's neighbour because in a real rig A, Performia and B are separate machines:
 * with A and B in one process the direct path would never cross a process boundary (no wake-up) while
 * the relayed one crosses two, and the figure would charge the relay for a wake-up the baseline never
 * pays. As it is, the relay adds exactly one hop: one more wake-up (50–150 µs cross-process UDP on this
 * VM, PERFORMANCE-NOTES) plus the daemon's work. `clock_offset_us` checks that A and B read one clock.
 *
 * Pacing: a note on every EVERY_MS on an absolute schedule and its note off half a step later (the notes
 * of midi-notes.ts: two octaves of one channel, as a player's; the daemon's recovery journal grows with
 * the notes touched), so every note finds the daemon and B idle. Blocks of BLOCK notes alternate between
 * the relayed and the direct path (ABAB, so drift in the machine's state hits both alike), after WARMUP
 * notes through each, also alternating.
 */
import { keyOfSeq, NOTE_KEYS, noteOffOf, noteOnOf } from './midi-notes.js';
import {
  clockOffset,
  forkPeerChild,
  type MidiDaemon,
  type PeerChild,
  startMidiDaemon,
} from './midi-procs.js';
import { busyPercent, machineTicks, type SchedStat, schedStat } from './midi-sched.js';
import { type RtpMidiPeer, startPeer } from './rtpmidi-peer.js';
import type { Figure, RunResult } from './types.js';
import { percentile, settle } from './util.js';

/** A note on every this many ms (its note off half-way). */
const EVERY_MS = 2;
/** Notes per block; measured blocks per path (2,000 notes each). */
const BLOCK = 100;
const BLOCKS = 20;
/** Warm-up notes per path, in WARMUP_BLOCKS alternating blocks (the daemon's JIT compiles the path). */
const WARMUP = 2_000;
const WARMUP_BLOCKS = 10;
/** Pause after the warm-up, so background compile and GC work is not charged to the first block. */
const WARMUP_PAUSE_MS = 100;
/** Notes not arrived this long after the last send count as lost. */
const GRACE_MS = 500;
/** More than this share of notes lost fails the run. */
const MAX_LOST_SHARE = 0.01;
/** Longest wait for the daemon to show both sessions open. */
const SESSIONS_TIMEOUT_MS = 5_000;

const TOTAL = 2 * (WARMUP + BLOCK * BLOCKS);

/**
 * Plays notes base… from `a` to the remote with SSRC `to`: note ons EVERY_MS apart, each note off half
 * a step after its note on. Records each note on's send time.
 */
function paced(a: RtpMidiPeer, to: number, base: number, count: number, sentAt: Float64Array): Promise<void> {
  return new Promise((resolve, reject) => {
    let step = 0;
    const start = performance.now();
    const tick = (): void => {
      const seq = base + (step >> 1);
      try {
        if (step % 2 === 0) sentAt[seq] = a.send(noteOnOf(seq), to);
        else a.send(noteOffOf(seq), to);
      } catch (err) {
        reject(err as Error);
        return;
      }
      if (++step === 2 * count) {
        resolve();
        return;
      }
      // One message per timer turn: a late turn sends the next one late rather than a burst.
      setTimeout(tick, Math.max(0, start + (step * EVERY_MS) / 2 - performance.now()));
    };
    tick();
  });
}

/**
 * Each note's arrival time (0: never arrived): an arrival belongs to the latest note on sent before it
 * with its key (keys repeat every NOTE_KEYS notes, seconds apart; latencies are well under that).
 */
function matchArrivals(keys: readonly number[], at: readonly number[], sentAt: Float64Array): Float64Array {
  const arrivedAt = new Float64Array(sentAt.length);
  keys.forEach((key, i) => {
    const t = at[i]!;
    let seq = key + Math.floor((sentAt.length - 1 - key) / NOTE_KEYS) * NOTE_KEYS;
    while (seq >= 0 && !(sentAt[seq]! > 0 && sentAt[seq]! <= t)) seq -= NOTE_KEYS;
    if (seq >= 0 && keyOfSeq(seq) === key && arrivedAt[seq] === 0) arrivedAt[seq] = t;
  });
  return arrivedAt;
}

async function waitForSessions(daemon: MidiDaemon, open: number): Promise<void> {
  const end = performance.now() + SESSIONS_TIMEOUT_MS;
  for (;;) {
    const info = await daemon.midi();
    const sessions = info.details?.network?.sessions ?? [];
    if (sessions.filter((s) => s.stage === 'open').length >= open) return;
    if (performance.now() > end) {
      throw new Error(`the daemon has not ${open} open sessions: ${JSON.stringify(sessions)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One-way times (µs) of the notes whose seqs are listed, Infinity for a lost one; and the lost count. */
function latencies(seqs: readonly number[], sentAt: Float64Array, arrivedAt: Float64Array) {
  const us = new Float64Array(seqs.length);
  let lost = 0;
  seqs.forEach((seq, i) => {
    const at = arrivedAt[seq]!;
    if (at > 0) us[i] = (at - sentAt[seq]!) * 1000;
    else {
      us[i] = Number.POSITIVE_INFINITY;
      lost++;
    }
  });
  if (lost > seqs.length * MAX_LOST_SHARE) throw new Error(`${lost} of ${seqs.length} notes never arrived`);
  return { us, lost };
}

/** The largest finite value (a lost note is Infinity, which JSON cannot carry). */
const maxFinite = (a: Float64Array): number => a.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0);

/** The processes and sessions of a run; whatever was started is stopped in the end. */
interface Rig {
  b?: PeerChild;
  daemon?: MidiDaemon;
  a?: RtpMidiPeer;
}

/** A's sessions: to the daemon (B joined it too) and to B directly, by the remote's SSRC. */
interface Paths {
  viaDaemon: number;
  direct: number;
  clockPort: number;
}

async function connect(rig: Rig): Promise<Paths & Required<Rig>> {
  const b = forkPeerChild();
  rig.b = b;
  const child = await b.request<{ controlPort: number; clockPort: number }>('start', {
    name: 'synth',
    capacity: TOTAL,
  });
  const daemon = await startMidiDaemon();
  rig.daemon = daemon;
  const a = await startPeer('keys');
  rig.a = a;
  const viaDaemon = (await a.invite(daemon.controlPort)).ssrc;
  await b.request('invite', { port: daemon.controlPort });
  await waitForSessions(daemon, 2);
  const direct = (await a.invite(child.controlPort)).ssrc;
  return { a, b, daemon, viaDaemon, direct, clockPort: child.clockPort };
}

/** What a run played: send times by seq, the measured seqs of each path, and /proc figures. */
interface Played {
  sentAt: Float64Array;
  relayed: number[];
  bare: number[];
  diagnosis: Record<string, number>;
}

/** The warm-up, then the measured blocks (ABAB). */
async function play(rig: Paths & Required<Rig>): Promise<Played> {
  const { a, viaDaemon, direct } = rig;
  const sentAt = new Float64Array(TOTAL);
  let seq = 0;
  for (let w = 0; w < WARMUP_BLOCKS; w++) {
    for (const to of [viaDaemon, direct]) {
      await paced(a, to, seq, WARMUP / WARMUP_BLOCKS, sentAt);
      seq += WARMUP / WARMUP_BLOCKS;
    }
  }
  await settle();
  await new Promise((resolve) => setTimeout(resolve, WARMUP_PAUSE_MS));
  const relayed: number[] = [];
  const bare: number[] = [];
  const pids = { daemon: rig.daemon.child.proc.pid, peer_b: rig.b.pid, bench: process.pid };
  const sched0 = Object.entries(pids).map(([k, pid]) => [k, schedStat(pid)] as const);
  const machine0 = machineTicks();
  for (let k = 0; k < BLOCKS; k++) {
    for (const [to, into] of [
      [viaDaemon, relayed],
      [direct, bare],
    ] as const) {
      await paced(a, to, seq, BLOCK, sentAt);
      for (let i = 0; i < BLOCK; i++) into.push(seq + i);
      seq += BLOCK;
    }
  }
  const machine = busyPercent(machine0, machineTicks());
  const pidOf = pids as Record<string, number | undefined>;
  const used = Object.fromEntries(
    sched0.map(([k, before]): [string, SchedStat] => {
      const after = schedStat(pidOf[k]);
      return [k, { cpuNs: after.cpuNs - before.cpuNs, waitNs: after.waitNs - before.waitNs }];
    }),
  );
  // Messages (note ons and offs) the daemon relayed, and those B received and A sent, in the blocks.
  const relayedMsgs = 2 * relayed.length;
  const allMsgs = 2 * (relayed.length + bare.length);
  return {
    sentAt,
    relayed,
    bare,
    diagnosis: {
      daemon_cpu_us_per_msg: used.daemon!.cpuNs / 1000 / relayedMsgs,
      peer_b_cpu_us_per_msg: used.peer_b!.cpuNs / 1000 / allMsgs,
      bench_cpu_us_per_msg: used.bench!.cpuNs / 1000 / allMsgs,
      daemon_runq_wait_ms: used.daemon!.waitNs / 1e6,
      peer_b_runq_wait_ms: used.peer_b!.waitNs / 1e6,
      bench_runq_wait_ms: used.bench!.waitNs / 1e6,
      machine_busy_pct: machine,
    },
  };
}

const p = (x: Float64Array, q: number): number => percentile(x, q);

export const rtpRelayLatencyP99: Figure = {
  name: 'midi.rtp_relay_latency_p99_us',
  unit: 'µs',
  baselineName: 'rtpmidi A → B direct',
  goal: 'adds < 200 µs at p99',
  met: (value, ratio) => value - value / ratio < 200,
  async run(): Promise<RunResult> {
    const rig: Rig = {};
    try {
      const connected = await connect(rig);
      const { b, daemon, a } = connected;
      const played = await play(connected);
      await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
      const got = await b.request<{ keys: number[]; at: number[] }>('arrivals');
      const at = matchArrivals(got.keys, got.at, played.sentAt);
      const peer = await b.request<{ received: number; others: number; errors: number }>('stats');
      const clock = await clockOffset(connected.clockPort);
      const midi = await daemon.midi();
      await daemon.stop();
      const via = latencies(played.relayed, played.sentAt, at);
      const dir = latencies(played.bare, played.sentAt, at);
      return {
        value: p(via.us, 99),
        baseline: p(dir.us, 99),
        details: {
          added_p99_us: p(via.us, 99) - p(dir.us, 99),
          p50_us: p(via.us, 50),
          baseline_p50_us: p(dir.us, 50),
          added_p50_us: p(via.us, 50) - p(dir.us, 50),
          p90_us: p(via.us, 90),
          baseline_p90_us: p(dir.us, 90),
          max_us: maxFinite(via.us),
          baseline_max_us: maxFinite(dir.us),
          lost: via.lost,
          baseline_lost: dir.lost,
          clock_offset_us: clock.offsetUs,
          clock_offset_bound_us: clock.boundUs,
          daemon_midi_in: midi.details?.messagesIn ?? 0,
          daemon_midi_out: midi.details?.out?.sent ?? 0,
          daemon_refused_by_bus: midi.details?.refusedByBus ?? 0,
          daemon_malformed: midi.details?.network?.listener?.malformed ?? 0,
          peer_received: peer.received,
          peer_unmatched: got.keys.length - at.filter((t) => t > 0).length,
          peer_errors: peer.errors + a.errors.length,
          // Why the tails (Linux /proc, the measured blocks): CPU time of each main thread per message
          // (the daemon: per message it relayed; B: per message received; A: per message sent), the
          // time each was runnable while another process had the CPU, how busy the machine was.
          ...played.diagnosis,
        },
      };
    } finally {
      rig.daemon?.kill();
      await Promise.all([rig.a?.close(), rig.b?.stop()]);
    }
  },
};
