/**
 * The baseline server of api.publish_rps, run as a process of its own
 * (`node dist/bench/api-bare-fastify.js`): the same `fastify` package, no plugins, no schemas, no
 * logger, one `POST /messages` route whose body Fastify parses as JSON, answering 202 `{ id }`. Prints
 * `{"url":"http://127.0.0.1:<port>"}` on stdout once listening; SIGTERM closes it (exit 0).
 */
import Fastify from 'fastify';

const app = Fastify();
let lastId = 0;

app.post('/messages', async (req, reply) => {
  const body = req.body as { type?: unknown } | null;
  if (typeof body?.type !== 'string') return reply.code(400).send({ message: 'type missing' });
  return reply.code(202).send({ id: ++lastId });
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
