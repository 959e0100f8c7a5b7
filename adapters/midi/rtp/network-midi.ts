/**
 * Network MIDI (issue #7): AppleMIDI sessions over RTP-MIDI (RFC 6295), as macOS (Audio MIDI Setup →
 * MIDI Network Setup) and rtpMIDI on Windows speak them. Performia is a session listener (control port
 * and data port = control + 1) that peers invite, and an initiator towards configured peers.
 *
 * - Invitation: IN on the control port, answered OK (or NO: allowlist, session cap), then IN on the data
 *   port, answered OK: the session is open. As initiator the same, the other way, retried until the
 *   peer answers; a NO stops the retries until the next round (`timeoutMs`).
 * - BY ends a session either way; on stop every session gets one.
 * - Clock sync (CK 0/1/2): answered when the peer starts it (at most one answer per 100 ms: two npm
 *   rtpmidi peers answer each CK2 with a new CK0, a flood); started every `syncIntervalMs` towards the
 *   peers Performia invited. The latency estimate is in /health.
 * - Receiver feedback (RS) once a second while packets arrive, so the peer can trim its journal; the
 *   peer's RS trims ours.
 * - A session that sends nothing (not even clock sync) for `timeoutMs` is dropped as lost; a peer
 *   Performia invited is invited again.
 * - Malformed datagrams are counted and reported (the adapter logs them rate-limited); nothing that
 *   arrives can throw out of a socket handler.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { MidiConfigError, MidiSessionError } from '../../../daemon/kernel/errors.js';
import { allowlist } from '../../shared/cidr.js';
import type { NetworkEvents, NetworkMidi } from '../endpoints.js';
import { decodeRtpMidi } from './rtp-midi.js';
import { Session, type SessionStats } from './session.js';
import {
  decodeSessionPacket,
  encodeSessionPacket,
  isSessionPacket,
  type SessionPacket,
} from './session-packets.js';

/** The network settings (config `midi.network`). */
export interface NetworkSettings {
  name: string;
  host: string;
  port: number;
  allow: readonly string[];
  maxSessions: number;
  timeoutMs: number;
  syncIntervalMs: number;
  peers: Readonly<Record<string, { host: string; port: number }>>;
  maxSysexBytes: number;
}

/** Listener figures. */
export interface ListenerStats {
  host: string;
  controlPort: number;
  dataPort: number;
  state: 'bound' | 'unbound';
  packetsIn: number;
  malformed: number;
  refused: number;
}

/** An invitation Performia sends to a configured peer. */
interface Invite {
  id: string;
  host: string;
  port: number;
  token: number;
  session: Session | undefined;
  /** Bus time of the next attempt. */
  next: number;
  attempts: number;
}

const TICK_MS = 250;
const CLOCK_ANSWER_MS = 100;
const INVITE_RETRY_MS = 1_000;

export class RtpNetwork implements NetworkMidi {
  private control: Socket | undefined;
  private data: Socket | undefined;
  private readonly ssrc = randomInt(1, 0xffff_ffff);
  private readonly bySsrc = new Map<number, Session>();
  private readonly byId = new Map<string, Session>();
  private readonly invites: Invite[];
  private readonly allowed: (address: string) => boolean;
  private timer: NodeJS.Timeout | undefined;
  private readonly t0: number;
  private stopping = false;
  readonly listener: ListenerStats;

  constructor(
    private readonly settings: NetworkSettings,
    private readonly events: NetworkEvents,
    private readonly clock: () => number,
  ) {
    this.t0 = clock();
    this.allowed = allowlist(
      settings.allow,
      (reason) => new MidiConfigError(`midi.network.allow: ${reason}`),
    );
    this.invites = Object.entries(settings.peers).map(([id, p]) => ({
      id,
      host: p.host,
      port: p.port,
      token: randomInt(1, 0xffff_ffff),
      session: undefined,
      next: 0,
      attempts: 0,
    }));
    this.listener = {
      host: settings.host,
      controlPort: settings.port,
      dataPort: settings.port + 1,
      state: 'unbound',
      packetsIn: 0,
      malformed: 0,
      refused: 0,
    };
  }

  /** The session clock: 10 kHz ticks since start (AppleMIDI timestamps, units of 100 µs). */
  private ticks(): bigint {
    return BigInt(Math.round((this.clock() - this.t0) * 10));
  }

