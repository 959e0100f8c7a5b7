/**
 * The control API (issue #3): a Fastify 5 server with TypeBox schemas on every route, JSON errors
 * `{ code, message }` with our PFM_ERR_… codes, a bearer token on mutating routes (and on reads with
 * `api.tokenForReads`, issue #10; see auth.ts), a rate limit and a body limit on them, OpenAPI at
 * /docs/json with a browsable UI at /docs, the WebSocket /stream with its client caps, and the stage
 * dashboard's static files under /ui (issue #12, ui.ts).
 */
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
import { type AuthSource, carriesToken, mayReadAll, needsToken, selectProtocol } from './auth.js';
import { explainingJsonParser, type JsonParser } from './json-body.js';
import { bandRoutes } from './routes/band.js';
import { messageRoutes } from './routes/messages.js';
import { midiRoutes } from './routes/midi.js';
import { statusRoutes } from './routes/status.js';
import { streamRoutes } from './routes/stream.js';
import type { ApiServices } from './services.js';
import { uiRoutes } from './ui.js';

/** Settings of the API server (from config `api`). */
export interface ApiSettings {
  bodyLimitBytes: number;
  rateLimit: { max: number; timeWindowMs: number };
  /** Reads need the token too (see auth.ts); `services.tokenForReads()` wins when given. */
  tokenForReads: boolean;
  stream: { maxBufferedBytes: number; maxClients: number; maxClientsPerAddress: number };
}

const STREAM_DOC = {
  get: {
    summary: 'Live bus messages over WebSocket (one JSON message per text frame)',
    description:
      'With api.tokenForReads, the upgrade needs the token: `Authorization: Bearer <token>`, or from a ' +
      'browser the subprotocols `performia` and `performia.bearer.<base64url of the token>` (never in ' +
      'the URL). Over api.stream.maxClients, or api.stream.maxClientsPerAddress from one address, the ' +
      'socket is closed at once with code 1013 (try again later) and the reason.',
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
      {
        name: 'maxTypeRate',
        in: 'query' as const,
        schema: { type: 'integer' as const, minimum: 1 },
        description:
          'at most this many messages per second of each type; the rest of that second are not sent ' +
          '(a view of the traffic, like the dashboard, that costs the daemon little under a flood)',
      },
    ],
    responses: { 101: { description: 'Switching Protocols: the stream follows' } },
  },
};

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
  const auth: AuthSource = {
    token: () => services.token(),
    tokenForReads: () => services.tokenForReads?.() ?? settings.tokenForReads,
  };
  if (auth.tokenForReads() && auth.token() === '') {
    logger.warn(
      { key: 'api.tokenForReads' },
      'api.tokenForReads is on but api.token is empty: reads (and every route) stay open until a token is set',
    );
  }
  // Fastify's own JSON parser, with errors that say why a body was refused (json-body.ts).
  const secureJson = app.getDefaultJsonParser('error', 'error') as unknown as JsonParser;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, explainingJsonParser(secureJson));

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
  await app.register(websocket, { options: { maxPayload: 4096, handleProtocols: selectProtocol } });
  // Before the route is run, and for a WebSocket before the upgrade: a refused client gets a 401
  // response and never a socket. Added after @fastify/websocket, whose own onRequest hook marks an
  // upgrade request so that its socket is destroyed once the 401 is sent (else it lingers until the
  // API's close gives up on it).
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (needsToken(req, auth) && !carriesToken(req, auth.token())) throw new ApiUnauthorizedError();
  });

  const mutating = {
    bodyLimit: settings.bodyLimitBytes,
    config: { rateLimit: { max: settings.rateLimit.max, timeWindow: settings.rateLimit.timeWindowMs } },
  };
  await app.register(statusRoutes, {
    services,
    mayReadAll: (req) => mayReadAll(req, auth),
    streamLimits: settings.stream,
  });
  await app.register(messageRoutes, { services, routeOptions: mutating });
  await app.register(midiRoutes, { services, routeOptions: mutating });
  await app.register(bandRoutes, { services, routeOptions: mutating });
  await app.register(streamRoutes, { services, limits: settings.stream });
  await app.register(uiRoutes);
  return app;
}

/** The API server as built by {@link createApi}. */
export type ApiServer = Awaited<ReturnType<typeof createApi>>;
