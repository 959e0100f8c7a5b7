/**
 * The band's routes (issue #8): start and stop an agent, set the tempo, the chord progression and the
 * transport, read the last analytics report. Tempo, progression and transport are bus messages like any
 * other (`tempo_change`, `progression_change`, `transport`), so OSC, MIDI and the API steer the band the
 * same way; chord symbols are checked here first, so a typo gets a 400 that names it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteShorthandOptions } from 'fastify';
import Type from 'typebox';
import { parseChord } from '../../../agents/music/theory.js';
import { Priority } from '../../bus/index.js';
import { ApiNotFoundError } from '../../kernel/errors.js';
import type { ApiServices } from '../services.js';

const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
const Published = Type.Object({ id: Type.Integer() });
const PartBody = Type.Object(
  {},
  { additionalProperties: true, description: 'the agent, as /agents shows it' },
);

export const bandRoutes: FastifyPluginAsyncTypebox<{
  services: ApiServices;
  routeOptions: RouteShorthandOptions;
}> = async (app, { services, routeOptions }) => {
  const publish = (type: string, payload: unknown, priority: Priority): { id: number } => ({
    id: services.bus().publish({ type, from: 'api', payload, priority }).id,
  });

  for (const action of ['start', 'stop'] as const) {
    app.post(
      `/agents/:id/${action}`,
      {
        ...routeOptions,
        schema: {
          summary: `${action === 'start' ? 'Start' : 'Stop'} one agent`,
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 200: PartBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody },
        },
      },
      async (req) => {
        const part = await services.controlAgent(req.params.id, action);
        if (part === undefined) throw new ApiNotFoundError(`agent "${req.params.id}"`);
        return part;
      },
    );
  }

  app.get(
    '/agents/analytics',
    {
      schema: {
        summary: "The analytics agent's last report (rates per type, publish → handler latency)",
        response: { 200: Type.Object({}, { additionalProperties: true }), 404: ErrorBody },
      },
    },
    async () => {
      const part = services.parts().find((p) => p.kind === 'agent' && p.name === 'analytics');
      if (part === undefined)
        throw new ApiNotFoundError('the analytics agent is not running (agents.analytics.enabled)');
      return (part.details?.lastReport as Record<string, unknown> | undefined) ?? {};
    },
  );

  app.put(
    '/tempo',
    {
      ...routeOptions,
      schema: {
        summary:
          'Set the tempo: publishes tempo_change (the conductor, the MIDI clock out and OSC outputs follow)',
        security: [{ bearer: [] }],
        body: Type.Object(
          { bpm: Type.Number({ minimum: 20, maximum: 400 }) },
          { additionalProperties: false },
        ),
        response: { 202: Published, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => reply.code(202).send(publish('tempo_change', { bpm: req.body.bpm }, Priority.HIGH)),
  );

  app.put(
    '/progression',
    {
      ...routeOptions,
      schema: {
        summary: 'Set the chord progression (one chord symbol per bar, from the next bar on)',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            chords: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 256 }),
          },
          { additionalProperties: false },
        ),
        response: { 202: Published, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      // A symbol that cannot be read: PFM_ERR_AGENT_CHORD (400) naming it, before anything is published.
      for (const symbol of req.body.chords) parseChord(symbol);
      return reply.code(202).send(publish('progression_change', { chords: req.body.chords }, Priority.HIGH));
    },
  );

  app.post(
    '/transport',
    {
      ...routeOptions,
      schema: {
        summary: 'Start, stop or continue the band (publishes transport)',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            state: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('continue')]),
            position: Type.Optional(Type.Number({ minimum: 0, description: 'beats from the song start' })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Published, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) =>
      reply
        .code(202)
        .send(
          publish(
            'transport',
            { state: req.body.state, position: req.body.position ?? 0 },
            Priority.CRITICAL,
          ),
        ),
  );
};