  async start(): Promise<void> {
    await this.bind();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    // Each BY handed to the OS before its socket closes (a close right after send can lose it).
    const byes: Promise<void>[] = [];
    for (const s of [...this.byId.values()]) {
      if (s.open && this.control !== undefined) {
        const control = this.control;
        const bytes = encodeSessionPacket({ command: 'BY', token: s.token, ssrc: this.ssrc });
        byes.push(new Promise((resolve) => control.send(bytes, s.controlPort, s.address, () => resolve())));
      }
      this.drop(s, 'closed', 'Performia stopped');
    }
    await Promise.all(byes);
    for (const socket of [this.control, this.data]) {
      if (socket === undefined) continue;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
    this.control = this.data = undefined;
    this.listener.state = 'unbound';
  }

  sessions(): string[] {
    return [...this.byId.values()].filter((s) => s.open).map((s) => s.id);
  }

  send(endpoint: string, bytes: Uint8Array): boolean {
    const s = this.byId.get(endpoint);
    if (s === undefined || !s.open || this.data === undefined) return false;
    for (const packet of s.packetsFor(bytes, this.ssrc, Number(this.ticks() & 0xffffffffn))) {
      this.data.send(packet, s.dataPort, s.address);
    }
    return true;
  }

  stats(): Record<string, unknown> {
    return {
      listener: { ...this.listener },
      sessions: [...this.byId.values()].map((s): SessionStats => ({ ...s.stats })),
      invites: this.invites.map((i) => ({
        id: i.id,
        peer: `${i.host}:${i.port}`,
        state: i.session?.stats.stage ?? 'waiting',
        attempts: i.attempts,
      })),
    };
  }

  /** Binds control and data on consecutive ports; with port 0, an even free pair (peers expect it). */
  private async bind(): Promise<void> {
    const { host, port } = this.settings;
    for (let attempt = 0; attempt < 20; attempt++) {
      const want = port !== 0 ? port : 2 * randomInt(10_000, 16_383);
      const control = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
      const data = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
      try {
        await listen(control, host, want);
        await listen(data, host, want + 1);
      } catch (err) {
        control.close();
        try {
          data.close();
        } catch {
          // Never bound: nothing to release.
        }
        const code = (err as { code?: string }).code;
        if (port === 0 && code === 'EADDRINUSE') continue;
        throw new MidiSessionError(`listener ${host}:${want}`, bindReason(code, want, err), { cause: err });
      }
      control.on('message', (b, r) => this.guard(b, r, 'control'));
      data.on('message', (b, r) => this.guard(b, r, 'data'));
      // Socket errors after bind (ICMP unreachable on some systems) must not throw: count them.
      control.on('error', () => this.listener.malformed++);
      data.on('error', () => this.listener.malformed++);
      this.control = control;
      this.data = data;
      Object.assign(this.listener, { controlPort: want, dataPort: want + 1, state: 'bound' });
      return;
    }
    throw new MidiSessionError(`listener ${host}:0`, 'no free pair of consecutive ports found');
  }

  private guard(bytes: Buffer, from: RemoteInfo, channel: 'control' | 'data'): void {
    if (this.stopping) return;
    this.listener.packetsIn++;
    try {
      if (!this.allowed(from.address)) {
        this.listener.refused++;
        return;
      }
      const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      if (isSessionPacket(view)) this.onSession(decodeSessionPacket(view), from, channel);
      else if (channel === 'data') this.onRtp(view, from);
      else throw new Error('an RTP packet on the control port');
    } catch (err) {
      this.listener.malformed++;
      this.events.malformed(`${from.address}:${from.port}`, (err as Error).message);
    }
  }

  private onSession(p: SessionPacket, from: RemoteInfo, channel: 'control' | 'data'): void {
    switch (p.command) {
      case 'IN':
        this.invited(p.token, p.ssrc, p.name ?? '', from, channel);
        return;
      case 'OK':
        this.accepted(p.token, p.ssrc, p.name ?? '', from, channel);
        return;
      case 'NO': {
        const invite = this.invites.find((i) => i.token === p.token);
        if (invite?.session !== undefined)
          this.drop(invite.session, 'lost', `${invite.id} refused the invitation`);
        return;
      }
      case 'BY': {
        const s = this.bySsrc.get(p.ssrc);
        if (s !== undefined) this.drop(s, 'closed', 'the peer ended the session');
        return;
      }
      case 'CK':
        this.clockSync(p, from);
        return;
      case 'RS': {
        const s = this.bySsrc.get(p.ssrc);
        if (s === undefined) return;
        s.stats.lastSeen = this.clock();
        s.acknowledged(p.sequence);
        return;
      }
      case 'RL':
        return; // A bitrate limit: we send little; nothing to do.
    }
  }

  /** A peer invites us: control first, then data. */
  private invited(
    token: number,
    ssrc: number,
    name: string,
    from: RemoteInfo,
    channel: 'control' | 'data',
  ): void {
    const reply = (command: 'OK' | 'NO'): void => {
      const bytes = encodeSessionPacket({ command, token, ssrc: this.ssrc, name: this.settings.name });
      (channel === 'control' ? this.control : this.data)?.send(bytes, from.port, from.address);
    };
    let s = this.bySsrc.get(ssrc);
    if (channel === 'control') {
      if (s === undefined) {
        if (this.byId.size >= this.settings.maxSessions) {
          this.listener.refused++;
          reply('NO');
          return;
        }
        const id = this.uniqueId(`network:${name || `${from.address}:${from.port}`}`);
        s = new Session(id, token, from.address, from.port, false, this.clock(), this.settings.maxSysexBytes);
        s.remoteSsrc = ssrc;
        s.stats.name = name;
        this.bySsrc.set(ssrc, s);
        this.byId.set(id, s);
      }
      if (!s.open) s.stats.stage = 'data';
      reply('OK');
      return;
    }
    if (s === undefined || s.stats.stage === 'control') {
      reply('NO');
      return;
    }
    s.dataPort = from.port;
    reply('OK');
    this.opened(s);
  }

  /** A peer we invited accepts: after the control OK, invite its data port. */
  private accepted(
    token: number,
    ssrc: number,
    name: string,
    from: RemoteInfo,
    channel: 'control' | 'data',
  ): void {
    const invite = this.invites.find((i) => i.token === token);
    const s = invite?.session;
    if (invite === undefined || s === undefined) return;
    s.remoteSsrc = ssrc;
    s.stats.name = name;
    this.bySsrc.set(ssrc, s);
    if (channel === 'control' && s.stats.stage === 'control') {
      s.stats.stage = 'data';
      s.dataPort = from.port + 1;
      this.data?.send(
        encodeSessionPacket({ command: 'IN', token, ssrc: this.ssrc, name: this.settings.name }),
        s.dataPort,
        s.address,
      );
      return;
    }
    if (channel === 'data' && s.stats.stage === 'data') {
      s.dataPort = from.port;
      this.opened(s);
      this.startClockSync(s);
    }
  }

  private opened(s: Session): void {
    if (s.open) return;
    s.stats.stage = 'open';
    s.stats.lastSeen = this.clock();
    this.events.session(s.id, 'open', { name: s.stats.name });
  }

  private clockSync(p: Extract<SessionPacket, { command: 'CK' }>, from: RemoteInfo): void {
    const s = this.bySsrc.get(p.ssrc);
    if (s === undefined) return;
    const now = this.clock();
    s.stats.lastSeen = now;
    const [t1, t2] = p.timestamps;
    const send = (count: 0 | 1 | 2, ts: readonly [bigint, bigint, bigint]): void => {
      this.data?.send(
        encodeSessionPacket({ command: 'CK', ssrc: this.ssrc, count, timestamps: ts }),
        from.port,
        from.address,
      );
    };
    if (p.count === 0) {
      if (now - s.lastClockAnswer < CLOCK_ANSWER_MS) return;
      s.lastClockAnswer = now;
      send(1, [t1, this.ticks(), 0n]);
    } else if (p.count === 1) {
      const t3 = this.ticks();
      send(2, [t1, t2, t3]);
      this.measured(s, t3 - t1);
    } else this.measured(s, p.timestamps[2] - t1);
  }

  /** A round trip of the clock sync, in 100 µs units: half of it is the one-way latency. */
  private measured(s: Session, roundTrip: bigint): void {
    if (roundTrip < 0n) return;
    s.stats.latencyMs = Number(roundTrip) / 20;
    s.stats.clockSyncs++;
  }

  private startClockSync(s: Session): void {
    this.data?.send(
      encodeSessionPacket({ command: 'CK', ssrc: this.ssrc, count: 0, timestamps: [this.ticks(), 0n, 0n] }),
      s.dataPort,
      s.address,
    );
  }

  private onRtp(bytes: Uint8Array, from: RemoteInfo): void {
    const packet = decodeRtpMidi(bytes);
    const s = this.bySsrc.get(packet.ssrc);
    if (s === undefined || !s.open || s.address !== from.address)
      throw new Error(
        `RTP-MIDI from ${from.address}:${from.port} (SSRC ${packet.ssrc}) with no open session`,
      );
    const now = this.clock();
    const messages = s.receive(packet, now, (reason) => this.events.malformed(s.id, reason));
    for (const m of messages) this.events.bytes(s.id, m, now);
  }

  /** Every 250 ms: invitations due, clock sync towards invited peers, RS feedback, timeouts. */
  private tick(): void {
    const now = this.clock();
    for (const s of [...this.byId.values()]) {
      if (now - s.stats.lastSeen > this.settings.timeoutMs) {
        this.drop(s, 'lost', `no packet for ${Math.round((now - s.stats.lastSeen) / 1000)} s`);
        continue;
      }
      // A peer silent for half the timeout is asked for a clock sync (CK0): a live one answers (CK1),
      // whichever side invited, so a quiet but healthy session is not dropped.
      const quiet = now - s.stats.lastSeen;
      if (s.open && quiet > this.settings.timeoutMs / 2 && now - s.lastProbe > this.settings.timeoutMs / 4) {
        s.lastProbe = now;
        this.startClockSync(s);
      }
      const last = s.lastReceived;
      if (s.open && last !== undefined && s.acked !== last) {
        s.acked = last;
        this.sendControl(s, { command: 'RS', ssrc: this.ssrc, sequence: last });
      }
    }
    for (const invite of this.invites) {
      const s = invite.session;
      if (s?.open) {
        if (now - (s.stats.lastSeen ?? 0) > this.settings.syncIntervalMs / 2 && now >= invite.next) {
          this.startClockSync(s);
          invite.next = now + this.settings.syncIntervalMs;
        }
        continue;
      }
      if (now < invite.next) continue;
      this.invite(invite, now);
    }
  }

  private invite(invite: Invite, now: number): void {
    if (invite.session === undefined) {
      invite.token = randomInt(1, 0xffff_ffff);
      invite.session = new Session(
        invite.id,
        invite.token,
        invite.host,
        invite.port,
        true,
        now,
        this.settings.maxSysexBytes,
      );
      this.byId.set(invite.id, invite.session);
    }
    const s = invite.session;
    invite.attempts++;
    invite.next = now + INVITE_RETRY_MS;
    const packet = encodeSessionPacket({
      command: 'IN',
      token: invite.token,
      ssrc: this.ssrc,
      name: this.settings.name,
    });
    if (s.stats.stage === 'data') this.data?.send(packet, s.dataPort, s.address);
    else this.control?.send(packet, invite.port, invite.host);
  }

  private sendControl(s: Session, p: SessionPacket): void {
    this.control?.send(encodeSessionPacket(p), s.controlPort, s.address);
  }

  /** Ends a session: its notes are released elsewhere (the adapter), a peer we invited is invited again. */
  private drop(s: Session, state: 'closed' | 'lost', reason: string): void {
    if (this.byId.get(s.id) !== s) return;
    this.byId.delete(s.id);
    if (this.bySsrc.get(s.remoteSsrc) === s) this.bySsrc.delete(s.remoteSsrc);
    s.reset();
    const invite = this.invites.find((i) => i.session === s);
    if (invite !== undefined) {
      invite.session = undefined;
      invite.next = this.clock() + (state === 'lost' ? INVITE_RETRY_MS : this.settings.timeoutMs);
    }
    const wasOpen = s.open;
    if (wasOpen || state === 'closed') this.events.session(s.id, state, { name: s.stats.name, reason });
  }

  private uniqueId(base: string): string {
    let id = base;
    for (let n = 2; this.byId.has(id); n++) id = `${base}#${n}`;
    return id;
  }
}

function listen(socket: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function bindReason(code: string | undefined, port: number, err: unknown): string {
  if (code === 'EADDRINUSE')
    return `port ${port} or ${port + 1} is already in use by another program (stop it, or change midi.network.port)`;
  if (code === 'EACCES') return `permission denied for port ${port}: use a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return 'the address is not one of this machine: check midi.network.host';
  return (err as Error).message;
}
