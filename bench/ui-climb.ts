/**
 * The relay climb of the ui group (ui-relay.ts): the daemon's OSC relay rate, as osc.relay_pps measures
 * it (osc-relay.ts), under one or more conditions (no dashboard, five pages, five clients). The rate
 * is the highest offered rate that arrives with no loss: a sender child offers each rate for STEP_MS;
 * a failing step is tried once more; a ladder, then halvings. Conditions climbed together are stepped
 * in lockstep, the order alternating from rate to rate, so a drift of the machine hits them alike.
 */
import type { Socket } from 'node:dgram';
import {
  CHILD_TIMEOUT_MS,
  closeSocket,
  forkHelper,
  type Helper,
  type RelayDaemon,
  startRelayDaemon,
  udpSocket,
} from './osc-procs.js';
import { StepCounter } from './step-counter.js';

const STEP_MS = 1_000;
const GRACE_MS = 200;
/** Offered rates, pkt/s, climbed until one fails; the first warms the daemon up. */
const LADDER = [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 100_000, 120_000, 150_000];
const BISECTIONS = 2;
const ATTEMPTS = 2;
/** A warm-up offered before each climb, results not counted: the JIT compiles the paths under traffic. */
const WARMUP_RATE = 5_000;
const WARMUP_STEPS = 2;
/** After a condition is put in place (clients connect), before its step: their start is not measured. */
const ENTER_SETTLE_MS = 300;

export interface Rig {
  sender: Helper;
  counter: StepCounter;
  port: number;
  nextBase: number;
}

/** One offered rate; true when every packet arrived. Returns the rate the sender achieved too. */
async function attempt(rig: Rig, rate: number): Promise<{ pass: boolean; achieved: number }> {
  await rig.counter.quiet();
  const count = Math.round((rate * STEP_MS) / 1000);
  const base = rig.nextBase;
  rig.nextBase += count;
  rig.counter.expect(base, count);
  const sent = await rig.sender.request<{ rate: number }>(
    'step',
    { port: rig.port, rate, count, base },
    STEP_MS * 3 + CHILD_TIMEOUT_MS,
  );
  await rig.counter.wait(GRACE_MS);
  return { pass: rig.counter.got === count, achieved: sent.rate };
}

/** One condition of the relay climbed (no dashboard, five clients…), with what its climb found. */
export interface Condition {
  name: string;
  /** Put in place before each of its steps, and taken away after (lockstep climbs). */
  enter?(): Promise<void>;
  leave?(): Promise<void>;
  pass?: { rate: number; achieved: number };
  fail?: number;
  steps: number;
}

export const condition = (name: string, around: Pick<Condition, 'enter' | 'leave'> = {}): Condition => ({
  name,
  ...around,
  steps: 0,
});

async function enter(c: Condition): Promise<void> {
  if (c.enter === undefined) return;
  await c.enter();
  await new Promise((resolve) => setTimeout(resolve, ENTER_SETTLE_MS));
}

/** Offers `rate` to the relay under `c`, up to ATTEMPTS times until a step passes; records the outcome. */
async function step(rig: Rig, c: Condition, rate: number): Promise<void> {
  await enter(c);
  try {
    for (let i = 0; i < ATTEMPTS; i++) {
      c.steps++;
      const r = await attempt(rig, rate);
      if (r.pass) {
        c.pass = { rate, achieved: r.achieved };
        return;
      }
    }
    c.fail = rate;
  } finally {
    await c.leave?.();
  }
}

/**
 * Climbs the conditions in lockstep (each rate offered under each condition in turn, the order
 * alternating from rate to rate, so a drift of the machine's state hits them alike): a warm-up, the
 * ladder until each fails, then the halvings. A condition's value is the rate the sender achieved in
 * its highest passing step.
 */
export async function climb(rig: Rig, conditions: Condition[]): Promise<void> {
  for (let i = 0; i < WARMUP_STEPS; i++) {
    for (const c of conditions) {
      await enter(c);
      await attempt(rig, WARMUP_RATE);
      await c.leave?.();
    }
  }
  let turn = 0;
  const inTurn = (cs: Condition[]) => (turn++ % 2 === 0 ? cs : [...cs].reverse());
  for (const rate of LADDER) {
    const climbing = conditions.filter((c) => c.fail === undefined);
    if (climbing.length === 0) break;
    for (const c of inTurn(climbing)) await step(rig, c, rate);
  }
  for (let i = 0; i < BISECTIONS; i++) {
    for (const c of inTurn(conditions)) {
      if (c.pass === undefined || c.fail === undefined) continue;
      const mid = Math.round((c.pass.rate + c.fail) / 2 / 1000) * 1000;
      if (mid > c.pass.rate && mid < c.fail) await step(rig, c, mid);
    }
  }
}

export const pps = (c: Condition): number => c.pass?.achieved ?? 0;

/** The relay daemon with its sender and receiver; `close` releases all three. */
export async function startRig(): Promise<{ rig: Rig; daemon: RelayDaemon; close(): Promise<void> }> {
  let receiver: Socket | undefined;
  let sender: Helper | undefined;
  let daemon: RelayDaemon | undefined;
  const close = async (): Promise<void> => {
    daemon?.kill();
    await Promise.all([sender?.stop(), closeSocket(receiver)]);
  };
  try {
    const sink = await udpSocket();
    receiver = sink.socket;
    const counter = new StepCounter(3_000);
    receiver.on('message', counter.onMessage);
    sender = forkHelper('sender');
    daemon = await startRelayDaemon(sink.port);
    return { rig: { sender, counter, port: daemon.port, nextBase: 1 }, daemon, close };
  } catch (err) {
    await close();
    throw err;
  }
}
