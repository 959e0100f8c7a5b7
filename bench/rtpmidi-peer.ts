/**
 * rtpmidi 1.0.0 (RTP-MIDI / AppleMIDI, RFC 6295) as the outside peer of the midi group's relay figure,
 * on 127.0.0.1 only: the bench-side copy of test/helpers/rtpmidi-peer.ts (bench/ must not import test/),
 * cut to what a benchmark needs and with the same workarounds for the package's bugs (paths in
 * node_modules/rtpmidi/src):
 * - `Session.sendMessage` never delivers reliably (1.0.0 queues `cTime` where the flush reads
 *   `comexTime`, Session.js:189-237; streams drop MIDI until a clock sync ran, Stream.js:321-324):
 *   `send` encodes one packet with the package's MidiMessage and writes it to one remote's data port.
 *   Deltas are 0 (the 1.0.0 encoder writes any other delta one byte too late, MidiMessage.js:292-307).
 * - Two rtpmidi sessions answer each CK2 with a new CK0 forever (Stream.js:266-270): a CK2 ends it here.
 * - `removeStream` splices every later stream too (Session.js:274), and a datagram that fails to parse
 *   throws from the socket's handler: fixed per session, and caught into `errors`.
 *
 * Times are on `sharedNow` (ms): the relay figure compares a send time in one process with a receive
 * time in another.
 *
 * The package ships no types, and test/helpers/rtpmidi.d.ts (which declares them for the tests) is not
 * part of the bench's build: the few members used here are typed locally.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

interface Rinfo {
  address: string;
  port: number;
}
interface Stream extends EventEmitter {
  token: number | null;
  ssrc: number | null;
  name: string;
  rinfo1: Rinfo | null;
  rinfo2: Rinfo | null;
  isConnected: boolean;
  lastSentSequenceNr: number;
  connectionInterval?: NodeJS.Timeout;
  syncInterval?: NodeJS.Timeout;
  receiverFeedbackTimeout: NodeJS.Timeout | null;
  sendInvitation(rinfo: Rinfo): void;
  handleSynchronization(message: { count?: number }): void;
}
interface Session extends EventEmitter {
  readonly ssrc: number;
  streams: Stream[];
  readonly controlChannel: Socket;
  readonly messageChannel: Socket;
  now(): number;
  connect(rinfo: Rinfo): void;
  handleMessage(message: Buffer, rinfo: Rinfo): void;
  removeStream(stream: Stream): void;
}
interface RtpMidiModule {
  Session: new (port: number, localName: string, bonjourName: string, ssrc?: number) => Session;
  Stream: { prototype: Stream };
}
interface MidiMessagePacket {
  mixin(data: {
    ssrc: number;
    sequenceNumber: number;
    timestamp: number;
    commands: { deltaTime: number; data: Buffer }[];
  }): MidiMessagePacket;
  generateBuffer(): MidiMessagePacket;
  buffer: Buffer;
  payload: Buffer;
}

const require = createRequire(import.meta.url);
// Mute the package's winston logger before anything logs (it prints to stdout, even at require time).
(require('rtpmidi/src/logger.js') as { silent: boolean }).silent = true;
const rtpmidi = require('rtpmidi') as RtpMidiModule;
const MidiMessage = require('rtpmidi/src/MidiMessage.js') as new () => MidiMessagePacket;

const HOST = '127.0.0.1';

/**
 * The clock of the peers, ms: CLOCK_MONOTONIC (`process.hrtime`), which every process of the machine
 * reads alike. Not `performance.timeOrigin + performance.now()`: each process samples the wall clock and
 * the monotonic clock once at its start, not atomically, and two processes' sums were found tens of µs
 * apart, the order of the latencies measured.
 */
export const sharedNow = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A remote that joined a session. */
export interface Remote {
  name: string;
  ssrc: number;
}

/** Closes both sockets; resolves once libuv released them. */
async function release(session: Session): Promise<void> {
  for (const socket of [session.controlChannel, session.messageChannel]) {
    // A socket already closed throws: nothing left to release.
    await new Promise<void>((resolve) => socket.close(() => resolve())).catch(() => undefined);
  }
}

async function bind(name: string): Promise<Session> {
  for (let attempt = 1; ; attempt++) {
    const port = 2 * randomInt(10_000, 16_383); // 20000–32766, below Linux's ephemeral ports; even
    const session = new rtpmidi.Session(port, name, name, randomInt(1, 0xffff_ffff));
    const failed: Error[] = [];
    session.on('error', (err: Error) => failed.push(err));
    // Not session.start(): that binds every interface.
    session.controlChannel.bind(port, HOST);
    session.messageChannel.bind(port + 1, HOST);
    await new Promise((resolve) => {
      session.once('ready', resolve);
      session.once('error', resolve);
    });
    const err = failed[0];
    if (err === undefined) return session;
    await release(session);
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 20) {
      throw new Error(`rtpmidi peer cannot bind ${HOST}:${port} and ${port + 1}: ${err.message}`, {
        cause: err,
      });
    }
  }
}

