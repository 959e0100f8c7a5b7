/**
 * The JSON body parser: Fastify's own (secure-json-parse, which refuses a `__proto__` key and a
 * `constructor.prototype` against prototype pollution), with errors that say what is wrong. Fastify
 * 5.12 answers a syntax error and a forbidden key alike with "Body is not valid JSON" and keeps the
 * cause to itself (issue #10): on that failure, and only then, the body is parsed again to tell them
 * apart. A body that parses has its `{ "$numberDouble": "Infinity" }` values turned back into numbers
 * (daemon/kernel/json-values.ts), so what the stream wrote can be sent back as it was.
 */
import { ApiBadRequestError } from '../kernel/errors.js';
import { reviveJson } from '../kernel/json-values.js';

/** A content type parser's callback (Fastify's type of it is not exported). */
type Done = (err: Error | null, body?: unknown) => void;
/** A body parser of the callback form, as `getDefaultJsonParser` returns (one of its two forms). */
export type JsonParser = (req: unknown, body: string, done: Done) => void;

/**
 * Wraps `secure`, Fastify's default JSON parser (`app.getDefaultJsonParser('error', 'error')`: both
 * kinds of forbidden key refused), so that its refusals say why. Register the result for
 * `application/json` with `parseAs: 'string'`.
 */
export function explainingJsonParser(
  secure: JsonParser,
): (req: unknown, body: string | Buffer, done: Done) => void {
  return (req, body, done) => {
    const text = String(body);
    secure(req, text, (err, value) => {
      // The values JSON has no literal for come back as the numbers they stand for (json-values.ts).
      if (err === null) done(null, reviveJson(value));
      else done(explain(text, err), undefined);
    });
  };
}

/** The reason a body the secure parser refused was refused. */
function explain(body: string, err: Error): Error {
  // An empty body has its own clear Fastify error (FST_ERR_CTP_EMPTY_JSON_BODY): keep it.
  if ((err as { code?: string }).code !== 'FST_ERR_CTP_INVALID_JSON_BODY') return err;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (syntax) {
    return new ApiBadRequestError(`body is not valid JSON: ${(syntax as Error).message}`, { cause: syntax });
  }
  // Valid JSON the secure parser still refused: a forbidden key. Name it and where it is.
  const found = forbiddenKey(parsed);
  if (found === undefined) return new ApiBadRequestError('body is not valid JSON', { cause: err });
  return new ApiBadRequestError(
    `body must not contain a ${found.key} key (prototype pollution guard), found at ${found.path}`,
    { cause: err },
  );
}

/** The first `__proto__` key, or `constructor` holding a `prototype`, in a parsed JSON value. */
export function forbiddenKey(value: unknown): { key: string; path: string } | undefined {
  // Iterative: nesting depth is bounded only by the body limit, and recursion could overflow the stack.
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        stack.push([item, `${path}[${i}]`]);
      });
      continue;
    }
    // JSON.parse makes `__proto__` an own key (it does not set the prototype), so Object.keys sees it.
    for (const key of Object.keys(v)) {
      const at = path === '' ? key : `${path}.${key}`;
      const child = (v as Record<string, unknown>)[key];
      if (key === '__proto__') return { key: '__proto__', path: at };
      if (
        key === 'constructor' &&
        child !== null &&
        typeof child === 'object' &&
        Object.hasOwn(child, 'prototype')
      )
        return { key: 'constructor.prototype', path: `${at}.prototype` };
      stack.push([child, at]);
    }
  }
  return undefined;
}
