/**
 * Read-only routes: health, stats, Prometheus metrics, parts and the effective config.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ApiServices } from '../services.js';

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
});

export const statusRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (
  app,
  { services },
) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Overall status and the state of every part',
        description:
          'Answers 200 while the daemon serves (ok or degraded), 503 when it is failed, starting or stopping.',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_req, reply) => {
      const health = services.health();
      const serving = health.status === 'ok' || health.status === 'degraded';
      return reply.code(serving ? 200 : 503).send(health);
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
