/**
 * GET /stream (WebSocket): live bus messages as JSON text frames, one message per frame, filtered by
 * `type` (one type or a comma-separated list; default every type) and `minPriority` (0..3 or a name).
 * A client that cannot keep up (more than `maxBufferedBytes` unsent) is dropped rather than slowing
 * the bus: the bus handler only serializes and queues, it never waits for a socket.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type AnyMessage, PRIORITY_NAMES, type Priority } from '../../bus/index.js';
import type { ApiServices } from '../services.js';

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
  },
  { additionalProperties: false },
);

/** Payload bytes as arrays of numbers: JSON has no binary, and a Uint8Array would become an object. */
const replacer = (_key: string, value: unknown): unknown =>
  value instanceof Uint8Array ? Array.from(value) : value;

let nextClient = 1;

export const streamRoutes: FastifyPluginAsyncTypebox<{
  services: ApiServices;
  maxBufferedBytes: number;
}> = async (app, { services, maxBufferedBytes }) => {
  app.get(
    '/stream',
    { websocket: true, schema: { summary: 'Live bus messages over WebSocket', querystring: Query } },
    (socket, req) => {
      const { type, minPriority: min } = req.query;
      const minPriority = (typeof min === 'string' ? PRIORITY_NAMES.indexOf(min) : (min ?? 3)) as Priority;
      const listed = type === undefined ? ['*'] : [...new Set(type.split(',').filter((t) => t.length > 0))];
      // '*' already takes every type: with another type beside it, that type's messages would come twice.
      const types = listed.includes('*') ? ['*'] : listed;
      const id = nextClient++;
      const stats = services.stream;
      stats.clients++;
      let open = true;
      const offs: (() => boolean)[] = [];
      const close = (): void => {
        if (!open) return;
        open = false;
        stats.clients--;
        for (const off of offs) off();
      };
      const send = (m: AnyMessage): void => {
        if (!open) return;
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
        socket.send(JSON.stringify(m, replacer));
        stats.sent++;
      };
      for (const t of types)
        offs.push(services.bus().subscribe(t, send, { minPriority, name: `stream#${id}` }));
      socket.on('close', close);
      socket.on('error', (err) => {
        req.log.debug({ client: id, err }, 'stream client error');
        close();
      });
      req.log.debug({ client: id, types, minPriority }, 'stream client connected');
    },
  );
};
