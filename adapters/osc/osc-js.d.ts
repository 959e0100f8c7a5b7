/**
 * The part of osc.js 2.4.5 (`osc` on npm, CommonJS, ships no types) that this project uses: its codec, as
 * the independent reference in tests, and its UDP port. See CONVENTIONS.md, "Known traps", before using it.
 */
declare module 'osc' {
  import type { Socket } from 'node:dgram';
  import type { EventEmitter } from 'node:events';

  namespace osc {
    /** An argument with metadata (`{ metadata: true }`); arrays are plain arrays of arguments. */
    interface MetaArgument {
      type: string;
      value?: unknown;
    }
    type Argument = MetaArgument | Argument[];
    /** A time tag: `raw` is [NTP seconds, fraction]; `native` Unix-epoch ms (reading: Date.now() for "immediately"). */
    interface TimeTag {
      raw?: [number, number];
      native?: number;
    }
    interface Message {
      address: string;
      args: Argument[];
    }
    interface Bundle {
      timeTag: TimeTag;
      packets: Packet[];
    }
    type Packet = Message | Bundle;
    interface Options {
      metadata?: boolean;
      unpackSingleArgs?: boolean;
    }
    /** Offset state threaded through the readers: `idx` is the next byte to read. */
    interface OffsetState {
      idx: number;
    }
    interface UDPPortOptions {
      localAddress?: string;
      localPort?: number;
      remoteAddress?: string;
      remotePort?: number;
      broadcast?: boolean;
      multicastTTL?: number;
      multicastMembership?: string | string[];
      socket?: Socket;
      metadata?: boolean;
      unpackSingleArgs?: boolean;
    }
    /** Info about a received datagram (the `rinfo` of `node:dgram`). */
    interface PacketInfo {
      address: string;
      family: string;
      port: number;
      size: number;
    }
    /**
     * A UDP port. `open()` returns before the bind: wait for 'ready' or 'error'. Without an 'error'
     * listener a bad datagram kills the process. Events: 'ready', 'open', 'close', 'error',
     * 'raw' (data, info), 'osc' (packet, info), 'message' (message, timeTag, info), 'bundle', 'data'.
     */
    class UDPPort extends EventEmitter {
      constructor(options: UDPPortOptions);
      options: UDPPortOptions;
      socket?: Socket;
      open(): void;
      close(): void;
      send(packet: Packet, address?: string, port?: number): void;
      sendRaw(encoded: Uint8Array, address?: string, port?: number): void;
    }
    /** Reads a message or bundle; throws a plain Error on malformed input (and has the traps above). */
    function readPacket(
      data: Uint8Array,
      options?: Options,
      offsetState?: OffsetState,
      length?: number,
    ): Packet;
    function readMessage(data: Uint8Array, options?: Options, offsetState?: OffsetState): Message;
    /** Writes a message (`address` present) or a bundle; an invalid int becomes 0 silently. */
    function writePacket(packet: Packet, options?: Options): Uint8Array;
    function writeMessage(message: Message, options?: Options): Uint8Array;
    function writeBundle(bundle: Bundle, options?: Options): Uint8Array;
    function timeTag(secondsFromNow?: number, now?: number): TimeTag;
    function ntpToJSTime(seconds1900: number, fraction: number): number;
    function jsToNTPTime(ms: number): [number, number];
  }

  export = osc;
}
