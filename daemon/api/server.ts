/**
 * The control API (issue #3): a Fastify 5 server with TypeBox schemas on every route, JSON errors
 * `{ code, message }` with our PFM_ERR_… codes, a bearer token on mutating routes, a rate limit and a
 * body limit on them, OpenAPI at /docs/json with a browsable UI at /docs, and the WebSocket /stream.
 */
import { timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import {
  ApiBadRequestError,
  ApiInternalError,
  ApiNotFoundError,
  ApiRateLimitedError,
  ApiUnauthorizedError,
} from '../kernel/errors.js';
import { bandRoutes } from './routes/band.js';
import { messageRoutes } from './routes/messages.js';
import { midiRoutes } from './routes/midi.js';
import { statusRoutes } from './routes/status.js';
import { streamRoutes } from './routes/stream.js';
import type { ApiServices } from './services.js';

/** Settings of the API server (from config `api`). */
export interface ApiSettings {
  bodyLimitBytes: number;
  rateLimit: { max: number; timeWindowMs: number };
  stream: { maxBufferedBytes: number };
}

const STREAM_DOC = {
  get: {
    summary: 'Live bus messages over WebSocket (one JSON message per text frame)',
    parameters: [
      {
        name: 'type',
        in: 'query' as const,
        schema: { type: 'string' as const },
        description: 'a type, or a comma-separated list',
      },
      {
        name: 'minPriority',
        in: 'query' as const,
        schema: { type: 'string' as const },
        description: '0..3 or CRITICAL, HIGH, NORMAL, LOW',
      },
    ],
    responses: { 101: { description: 'Switching Protocols: the stream follows' } },
  },
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Builds the API (not yet listening). */
export async function createApi(services: ApiServices, settings: ApiSettings, logger: Logger) {
  const app = Fastify({
    loggerInstance: logger,
    // One log line per request would be per-message logging at info: requests go to debug instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.bodyLimitBytes,
    // Unknown body properties are refused (400), not silently stripped (Fastify's default).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onResponse', async (req, reply) => {
    req.log.debug(
      { method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const token = services.token();
    if (token !== '' && MUTATING.has(req.method) && !tokenMatches(req.headers.authorization, token)) {
      throw new ApiUnauthorizedError();
    }
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    if (error.validation !== undefined) {
      const err = new ApiBadRequestError(error.message);
      return reply.code(400).send({ code: err.code, message: err.message });
    }
    const status = error.statusCode ?? 500;
    const code = typeof error.code === 'string' && error.code.startsWith('PFM_ERR_') ? error.code : undefined;
    if (status >= 500) req.log.error({ err: error }, 'request failed');
    if (code !== undefined) return reply.code(status).send({ code, message: error.message });
    // Fastify's own 4xx (bad JSON, body too large, wrong content type) keep their status.
    if (status < 500) {
      const err = new ApiBadRequestError(error.message);
      return reply.code(status).send({ code: err.code, message: err.message });
    }
    const err = new ApiInternalError();
    return reply.code(500).send({ code: err.code, message: err.message });
  });
  app.setNotFoundHandler((req, reply) => {
    const err = new ApiNotFoundError(`${req.method} ${req.url}`);
    return reply.code(404).send({ code: err.code, message: err.message });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Performia control API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    // @fastify/websocket hides WebSocket routes from the document: describe /stream by hand.
    transformObject: (doc) => {
      const openapi = 'openapiObject' in doc ? doc.openapiObject : {};
      return { ...openapi, paths: { ...openapi.paths, '/stream': STREAM_DOC } };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, {
    global: false,
    // A request injected without a socket has no ip (CONVENTIONS.md: rate-limit vs injectWS).
    keyGenerator: (req) => req.ip ?? 'local',
    errorResponseBuilder: (_req, ctx) => new ApiRateLimitedError(ctx.max, ctx.after),
  });
  await app.register(websocket, { options: { maxPayload: 4096 } });

  const mutating = {
    bodyLimit: settings.bodyLimitBytes,
    config: { rateLimit: { max: settings.rateLimit.max, timeWindow: settings.rateLimit.timeWindowMs } },
  };
  await app.register(statusRoutes, { services });
  await app.register(messageRoutes, { services, routeOptions: mutating });
  await app.register(midiRoutes, { services, routeOptions: mutating });
  await app.register(bandRoutes, { services, routeOptions: mutating });
  await app.register(streamRoutes, { services, maxBufferedBytes: settings.stream.maxBufferedBytes });
  return app;
}

/** The API server as built by {@link createApi}. */
export type ApiServer = Awaited<ReturnType<typeof createApi>>;