/** One rtpmidi session bound to 127.0.0.1: made by startPeer(). */
export class RtpMidiPeer {
  readonly controlPort: number;
  /** Socket errors, and exceptions rtpmidi threw while handling a datagram. */
  readonly errors: Error[] = [];
  /** Called with every MIDI message delivered and its time of arrival (sharedNow). */
  onMidi: ((bytes: Buffer, at: number) => void) | undefined;
  private readonly streams = new Set<Stream>();
  private closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly session: Session,
  ) {
    this.controlPort = session.controlChannel.address().port;
    session.on('error', (err: Error) => this.errors.push(err));
    for (const socket of [session.controlChannel, session.messageChannel]) {
      socket.removeAllListeners('message');
      socket.on('message', (msg: Buffer, rinfo: Rinfo) => {
        try {
          session.handleMessage(msg, rinfo);
        } catch (err) {
          this.errors.push(err as Error);
        }
      });
    }
    session.removeStream = (gone) => {
      session.streams = session.streams.filter((s) => s !== gone);
    };
    session.on('streamAdded', ({ stream }: { stream: Stream }) => this.adopt(stream));
    session.on('message', (_delta: number, bytes: Buffer) => {
      const at = sharedNow();
      this.onMidi?.(bytes, at);
    });
  }

  /** Invites 127.0.0.1:`port` (an even control port); resolves once it accepted on both channels. */
  invite(port: number, timeoutMs = 5_000): Promise<Remote> {
    if (port % 2 !== 0) return Promise.reject(new Error(`rtpmidi invites even control ports only: ${port}`));
    this.session.connect({ address: HOST, port });
    const stream = this.session.streams.at(-1) as Stream;
    this.adopt(stream);
    stream.token = randomInt(1, 0xffff_ffff);
    stream.sendInvitation({ address: HOST, port }); // rtpmidi sends its first IN only after 1.5 s
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stopTimers(stream);
        this.session.removeStream(stream);
        reject(new Error(`rtpmidi peer ${this.name}: ${HOST}:${port} did not accept within ${timeoutMs} ms`));
      }, timeoutMs);
      stream.once('established', () => {
        clearTimeout(timer);
        resolve({ name: stream.name.replace(/\0+$/, ''), ssrc: stream.ssrc ?? 0 });
      });
    });
  }

  /**
   * Sends one MIDI message in an RTP packet of its own to the remote with SSRC `to`; returns the time
   * (sharedNow) read just before the datagram was handed to the socket.
   */
  send(bytes: Uint8Array, to: number): number {
    if (this.closing !== undefined) throw new Error(`rtpmidi peer ${this.name} is closed`);
    const s = [...this.streams].find((x) => x.ssrc === to && x.isConnected && x.rinfo2 !== null);
    if (s === undefined) throw new Error(`rtpmidi peer ${this.name}: no open stream to SSRC ${to}`);
    s.lastSentSequenceNr = (s.lastSentSequenceNr + 1) % 0x10000;
    const data = Buffer.from(bytes);
    const packet = new MidiMessage()
      .mixin({
        ssrc: this.session.ssrc,
        sequenceNumber: s.lastSentSequenceNr,
        timestamp: this.session.now(),
        commands: [{ deltaTime: 0, data }],
      })
      .generateBuffer();
    if (packet.payload.length <= 1) throw new Error(`rtpmidi cannot encode ${data.toString('hex')}`);
    const { port, address } = s.rinfo2 as Rinfo;
    const at = sharedNow();
    this.session.messageChannel.send(packet.buffer, port, address);
    return at;
  }

  /** Releases both sockets and every timer, without BY. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const s of [...this.streams, ...this.session.streams]) this.stopTimers(s);
      await release(this.session);
    })();
    return this.closing;
  }

  private adopt(stream: Stream): void {
    this.streams.add(stream);
    stream.handleSynchronization = (m) => {
      if (m.count !== 2) rtpmidi.Stream.prototype.handleSynchronization.call(stream, m);
    };
  }

  private stopTimers(s: Stream): void {
    clearInterval(s.connectionInterval);
    clearInterval(s.syncInterval);
    clearTimeout(s.receiverFeedbackTimeout ?? undefined);
  }
}

/** Starts a session listening for invitations on a free even port pair of 127.0.0.1. */
export async function startPeer(name: string): Promise<RtpMidiPeer> {
  return new RtpMidiPeer(name, await bind(name));
}
