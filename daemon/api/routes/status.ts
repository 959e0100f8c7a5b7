/**
 * Read-only routes: health, stats, Prometheus metrics, parts and the effective config.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { ApiServices } from '../services.js';
import type { StreamLimits } from './stream.js';

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });

const PartSchema = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union([Type.Literal('adapter'), Type.Literal('agent')]),
    state: Type.String(),
    reason: Type.Optional(Type.String()),
    details: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const HealthSchema = Type.Object({
  status: Type.String({
    description: 'ok, degraded (a part is degraded or failed), failed, starting or stopping',
  }),
  ready: Type.Boolean(),
  uptimeS: Type.Number(),
  bus: Type.Object({ state: Type.String() }),
  scheduler: Type.Object(
    {
      pending: Type.Integer(),
      ran: Type.Integer(),
      maxLateMs: Type.Number({ description: 'Latest a timed event ran after its time, since start' }),
      recentMaxLateMs: Type.Number({
        description: 'Latest a timed event ran after its time over the last 10–20 s',
      }),
      stalls: Type.Integer({
        description: 'Timer turns in which the machine kept the process from running (not our code)',
      }),
      maxStallMs: Type.Number(),
      realtime: Type.Object(
        {
          policy: Type.String({ description: 'fifo, other, … (unknown where /proc is missing)' }),
          priority: Type.Integer(),
          requested: Type.Integer({ description: 'daemon.realtimePriority (0: not asked)' }),
          problem: Type.Optional(Type.String({ description: 'Why the requested priority is not in force' })),
        },
        { description: "The event loop's scheduling (config daemon.realtimePriority)" },
      ),
    },
    { description: 'The scheduler of timed events (held OSC bundles, messages with a future `at`)' },
  ),
  parts: Type.Array(PartSchema),
  stream: Type.Object(
    {
      clients: Type.Integer({ description: 'Connected clients' }),
      maxClients: Type.Integer({ description: 'api.stream.maxClients' }),
      maxClientsPerAddress: Type.Integer({ description: 'api.stream.maxClientsPerAddress' }),
      dropped: Type.Integer({ description: 'Clients dropped for being too slow, since start' }),
      refused: Type.Object(
        { maxClients: Type.Integer(), maxClientsPerAddress: Type.Integer() },
        { description: 'Clients refused at each cap (close code 1013), since start' },
      ),
    },
    { description: 'The WebSocket /stream' },
  ),
});

/** /health without the token when `api.tokenForReads` is on: the liveness, not the setup. */
const HealthBriefSchema = Type.Object(
  { status: HealthSchema.properties.status, ready: Type.Boolean() },
  { description: 'Without the token when api.tokenForReads is on: the status only' },
);
const HealthResponse = Type.Union([HealthSchema, HealthBriefSchema]);

export const statusRoutes: FastifyPluginAsyncTypebox<{
  services: ApiServices;
  /** False when the request may see /health's status only (auth.ts). */
  mayReadAll: (req: FastifyRequest) => boolean;
  streamLimits: Pick<StreamLimits, 'maxClients' | 'maxClientsPerAddress'>;
}> = async (app, { services, mayReadAll, streamLimits }) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Overall status and the state of every part',
        description:
          'Answers 200 while the daemon serves (ok or degraded), 503 when it is failed, starting or stopping. ' +
          'With api.tokenForReads on, a request without the token gets `{ status, ready }` only.',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (req, reply) => {
      const health = services.health();
      const code = health.status === 'ok' || health.status === 'degraded' ? 200 : 503;
      if (!mayReadAll(req)) return reply.code(code).send({ status: health.status, ready: health.ready });
      const { clients, dropped, refused } = services.stream;
      const stream = {
        clients,
        ...streamLimits,
        dropped,
        refused: refused ?? { maxClients: 0, maxClientsPerAddress: 0 },
      };
      return reply.code(code).send({ ...health, stream });
    },
  );

  app.get(
    '/stats',
    { schema: { summary: 'Bus statistics', response: { 200: Loose('MessageBus.getStats()') } } },
    async () => services.bus().getStats(),
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text exposition format)' } },
    async (_req, reply) => {
      const text = await services.metrics.metrics();
      return reply.type(services.metrics.contentType).send(text);
    },
  );

  app.get(
    '/agents',
    {
      schema: {
        summary: 'Agents, their state and their bus subscriptions',
        response: { 200: Type.Array(PartSchema) },
      },
    },
    async () => {
      const subs = services.bus().getStats().subscribers;
      return services
        .parts()
        .filter((p) => p.kind === 'agent')
        .map((p) => ({ ...p, subscriptions: subs.filter((s) => s.agent === p.name) }));
    },
  );

  app.get(
    '/adapters',
    { schema: { summary: 'Adapters and their state', response: { 200: Type.Array(PartSchema) } } },
    async () => services.parts().filter((p) => p.kind === 'adapter'),
  );

  app.get(
    '/config',
    { schema: { summary: 'The effective config, token redacted', response: { 200: Loose('config') } } },
    async () => services.config(),
  );
};
