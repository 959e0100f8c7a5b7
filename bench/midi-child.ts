/**
 * The receiving peer (B) of midi.rtp_relay_latency_p99_us, a process of its own forked with IPC by
 * midi-procs.ts: `node dist/bench/midi-child.js`. One rtpmidi session (rtpmidi-peer.ts) that records
 * the time (`sharedNow`, CLOCK_MONOTONIC) at which each note on arrives, with the key it carries
 * (midi-notes.ts), and a clock echo socket so the bench can check that both processes read one clock.
 *
 * Requests are `{ id, cmd, ... }`; every reply is `{ id, ok: true, result }` or `{ id, ok: false, error }`:
 * - `start { name, capacity }` → `{ controlPort, clockPort }`: room for `capacity` note ons
 * - `invite { port }` → `{ name, ssrc }` once 127.0.0.1:port accepted on both channels
 * - `arrivals` → `{ keys, at }`: every note on received so far, in order: its key and arrival time
 * - `stats` → `{ received, others, errors }`: MIDI messages received, those not a measured note on
 *   (note offs), and rtpmidi's errors
 * The child exits when its parent goes away (IPC disconnect) or on SIGTERM.
 */
import { createSocket, type Socket } from 'node:dgram';
import { keyOfNote } from './midi-notes.js';
import { type RtpMidiPeer, sharedNow, startPeer } from './rtpmidi-peer.js';

interface Request {
  id: number;
  cmd: string;
  [key: string]: unknown;
}

let peer: RtpMidiPeer | undefined;
let echo: Socket | undefined;
let keys = new Int32Array(0);
let arrivedAt = new Float64Array(0);
let arrivals = 0;
let received = 0;
let others = 0;

/** Opens the clock echo socket: each datagram is answered with this process's sharedNow (float64, ms). */
async function clockEcho(): Promise<number> {
  const s = createSocket('udp4');
  echo = s;
  const reply = Buffer.alloc(8);
  s.on('message', (_msg, rinfo) => {
    reply.writeDoubleBE(sharedNow());
    s.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject);
      resolve();
    });
  });
  s.on('error', () => undefined);
  return s.address().port;
}

const handlers: Record<string, (req: Request) => Promise<unknown>> = {
  async start(req) {
    if (peer !== undefined) throw new Error('already started');
    keys = new Int32Array(req.capacity as number);
    arrivedAt = new Float64Array(req.capacity as number);
    const p = await startPeer(req.name as string);
    peer = p;
    p.onMidi = (bytes, at) => {
      received++;
      const key = keyOfNote(bytes);
      if (key < 0 || arrivals === keys.length) {
        others++;
        return;
      }
      keys[arrivals] = key;
      arrivedAt[arrivals++] = at;
    };
    return { controlPort: p.controlPort, clockPort: await clockEcho() };
  },
  async invite(req) {
    if (peer === undefined) throw new Error('not started');
    return peer.invite(req.port as number);
  },
  async arrivals() {
    return { keys: Array.from(keys.subarray(0, arrivals)), at: Array.from(arrivedAt.subarray(0, arrivals)) };
  },
  async stats() {
    return { received, others, errors: peer?.errors.length ?? 0 };
  },
};

function main(): void {
  if (process.send === undefined) {
    console.error('usage: forked with IPC by midi-procs.js');
    process.exit(2);
  }
  const reply = (message: unknown): void => {
    process.send?.(message);
  };
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd];
    if (handler === undefined) {
      reply({ id: message.id, ok: false, error: `unknown command "${message.cmd}"` });
      return;
    }
    handler(message).then(
      (result) => reply({ id: message.id, ok: true, result }),
      (err: unknown) =>
        reply({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  const quit = (): void => {
    echo?.close();
    void peer?.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1_000).unref();
  };
  process.on('disconnect', quit);
  process.on('SIGTERM', quit);
}

main();
