/**
 * The helper processes of the osc group, one role each, forked with IPC by osc-procs.ts:
 * `node dist/bench/osc-child.js relay|sender|pinger`.
 *
 * - relay: the raw baseline. One node:dgram socket on 127.0.0.1 port 0 with a 4 MiB receive buffer that
 *   forwards every datagram as is to the port it was told (no decode, no copy).
 * - sender: offers pre-encoded `/relay ,i seq` datagrams at a rate on an absolute schedule (a timer
 *   re-armed every ms sends what is due by now, so timer lateness does not lower the offered rate).
 * - pinger: sends one `<address> ,i seq` every `everyMs` and records each send time as
 *   `performance.timeOrigin + performance.now()` (the receiver reads the same clock); its clock echo
 *   socket answers each datagram with that time, so the receiver can check the two clocks agree.
 *
 * Requests are `{ id, cmd, ... }`; every reply is `{ id, ok: true, result }` or `{ id, ok: false, error }`.
 * A child exits when its parent goes away (IPC disconnect) or on SIGTERM.
 */
import { createSocket, type Socket } from 'node:dgram';
import { encodeSeqPackets } from './osc-packets.js';

const HOST = '127.0.0.1';
/** Requested SO_RCVBUF of the raw relay (the daemon's `osc.recvBufferBytes` in the bench config). */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

interface Request {
  id: number;
  cmd: string;
  [key: string]: unknown;
}

type Handler = (req: Request) => Promise<unknown>;

function bind(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

function connect(socket: Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** The raw relay: `start { forwardPort }` → `{ port, recvBufferBytes }`. */
function relay(): Record<string, Handler> {
  return {
    async start(req) {
      const forwardPort = req.forwardPort as number;
      const s = createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER_BYTES });
      s.on('message', (msg) => {
        s.send(msg, forwardPort, HOST);
      });
      const port = await bind(s);
      s.on('error', () => undefined);
      return { port, recvBufferBytes: s.getRecvBufferSize() };
    },
  };
}

/** Connected sockets by destination port: a connected send skips the per-packet address lookup. */
async function senderSocket(sockets: Map<number, Socket>, port: number): Promise<Socket> {
  let socket = sockets.get(port);
  if (socket === undefined) {
    socket = createSocket('udp4');
    await bind(socket);
    await connect(socket, port);
    socket.on('error', () => undefined);
    sockets.set(port, socket);
  }
  return socket;
}

/**
 * The load sender: `step { port, rate, count, base }` sends `count` packets (seq base…) at `rate`
 * packets/s and answers `{ sent, elapsedMs, rate }` (the rate achieved) after the last send.
 */
function sender(): Record<string, Handler> {
  const sockets = new Map<number, Socket>();
  return {
    async step(req) {
      const { port, rate, count, base } = req as unknown as {
        port: number;
        rate: number;
        count: number;
        base: number;
      };
      const socket = await senderSocket(sockets, port);
      const packets = encodeSeqPackets('/relay', base, count);
      const perMs = rate / 1000;
      return new Promise((resolve) => {
        let sent = 0;
        const start = performance.now();
        const tick = (): void => {
          const due = Math.min(count, Math.floor((performance.now() - start) * perMs) + 1);
          while (sent < due) socket.send(packets[sent++]!);
          if (sent < count) {
            setTimeout(tick, 1);
            return;
          }
          const elapsedMs = performance.now() - start;
          resolve({ sent, elapsedMs, rate: count > 1 ? ((count - 1) * 1000) / elapsedMs : rate });
        };
        tick();
      });
    },
  };
}

/**
 * The ping sender: `ping { port, address, count, base, everyMs }` sends seq base… one every `everyMs`
 * on an absolute schedule and answers `{ sentAt }`: per ping, `performance.timeOrigin +
 * performance.now()` read just before its send (ms).
 */
function pinger(): Record<string, Handler> {
  const sockets = new Map<number, Socket>();
  let echo: Socket | undefined;
  return {
    /** Opens a clock echo socket: each datagram is answered with this process's wall time (float64, ms). */
    async clock() {
      if (echo === undefined) {
        const s = createSocket('udp4');
        echo = s;
        const reply = Buffer.alloc(8);
        s.on('message', (_msg, rinfo) => {
          reply.writeDoubleBE(performance.timeOrigin + performance.now());
          s.send(reply, rinfo.port, rinfo.address);
        });
        await bind(s);
        s.on('error', () => undefined);
      }
      return { port: echo.address().port };
    },
    async ping(req) {
      const { port, address, count, base, everyMs } = req as unknown as {
        port: number;
        address: string;
        count: number;
        base: number;
        everyMs: number;
      };
      const socket = await senderSocket(sockets, port);
      const packets = encodeSeqPackets(address, base, count);
      const sentAt = new Array<number>(count).fill(0);
      return new Promise((resolve) => {
        let i = 0;
        const start = performance.now();
        const tick = (): void => {
          const now = performance.now();
          while (i < count && now >= start + i * everyMs) {
            sentAt[i] = performance.timeOrigin + performance.now();
            socket.send(packets[i++]!);
          }
          if (i < count) setTimeout(tick, Math.max(0, start + i * everyMs - performance.now()));
          else resolve({ sentAt });
        };
        tick();
      });
    },
  };
}

const roles: Record<string, () => Record<string, Handler>> = { relay, sender, pinger };

function main(): void {
  const role = process.argv[2] ?? '';
  const make = roles[role];
  if (make === undefined || process.send === undefined) {
    console.error(`usage: forked as osc-child.js ${Object.keys(roles).join('|')}`);
    process.exit(2);
  }
  const handlers = make();
  const reply = (message: unknown): void => {
    process.send?.(message);
  };
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd];
    if (handler === undefined) {
      reply({ id: message.id, ok: false, error: `${role}: unknown command "${message.cmd}"` });
      return;
    }
    handler(message).then(
      (result) => reply({ id: message.id, ok: true, result }),
      (err: unknown) =>
        reply({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

main();
