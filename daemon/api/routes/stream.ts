/**
 * GET /stream (WebSocket): live bus messages as JSON text frames, one message per frame, filtered by
 * `type` (one type or a comma-separated list; default every type) and `minPriority` (0..3 or a name).
 * A client that cannot keep up (more than `maxBufferedBytes` unsent) is dropped rather than slowing
 * the bus: the bus handler only serializes and queues, it never waits for a socket.
 *
 * `maxTypeRate` (issue #12) caps what one client is sent at that many messages per second of each type:
 * the rest of that type's messages in that second are not sent to it. A person's view of the traffic
 * (the dashboard) needs a sample of a flood, not all of it, and should cost the daemon little whatever
 * the bus carries: a message over the cap costs one Map lookup, and no serialization or socket write.
 * The bus's own counts (/stats) still say how much there was.
 *
 * Clients are capped in total and per source address (issue #10: 5,000 clients without a token were
 * all accepted, and each holds an open file the OSC and API listeners need). One over a cap completes
 * the handshake and is closed at once with close code 1013 and the reason, because a browser's
 * WebSocket shows nothing of a refused handshake's HTTP status, while it does show a close code and
 * reason.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { WebSocket } from 'ws';
import { type AnyMessage, PRIORITY_NAMES, type Priority, RateLimitedLog } from '../../bus/index.js';
import { ApiStreamFullError } from '../../kernel/errors.js';
import { toJson } from '../../kernel/json-values.js';
import type { ApiServices, StreamRefusals } from '../services.js';

const Query = Type.Object(
  {
    type: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'a type, or a comma-separated list' }),
    ),
    minPriority: Type.Optional(
      Type.Union([
        Type.Integer({ minimum: 0, maximum: 3 }),
        Type.Literal('CRITICAL'),
        Type.Literal('HIGH'),
        Type.Literal('NORMAL'),
        Type.Literal('LOW'),
      ]),
    ),
    maxTypeRate: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: 'at most this many messages per second of each type (the rest are not sent)',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * RFC 6455 §7.4.1 offers 1008 (policy violation) for a client that broke a rule, which it should not
 * try again. The close code registry that RFC 6455 §11.7 sets up at IANA adds 1013, Try Again Later:
 * the server refuses for a temporary condition. A cap is one (a client gets in as soon as another
 * leaves) and the refused client did nothing wrong, so a dashboard that retries with a back-off on
 * 1013 does the right thing.
 */
export const TRY_AGAIN_LATER = 1013;
/** A close frame's reason holds at most 123 bytes (RFC 6455 §5.5: control payload 125, 2 for the code). */
const MAX_REASON_BYTES = 123;
/** A refused client that does not answer the close frame is cut after this, so it holds no file for long. */
const REFUSED_LINGER_MS = 1_000;
/** At most one refusal log line per cap (and address) per this interval; the rest are counted. */
const REFUSAL_LOG_MS = 10_000;

/** The caps of {@link streamRoutes} (config `api.stream`). */
export interface StreamLimits {
  maxBufferedBytes: number;
  maxClients: number;
  maxClientsPerAddress: number;
}

/** `reason` cut to what a close frame can carry (ws throws on a longer one). */
export function closeReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > MAX_REASON_BYTES) out = out.slice(0, -1);
  return out;
}

/** Types a `maxTypeRate` client keeps a window for; messages of further types share one. */
const MAX_TYPE_WINDOWS = 1_024;

/**
 * The `maxTypeRate` check: true when `m` is within its type's cap for the current second. Timed by the
 * message's own timestamp (bus clock), so it reads no clock.
 */
function admitter(limit: number): (m: AnyMessage) => boolean {
  const windows = new Map<string, { start: number; sent: number }>();
  return (m) => {
    let w = windows.get(m.type);
    if (w === undefined) {
      const key = windows.size < MAX_TYPE_WINDOWS ? m.type : '';
      w = windows.get(key) ?? { start: m.timestamp, sent: 0 };
      windows.set(key, w);
    }
    if (m.timestamp - w.start >= 1_000) {
      w.start = m.timestamp;
      w.sent = 0;
    }
    return ++w.sent <= limit;
  };
}

/** The client's address, an IPv4-mapped IPv6 one as IPv4, so a dual-stack bind counts one client once. */
const sourceOf = (ip: string): string => (ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip);

