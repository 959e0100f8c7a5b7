/**
 * Processes of the midi group's relay figure: the real daemon (dist/daemon/cli.js, through api-child.ts)
 * with MIDI thru between network sessions, and the receiving peer child (midi-child.ts, forked with
 * IPC through osc-procs.ts's forkIpcChild). Everything binds 127.0.0.1 (free ports); every wait has a
 * deadline; a child still running when the worker exits is killed, and the peer child exits by itself
 * when the worker goes away.
 */
import { fileURLToPath } from 'node:url';
import { type Child, daemonUrl, jsonLine, killAll, spawnDaemon, stop, tempDir } from './api-child.js';
import { adapterInfo, closeSocket, connectUdp, forkIpcChild, type Helper, udpSocket } from './osc-procs.js';
import { sharedNow } from './rtpmidi-peer.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./midi-child.js', import.meta.url));

/** The peer child, driven by requests over IPC (osc-procs.ts's protocol). */
export type PeerChild = Helper;

/** Forks `midi-child.js`. */
export function forkPeerChild(): PeerChild {
  return forkIpcChild(CHILD_SCRIPT, [], 'midi peer child');
}

/**
 * The daemon config of the relay figure: network MIDI on 127.0.0.1 (a free port pair), OS ports off
 * (no ALSA here; they play no part in the path), and MIDI thru: every note on that arrives from a
 * session (`midi_in`, no route claims it) goes out as a note on to every other open session (the
 * adapter never sends a message back to the session it came from), and the same for note offs. The
 * band (agents, issue #8) off: a gateway's config, and the conductor's beats make the scheduler wait
 * out up to 4 ms on the CPU before each event (scheduler.ts `spinMs`), a note arriving then waits too,
 * which is the band's cost, not the relay's. OSC on a free port; logs at info
 * (nothing per message).
 */
export const RELAY_CONFIG = `api:
  host: 127.0.0.1
  port: 0
osc:
  listen: { host: 127.0.0.1, port: 0 }
midi:
  ports: { enabled: false }
  network: { host: 127.0.0.1, port: 0 }
  outputs:
    - { type: midi_in, where: { kind: noteon }, send: noteon, to: [network] }
    - { type: midi_in, where: { kind: noteoff }, send: noteoff, to: [network] }
agents: { enabled: false }
audio: { enabled: false }
log: { level: info, pretty: never }
`;

/** What GET /adapters says of the MIDI adapter (the parts the bench reads). */
export interface MidiAdapterInfo {
  state: string;
  details?: {
    network?: {
      listener?: { controlPort: number; packetsIn: number; malformed: number };
      sessions?: { id: string; stage: string }[];
    };
    messagesIn?: number;
    published?: number;
    refusedByBus?: number;
    out?: { sent: number; notOpen: number; echoesSkipped: number };
  };
}

/** The real daemon running RELAY_CONFIG. */
export interface MidiDaemon {
  child: Child;
  /** The session listener's control port. */
  controlPort: number;
  /** GET /adapters: the MIDI adapter. */
  midi(): Promise<MidiAdapterInfo>;
  /** SIGTERM, expects exit 0; removes the temp config. */
  stop(): Promise<void>;
  /** Kills it if it still runs; removes the temp config (for finally blocks). */
  kill(): void;
}

const midiInfo = (api: string): Promise<MidiAdapterInfo> => adapterInfo<MidiAdapterInfo>(api, 'midi');

/** Starts `node dist/daemon/cli.js start` with RELAY_CONFIG; reads its session port from /adapters. */
export async function startMidiDaemon(): Promise<MidiDaemon> {
  const tmp = tempDir();
  let child: Child | undefined;
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    tmp.cleanup();
  };
  try {
    child = spawnDaemon(tmp.file('config.yaml', RELAY_CONFIG));
    const api = await daemonUrl(child);
    const midi = await midiInfo(api);
    const controlPort = midi.details?.network?.listener?.controlPort ?? 0;
    if (!(controlPort > 0)) {
      throw new Error(`the daemon's network MIDI is not listening: ${JSON.stringify(midi)}`);
    }
    const started = child;
    return {
      child: started,
      controlPort,
      midi: () => midiInfo(api),
      async stop() {
        try {
          await stop(started, 0);
        } finally {
          killAll([started]);
          cleanup();
        }
      },
      kill() {
        killAll([started]);
        cleanup();
      },
    };
  } catch (err) {
    killAll([child]);
    cleanup();
    const log = child?.lines.slice(-5).map((l) => jsonLine(l)?.msg ?? l);
    throw new Error(`${(err as Error).message}${log?.length ? ` (daemon log: ${log.join(' | ')})` : ''}`, {
      cause: err,
    });
  }
}

/** Clock probes; the one with the shortest round trip gives the offset. */
const CLOCK_PROBES = 300;

/**
 * The clock (sharedNow) of the process answering on 127.0.0.1:`port` (midi-child.ts's clock echo) minus
 * this process's, µs, NTP-style (a check: both read CLOCK_MONOTONIC, so it should be 0 within the bound): a probe sent at t0 and answered with the child's time tc arrives at t1;
 * offset = tc − (t0 + t1) / 2, within ± (t1 − t0) / 2 (the shortest round trip is kept).
 */
export async function clockOffset(port: number): Promise<{ offsetUs: number; boundUs: number }> {
  const { socket } = await udpSocket();
  try {
    await connectUdp(socket, port);
    let best = { offsetUs: 0, boundUs: Number.POSITIVE_INFINITY };
    const probe = Buffer.alloc(4);
    for (let i = 0; i < CLOCK_PROBES; i++) {
      const t0 = sharedNow();
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('clock probe: no answer within 1 s')), 1_000);
        socket.once('message', (msg: Buffer) => {
          clearTimeout(timer);
          resolve(msg);
        });
        socket.send(probe);
      });
      const t1 = sharedNow();
      if (((t1 - t0) * 1000) / 2 < best.boundUs) {
        best = { offsetUs: (reply.readDoubleBE(0) - (t0 + t1) / 2) * 1000, boundUs: ((t1 - t0) * 1000) / 2 };
      }
    }
    return best;
  } finally {
    await closeSocket(socket);
  }
}
