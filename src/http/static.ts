/**
 * The web page at `/`: the files `npm run build` writes to `dist/web/` (scripts/build-web.mjs),
 * served from the installed package so the page works on an isolated network with nothing
 * fetched from elsewhere.
 *
 *   GET /                 index.html, revalidated on every load (ETag)
 *   GET /assets/{file}    the bundle; its name carries a content hash, so it is cached for a year
 *
 * Files are read on request, not at start: a rebuilt page is served without a restart, and a
 * hub started before the build (or from sources, without one) still answers with a clear message.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findPackageRoot } from '../model/object-registry.js';
import type { ApiError } from './device-routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A file of the web page, not a REST route: left out of `apiRoutes` and the OpenAPI document. */
    readonly webPage?: boolean;
  }
}

/** Where the build puts the page, inside the package (`files` ships `dist`). */
export function webPageDir(): string {
  return path.join(findPackageRoot(), 'dist', 'web');
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The browser enforces what the page promises: scripts, styles and connections (fetch,
 * EventSource) only from this server; `data:` images for the inline icon.
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Hashed names only (`app-3F2A9B1C.js`): one dot-separated name, no path, no leading dot. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/;

export function registerWebPage(app: FastifyInstance, options: { dir?: string } = {}): void {
  const dir = options.dir ?? webPageDir();
  const config = { webPage: true };

  app.get('/', { config }, async (request, reply) => {
    const html = await readOptional(path.join(dir, 'index.html'));
    if (!html) return notBuilt(reply, dir);
    const etag = `"${createHash('sha1').update(html).digest('base64url')}"`;
    void reply
      .header('etag', etag)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(CONTENT_TYPES['.html'] as string).send(html);
  });

  app.get<{ Params: { file: string } }>('/assets/:file', { config }, async (request, reply) => {
    const { file } = request.params;
    const type = CONTENT_TYPES[path.extname(file)];
    if (!ASSET_NAME.test(file) || type === undefined) return noAsset(reply, file);
    const gzipped = acceptsGzip(request) ? await readOptional(path.join(dir, 'assets', `${file}.gz`)) : undefined;
    const body = gzipped ?? (await readOptional(path.join(dir, 'assets', file)));
    if (!body) return noAsset(reply, file);
    if (gzipped) void reply.header('content-encoding', 'gzip');
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('vary', 'accept-encoding')
      .header('x-content-type-options', 'nosniff')
      .type(type)
      .send(body);
  });
}

/** RFC 9110 §12.5.3: `gzip` listed without `q=0` (browsers always send it). */
function acceptsGzip(request: FastifyRequest): boolean {
  const accepted = request.headers['accept-encoding'];
  if (typeof accepted !== 'string') return false;
  return accepted.split(',').some((entry) => {
    const [coding, ...params] = entry.split(';').map((part) => part.trim().toLowerCase());
    const quality = params.find((param) => param.startsWith('q='));
    return coding === 'gzip' && (quality === undefined || Number(quality.slice(2)) > 0);
  });
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function notBuilt(reply: FastifyReply, dir: string) {
  return reply.code(404).send({
    error: `the web page is not built (no ${path.join(dir, 'index.html')}): run npm run build`,
    code: 'no_page',
  } satisfies ApiError);
}

function noAsset(reply: FastifyReply, file: string) {
  return reply.code(404).send({ error: `no file "${file}" in the web page`, code: 'not_found' } satisfies ApiError);
}
