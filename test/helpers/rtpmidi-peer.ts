/**
 * rtpmidi 1.0.0 (RTP-MIDI / AppleMIDI, RFC 6295) as the independent outside peer for network-MIDI tests, on
 * 127.0.0.1 only, driven through its own session, stream and packet codec. Workarounds for its bugs (paths in
 * node_modules/rtpmidi/src):
 * - `Session.sendMessage` never delivers reliably: 1.0.0 throws for one argument and queues `cTime` where the
 *   flush reads `comexTime` (Session.js:189-237); every stream drops MIDI until its clock sync ran
 *   (Stream.js:321-324), 1.5 s after joining and only on the inviting side. `send` encodes one packet with
 *   the package's MidiMessage and writes it to each remote's data port at once.
 * - The parser skips a lone one-byte command without a delta time (MidiMessage.js:64): one-byte messages
 *   (0xF8 clock …) go out with the Z flag and a delta time of 0 (RFC 6295 §3). Deltas are always 0: the
 *   1.0.0 encoder writes any other delta one byte too late (MidiMessage.js:292-307).
 * - Two rtpmidi sessions answer each CK2 with a new CK0 forever (Stream.js:266-270): a CK2 ends the
 *   exchange here, as in AppleMIDI.
 * - `removeStream` splices every later stream too (Session.js:274) and a datagram that fails to parse throws
 *   from the socket's handler: fixed per session, and caught into `errors`.
 */
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Rinfo, Session, Stream } from 'rtpmidi';
import { Sightings } from './waiting.js';

const require = createRequire(import.meta.url);
// Mute the package's winston logger before anything logs (it prints to stdout, even at require time).
(require('rtpmidi/src/logger.js') as typeof import('rtpmidi/src/logger.js')).silent = true;
const rtpmidi = require('rtpmidi') as typeof import('rtpmidi');
const MidiMessage = require('rtpmidi/src/MidiMessage.js') as typeof import('rtpmidi/src/MidiMessage.js');

export interface ReceivedMidi {
  bytes: number[];
  /** performance.now() when the session delivered it. */
  at: number;
}
export interface RemoteInfo {
  /** The remote's session name (rtpmidi keeps its NUL terminator; stripped here). */
  name: string;
  ssrc: number;
  address: string;
  controlPort: number;
}

const info = (s: Stream): RemoteInfo => ({
  name: s.name.replace(/\0+$/, ''),
  ssrc: s.ssrc ?? 0,
  address: s.rinfo1?.address ?? '',
  controlPort: s.rinfo1?.port ?? 0,
});

/** Closes both sockets; resolves once libuv released them (in the loop turn after their 'close'). */
async function release(session: Session): Promise<void> {
  for (const socket of [session.controlChannel, session.messageChannel]) {
    // A socket already closed throws: nothing left to release.
    await new Promise<void>((resolve) => socket.close(() => resolve())).catch(() => undefined);
  }
  for (let turn = 0; turn < 2; turn++) await new Promise((r) => setImmediate(r));
}

async function bind(name: string, port: number): Promise<Session> {
  if (port % 2 !== 0) throw new Error(`rtpmidi needs an even control port, got ${port}`);
  for (let attempt = 1; ; attempt++) {
    const p = port || 2 * randomInt(10_000, 16_383); // 20000–32766, below Linux's ephemeral ports
    const session = new rtpmidi.Session(p, name, name, randomInt(1, 0xffff_ffff));
    const failed: Error[] = []; // both sockets may fail to bind: each failure is an 'error'
    session.on('error', (err: Error) => failed.push(err));
    // Not session.start(): that binds every interface.
    session.controlChannel.bind(p, '127.0.0.1');
    session.messageChannel.bind(p + 1, '127.0.0.1');
    await new Promise((resolve) => {
      session.once('ready', resolve);
      session.once('error', resolve);
    });
    const err = failed[0];
    if (err === undefined) return session;
    await release(session);
    if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 20) {
      throw new Error(`rtpmidi peer cannot bind 127.0.0.1:${p} and ${p + 1}: ${err.message}`, { cause: err });
    }
  }
}

/** One rtpmidi session bound to 127.0.0.1: made by startPeer(). */
export class RtpMidiPeer {
  readonly ssrc: number;
  readonly controlPort: number;
  readonly dataPort: number;
  /** Socket errors, and exceptions rtpmidi threw while handling a datagram. */
  readonly errors: Error[] = [];
  private readonly inbox = new Sightings<ReceivedMidi>();
  private readonly joins = new Sightings<RemoteInfo>();
  private readonly leaves = new Sightings<RemoteInfo>();
  private readonly streams = new Set<Stream>();
  private byes: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  /** Messages received, in order. */
  readonly received = this.inbox.seen;
  /** Remotes that completed both invitations (either way), and those that later sent BY. */
  readonly joined = this.joins.seen;
  readonly left = this.leaves.seen;

