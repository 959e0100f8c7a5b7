/**
 * The stage dashboard (issue #12) under `/ui/`, on the API's own port: the static files `npm run build`
 * writes to dist/ui/ (ui/build.mjs), served by @fastify/static, pre-compressed where the browser takes
 * it. The page is a client like any other: it reads the REST routes and /stream with the token it is
 * given; these files hold nothing of this setup, so they are open like /docs (auth.ts).
 *
 * Not built (a checkout without `npm run build`): `/ui` answers 404 saying so, and nothing else changes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { ApiNotFoundError } from '../kernel/errors.js';

/** Where the dashboard is served, as a path prefix of the API's URL. */
export const UI_PREFIX = '/ui/';

/**
 * What the page may do, said to the browser: its own scripts and styles only (nothing from a CDN,
 * nothing inline), requests to this origin only (the REST routes and /stream), never framed.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** True when `dir` holds a built dashboard. */
const isBuilt = (dir: string): boolean =>
  existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js'));

/**
 * The folder of the built dashboard, or undefined when it is not built. From dist/daemon/api/ui.js
 * that is dist/ui/; run from the sources (tests), ../../ui is the page's source folder, which holds no
 * app.js, and the build in dist/ui/ is the one.
 */
export function dashboardRoot(): string | undefined {
  const beside = fileURLToPath(new URL('../../ui/', import.meta.url));
  const built = fileURLToPath(new URL('../../dist/ui/', import.meta.url));
  return [beside, built].find(isBuilt);
}

/** The dashboard's address for the API at `apiUrl`, with a word when it is not built. */
export function dashboardAddress(apiUrl: string, built = dashboardRoot() !== undefined): string {
  return `${apiUrl}${UI_PREFIX}${built ? '' : ' (not built: run npm run build)'}`;
}

/** Serves the dashboard from `root` (default: {@link dashboardRoot}). */
export const uiRoutes: FastifyPluginAsync<{ root?: string | undefined }> = async (app, opts) => {
  const root = 'root' in opts ? opts.root : dashboardRoot();
  // On every answer under /ui (this plugin's routes only: Fastify encapsulates the hook).
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    // Asked again at each load (304 when unchanged): an upgraded daemon never serves an old page.
    reply.header('cache-control', 'no-cache');
    return payload;
  });
  if (root === undefined || !isBuilt(root)) {
    const notBuilt = async () => {
      throw new ApiNotFoundError(
        'the dashboard is not built on this install (dist/ui/ has no index.html and app.js): run `npm run build`',
      );
    };
    app.get('/ui', { schema: { hide: true } }, notBuilt);
    app.get('/ui/*', { schema: { hide: true } }, notBuilt);
    return;
  }
  // `/ui` → `/ui/`, so that the page's relative asset URLs resolve under /ui/. (The page calls the API
  // at the origin's root, `/health`, `/stream`: behind a reverse proxy it needs the API at the root.)
  app.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('ui/'));
  await app.register(fastifyStatic, {
    root,
    prefix: UI_PREFIX,
    // An encapsulated registration: the decorator would clash with @fastify/swagger-ui's own.
    decorateReply: false,
    preCompressed: true,
    // An array: with preCompressed, @fastify/static 10 finds a directory's index only when given a list.
    index: ['index.html'],
    cacheControl: false,
    schemaHide: true,
  });
};
