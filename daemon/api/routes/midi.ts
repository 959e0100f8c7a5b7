/**
 * MIDI routes (issue #7): `GET /midi/ports` lists what the OS offers and the network sessions (or why
 * there are none), read from the MIDI part's health like any client would; `POST /midi/panic` publishes
 * a CRITICAL `panic` message, which every output that holds notes answers with their note offs. The
 * API never reaches into the adapter: it reads health and publishes on the bus.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteShorthandOptions } from 'fastify';
import Type from 'typebox';
import { Priority } from '../../bus/index.js';
import { ApiNotFoundError } from '../../kernel/errors.js';
import type { ApiServices } from '../services.js';

const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

const Ports = Type.Object(
  {
    available: Type.Boolean({ description: 'false when the OS MIDI system cannot be used (see reason)' }),
    reason: Type.Optional(Type.String()),
    inputs: Type.Array(Type.String(), { description: 'OS input port names' }),
    outputs: Type.Array(Type.String(), { description: 'OS output port names' }),
    configured: Type.Array(Type.Object({}, { additionalProperties: true }), {
      description: 'the configured and virtual ports with their state',
    }),
    network: Type.Object(
      {},
      { additionalProperties: true, description: 'the session listener and sessions' },
    ),
  },
  { additionalProperties: false },
);

export const midiRoutes: FastifyPluginAsyncTypebox<{
  services: ApiServices;
  routeOptions: RouteShorthandOptions;
}> = async (app, { services, routeOptions }) => {
  const details = () => {
    const part = services.parts().find((p) => p.name === 'midi');
    if (part === undefined)
      throw new ApiNotFoundError('the MIDI adapter is not running (midi.enabled is false)');
    return part.details ?? {};
  };

  app.get(
    '/midi/ports',
    {
      schema: {
        summary: 'MIDI ports the OS offers, the configured ones, and the network sessions',
        response: { 200: Ports, 404: ErrorBody },
      },
    },
    async () => {
      const d = details() as {
        portsAvailable?: boolean;
        portsReason?: string;
        osPorts?: { inputs: string[]; outputs: string[] };
        ports?: Record<string, unknown>[];
        network?: Record<string, unknown>;
      };
      return {
        available: d.portsAvailable === true,
        ...(d.portsReason === undefined ? {} : { reason: d.portsReason }),
        inputs: d.osPorts?.inputs ?? [],
        outputs: d.osPorts?.outputs ?? [],
        configured: d.ports ?? [],
        network: d.network ?? {},
      };
    },
  );

  app.post(
    '/midi/panic',
    {
      ...routeOptions,
      schema: {
        summary: 'Silence every MIDI output: note offs for held notes, All Notes Off (publishes `panic`)',
        security: [{ bearer: [] }],
        response: {
          202: Type.Object({ id: Type.Integer() }),
          401: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (_req, reply) => {
      const m = services.bus().publish({
        type: 'panic',
        from: 'api',
        payload: { reason: 'POST /midi/panic' },
        priority: Priority.CRITICAL,
      });
      return reply.code(202).send({ id: m.id });
    },
  );
};