  constructor(
    readonly name: string,
    private readonly session: Session,
  ) {
    this.ssrc = session.ssrc;
    this.controlPort = session.controlChannel.address().port;
    this.dataPort = this.controlPort + 1;
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
    session.on('streamAdded', ({ stream }: { stream: Stream }) => {
      if (stream.isInitiator) return; // invite() reports it once the data channel accepted too
      this.adopt(stream);
      this.joins.add(info(stream));
    });
    session.on('streamRemoved', ({ stream }: { stream: Stream }) => this.leaves.add(info(stream)));
    session.on('message', (_delta: number, bytes: Buffer) =>
      this.inbox.add({ bytes: [...bytes], at: performance.now() }),
    );
  }

  /** Invites `host:port` (an even control port); resolves once it accepted on both channels. */
  invite(host: string, port: number, timeoutMs = 5_000): Promise<RemoteInfo> {
    if (port % 2 !== 0) return Promise.reject(new Error(`rtpmidi invites even control ports only: ${port}`));
    this.session.connect({ address: host, port });
    const stream = this.session.streams.at(-1) as Stream;
    this.adopt(stream);
    stream.token = randomInt(1, 0xffff_ffff);
    stream.sendInvitation({ address: host, port }); // rtpmidi sends its first IN only after 1.5 s
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.stopTimers(stream);
        this.session.removeStream(stream);
        reject(new Error(`rtpmidi peer ${this.name}: invitation to ${host}:${port} ${why}`));
      };
      const timer = setTimeout(() => fail(`not accepted on both channels within ${timeoutMs} ms`), timeoutMs);
      stream.on('control-message', (m: { command?: string }) => {
        if (m.command === 'invitation_rejected') fail('refused (NO)');
      });
      stream.once('established', () => {
        clearTimeout(timer);
        this.joins.add(info(stream));
        resolve(info(stream));
      });
    });
  }

  /** Sends one complete MIDI message to every joined remote, now, in an RTP packet of its own. */
  async send(bytes: number[] | Uint8Array): Promise<void> {
    if (this.closing !== undefined) throw new Error(`rtpmidi peer ${this.name} is closed`);
    const data = Buffer.from(bytes);
    const targets = this.connected();
    if (targets.length === 0) throw new Error(`rtpmidi peer ${this.name}: no remote has joined`);
    for (const s of targets) {
      s.lastSentSequenceNr = (s.lastSentSequenceNr + 1) % 0x10000;
      const packet = new MidiMessage()
        .mixin({
          ssrc: this.ssrc,
          sequenceNumber: s.lastSentSequenceNr,
          timestamp: this.session.now(),
          // Any non-zero delta makes the encoder set Z; it rounds 0.1 to a delta byte of 0.
          commands: [{ deltaTime: data.length === 1 ? 0.1 : 0, data }],
        })
        .generateBuffer();
      if (packet.payload.length <= 1) throw new Error(`rtpmidi cannot encode ${data.toString('hex')}`);
      const { port, address } = s.rinfo2 as Rinfo;
      const socket = this.session.messageChannel;
      await new Promise<void>((ok, fail) =>
        socket.send(packet.buffer, port, address, (e) => (e ? fail(e) : ok())),
      );
    }
  }

  /** The first received message matching `match`, already received or to come. */
  waitFor(match: (m: ReceivedMidi) => boolean, ms = 5_000): Promise<ReceivedMidi> {
    return this.inbox.waitFor(match, ms, () => `${this.name} received no matching MIDI in ${ms} ms`);
  }

  waitForJoin(ms = 5_000): Promise<RemoteInfo> {
    return this.joins.waitFor(
      () => true,
      ms,
      () => `no remote joined ${this.name} in ${ms} ms`,
    );
  }

  waitForLeave(ms = 5_000): Promise<RemoteInfo> {
    return this.leaves.waitFor(
      () => true,
      ms,
      () => `no remote left ${this.name} (BY) in ${ms} ms`,
    );
  }

  /** Sends BY (rtpmidi's own) to every joined remote, then closes. */
  end(): Promise<void> {
    if (this.closing === undefined) {
      // close() waits for these: a send still pending when its socket closes never calls back.
      this.byes = Promise.all(
        this.connected().map((s) => {
          this.stopTimers(s);
          return new Promise<void>((resolve) => s.sendEndstream(resolve));
        }),
      );
    }
    return this.close();
  }

  /** Releases both sockets and every timer, without BY. Idempotent; also what kill() does. */
  close(): Promise<void> {
    this.closing ??= this.byes.then(() => {
      for (const s of [...this.streams, ...this.session.streams]) this.stopTimers(s);
      return release(this.session);
    });
    return this.closing;
  }

  /** Vanishes without BY, as a lost peer would. */
  kill(): Promise<void> {
    return this.close();
  }

  private connected(): Stream[] {
    return [...this.streams].filter((s) => s.isConnected && s.rinfo2 !== null);
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

/**
 * Starts a session listening for invitations on 127.0.0.1; resolves once both sockets are bound. `port` is
 * the even control port (data: port + 1); 0 picks a free pair (read `controlPort`).
 */
export async function startPeer({ name, port }: { name: string; port: number }): Promise<RtpMidiPeer> {
  return new RtpMidiPeer(name, await bind(name, port));
}