let nextClient = 1;

export const streamRoutes: FastifyPluginAsyncTypebox<{
  services: ApiServices;
  limits: StreamLimits;
}> = async (app, { services, limits }) => {
  const { maxBufferedBytes, maxClients, maxClientsPerAddress } = limits;
  // This server's clients (the daemon's stats also count an old server's, during an API restart).
  const byAddress = new Map<string, number>();
  let open = 0;
  const refusalLog = new RateLimitedLog(app.log, REFUSAL_LOG_MS, Date.now);
  // The daemon's stats outlive this server (an API restart builds a new one): create the counts once.
  services.stream.refused ??= { maxClients: 0, maxClientsPerAddress: 0 };
  const refused = services.stream.refused;

  /** The cap a new client from `address` is over, if any. */
  const overCap = (address: string): { key: keyof StreamRefusals; limit: number } | undefined => {
    if (open >= maxClients) return { key: 'maxClients', limit: maxClients };
    if ((byAddress.get(address) ?? 0) >= maxClientsPerAddress)
      return { key: 'maxClientsPerAddress', limit: maxClientsPerAddress };
    return undefined;
  };

  const refuse = (socket: WebSocket, address: string, cap: { key: keyof StreamRefusals; limit: number }) => {
    refused[cap.key]++;
    const scope = cap.key === 'maxClients' ? '' : ' from one address';
    const err = new ApiStreamFullError(scope, cap.limit, cap.key);
    // Keyed by address only for the per-address cap: a flood from many addresses at the total cap
    // still makes one line per interval.
    refusalLog.warn(
      cap.key === 'maxClients' ? cap.key : `${cap.key} ${address}`,
      { code: err.code, address, limit: cap.limit, refused: refused[cap.key] },
      `stream client refused: ${err.message}`,
    );
    socket.close(TRY_AGAIN_LATER, closeReason(`${err.code}: ${err.message}`));
    const cut = setTimeout(() => socket.terminate(), REFUSED_LINGER_MS);
    socket.once('close', () => clearTimeout(cut));
  };

  app.get(
    '/stream',
    { websocket: true, schema: { summary: 'Live bus messages over WebSocket', querystring: Query } },
    (socket, req) => {
      // A client injected without a socket (injectWS) has no ip (CONVENTIONS.md, known traps).
      const address = sourceOf((req.ip as string | undefined) ?? 'local');
      const cap = overCap(address);
      if (cap !== undefined) {
        refuse(socket, address, cap);
        return;
      }
      const { type, minPriority: min, maxTypeRate } = req.query;
      const admit = maxTypeRate === undefined ? undefined : admitter(maxTypeRate);
      const minPriority = (typeof min === 'string' ? PRIORITY_NAMES.indexOf(min) : (min ?? 3)) as Priority;
      const listed = type === undefined ? ['*'] : [...new Set(type.split(',').filter((t) => t.length > 0))];
      // '*' already takes every type: with another type beside it, that type's messages would come twice.
      const types = listed.includes('*') ? ['*'] : listed;
      const id = nextClient++;
      const stats = services.stream;
      stats.clients++;
      open++;
      byAddress.set(address, (byAddress.get(address) ?? 0) + 1);
      let connected = true;
      const offs: (() => boolean)[] = [];
      const close = (): void => {
        if (!connected) return;
        connected = false;
        stats.clients--;
        open--;
        const left = (byAddress.get(address) ?? 1) - 1;
        if (left === 0) byAddress.delete(address);
        else byAddress.set(address, left);
        for (const off of offs) off();
      };
      const send = (m: AnyMessage): void => {
        if (!connected) return;
        if (admit !== undefined && !admit(m)) return;
        if (socket.bufferedAmount > maxBufferedBytes) {
          stats.dropped++;
          req.log.warn(
            { client: id, bufferedBytes: socket.bufferedAmount },
            'stream client too slow: dropped',
          );
          close();
          socket.terminate();
          return;
        }
        socket.send(toJson(m));
        stats.sent++;
      };
      for (const t of types)
        offs.push(services.bus().subscribe(t, send, { minPriority, name: `stream#${id}` }));
      socket.on('close', close);
      socket.on('error', (err) => {
        req.log.debug({ client: id, err }, 'stream client error');
        close();
      });
      req.log.debug({ client: id, address, types, minPriority }, 'stream client connected');
    },
  );
};
