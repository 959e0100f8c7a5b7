/**
 * The part of rtpmidi 1.0.0 (CommonJS, ships no types) that test/helpers/rtpmidi-peer.ts drives. Fields
 * marked "internal" are the package's own state, read or replaced by that wrapper to work around its bugs
 * (listed in the wrapper's header).
 */
declare module 'rtpmidi' {
  import type { Socket } from 'node:dgram';
  import type { EventEmitter } from 'node:events';

  export interface Rinfo {
    address: string;
    port: number;
  }
  /** A parsed AppleMIDI control message (IN, OK, NO, BY, CK, RS). */
  export interface ControlMessage {
    command?: string;
    token?: number;
    ssrc?: number;
    name?: string;
    /** CK only: 0, 1 or 2. */
    count?: number;
  }
  /** One remote participant (src/Stream.js). */
  export class Stream extends EventEmitter {
    token: number | null;
    ssrc: number | null;
    name: string;
    /** Remote control and data channel, in the order the invitation exchanges completed. */
    rinfo1: Rinfo | null;
    rinfo2: Rinfo | null;
    isConnected: boolean;
    isInitiator: boolean;
    lastSentSequenceNr: number;
    latency: number | null;
    timeDifference: number | null;
    /** Internal timers. */
    connectionInterval?: NodeJS.Timeout;
    syncInterval?: NodeJS.Timeout;
    receiverFeedbackTimeout: NodeJS.Timeout | null;
    sendInvitation(rinfo: Rinfo): void;
    sendEndstream(callback?: () => void): void;
    handleSynchronization(message: ControlMessage): void;
  }
  /** A local session: control socket on `port`, data socket on `port + 1` (src/Session.js). */
  export class Session extends EventEmitter {
    constructor(
      port: number,
      localName: string,
      bonjourName: string,
      ssrc?: number,
      published?: boolean,
      ipVersion?: 4 | 6,
    );
    readonly ssrc: number;
    readonly bonjourName: string;
    streams: Stream[];
    readonly controlChannel: Socket;
    readonly messageChannel: Socket;
    /** Session time: 10 kHz ticks since the session was created. */
    now(): number;
    connect(rinfo: Rinfo): void;
    handleMessage(message: Buffer, rinfo: Rinfo): void;
    removeStream(stream: Stream): void;
  }

  /** winston 3 logger, Console transport (stdout); `silent = true` mutes it. */
  export const logger: { silent: boolean };
}

declare module 'rtpmidi/src/MidiMessage.js' {
  /** The RTP-MIDI packet codec (not exported by the package's index). */
  class MidiMessage {
    mixin(data: {
      ssrc: number;
      sequenceNumber: number;
      timestamp: number;
      commands: { deltaTime: number; data: Buffer }[];
    }): this;
    generateBuffer(): this;
    buffer: Buffer;
    payload: Buffer;
  }
  export = MidiMessage;
}

declare module 'rtpmidi/src/logger.js' {
  const logger: { silent: boolean };
  export = logger;
}
