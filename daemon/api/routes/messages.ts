/**
 * POST /messages: publish one message on the bus. Catalog payloads are checked against their schema
 * (daemon/kernel/catalog-schemas.ts); any other type is published as given (the wire escape hatch).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteShorthandOptions } from 'fastify';
import Type from 'typebox';
import { PRIORITY_NAMES, type Priority } from '../../bus/index.js';
import { checkPayload } from '../../kernel/catalog-schemas.js';
import { ApiBadRequestError } from '../../kernel/errors.js';
import type { ApiServices } from '../services.js';

const PriorityValue = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: 3 }),
    Type.Literal('CRITICAL'),
    Type.Literal('HIGH'),
    Type.Literal('NORMAL'),
    Type.Literal('LOW'),
  ],
  { description: "0 (CRITICAL) … 3 (LOW), or the name; default: the type's usual priority" },
);

const Body = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:/-]+$' }),
    payload: Type.Optional(Type.Unknown()),
    priority: Type.Optional(PriorityValue),
    to: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'an agent id, or broadcast' }),
    ),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'default: api' })),
    at: Type.Optional(Type.Number({ description: 'target time, ms on the bus clock' })),
  },
  { additionalProperties: false },
);

const Published = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  priority: Type.Integer(),
  timestamp: Type.Number(),
});

const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

export const messageRoutes: FastifyPluginAsyncTypebox<{
  services: ApiServices;
  routeOptions: RouteShorthandOptions;
}> = async (app, { services, routeOptions }) => {
  app.post(
    '/messages',
    {
      ...routeOptions,
      schema: {
        summary: 'Publish one message on the bus',
        security: [{ bearer: [] }],
        body: Body,
        response: { 202: Published, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const { type, payload = null, to, from = 'api', at } = req.body;
      const priority =
        typeof req.body.priority === 'string'
          ? (PRIORITY_NAMES.indexOf(req.body.priority) as Priority)
          : (req.body.priority as Priority | undefined);
      const problem = checkPayload(type, payload);
      if (problem !== undefined) throw new ApiBadRequestError(problem);
      // Bus errors (full, stopped, invalid) carry their code and HTTP status to the error handler.
      const m = services.bus().publish({ type, payload, priority, to, from, at });
      return reply.code(202).send({ id: m.id, type: m.type, priority: m.priority, timestamp: m.timestamp });
    },
  );
};
