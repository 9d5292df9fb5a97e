/**
 * Access to the HTTP side: credentials, and the TLS files of HTTPS.
 *
 * Credentials for everything HTTP serves (the REST API, the event stream, the
 * web page), but `/healthz`: liveness probes carry no credentials.
 *
 * - `--http-auth user:password`: HTTP Basic (RFC 7617), what a browser asks for
 *   with its own login dialog and then sends with every request of the page,
 *   EventSource included.
 * - `--http-token <token>`: a bearer token (RFC 6750 §2.1, `Authorization:
 *   Bearer <token>`) for programs. EventSource cannot send headers, so
 *   `GET /api/events` also takes it as `?access_token=` (RFC 6750 §2.3). A
 *   browser cannot send one to the page either: `/?access_token=<token>` opens
 *   the page and leaves the token in an HttpOnly, SameSite=Strict cookie that the
 *   page's own requests then carry.
 *
 * With both, either is accepted. Secrets are compared as SHA-256 digests with
 * timingSafeEqual: the time taken says nothing about where a guess differs, nor
 * about the secret's length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { BasicCredentials } from '../config.js';
import type { ApiError } from './device-routes.js';

export interface HttpAuthOptions {
  readonly basic?: BasicCredentials | undefined;
  readonly token?: string | undefined;
  readonly logger?: Logger;
}

export const REALM = 'lwm2m-hub';
/** Routes served without credentials: probes must keep working. */
const OPEN_ROUTES = new Set(['/healthz']);
/** Routes that also take the token as `?access_token=` (EventSource cannot set Authorization; nor can a link to the page). */
const QUERY_TOKEN_ROUTES = new Set(['/api/events', '/']);
/** Set by `/?access_token=`; accepted on every route like the Authorization header. */
const TOKEN_COOKIE = 'lwm2m_hub_token';

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Equal in time independent of the contents and lengths of both. */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/** `Basic <base64(user:password)>` → its parts; the scheme name is case-insensitive (RFC 7235 §2.1). */
function parseBasic(header: string): { user: string; password: string } | undefined {
  const match = /^basic[ ]+([A-Za-z0-9+/]+=*)[ ]*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function parseBearer(header: string): string | undefined {
  return /^bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header)?.[1];
}

/**
 * Adds an onRequest hook that answers 401 to any request without valid
 * credentials, on every route registered in this instance and its plugins,
 * and on unknown paths too (so that routes cannot be probed). Does nothing
 * when neither Basic credentials nor a token are configured.
 */
export function registerHttpAuth(app: FastifyInstance, options: HttpAuthOptions): void {
  const { basic, token, logger } = options;
  if (!basic && token === undefined) return;
  const expected = {
    user: basic ? digest(basic.user) : undefined,
    password: basic ? digest(basic.password) : undefined,
    token: token !== undefined ? digest(token) : undefined,
  };

  /** What the request presented, and whether it matched. */
  const check = (request: FastifyRequest): { ok: boolean; presented: 'nothing' | 'basic' | 'bearer' | 'query' | 'cookie' | 'other' } => {
    const header = request.headers.authorization;
    if (header === undefined) {
      const query = QUERY_TOKEN_ROUTES.has(request.routeOptions.url ?? '')
        ? (request.query as Record<string, unknown> | undefined)
        : undefined;
      const fromQuery = query?.['access_token'];
      if (typeof fromQuery === 'string' && expected.token) return { ok: sameSecret(fromQuery, expected.token), presented: 'query' };
      const fromCookie = cookieValue(request.headers.cookie, TOKEN_COOKIE);
      if (fromCookie !== undefined && expected.token) return { ok: sameSecret(fromCookie, expected.token), presented: 'cookie' };
      return { ok: false, presented: 'nothing' };
    }
    const credentials = parseBasic(header);
    if (credentials) {
      if (!expected.user || !expected.password) return { ok: false, presented: 'basic' };
      // Both halves are always compared (`&`, not `&&`): a right user name must not answer faster.
      const ok = (Number(sameSecret(credentials.user, expected.user)) & Number(sameSecret(credentials.password, expected.password))) === 1;
      return { ok, presented: 'basic' };
    }
    const presented = parseBearer(header);
    if (presented === undefined) return { ok: false, presented: 'other' };
    return { ok: expected.token !== undefined && sameSecret(presented, expected.token), presented: 'bearer' };
  };

  app.addHook('onRequest', async (request, reply) => {
    if (OPEN_ROUTES.has(request.routeOptions.url ?? '')) return;
    const { ok, presented } = check(request);
    if (ok) {
      if (presented === 'query' && request.routeOptions.url === '/') {
        const secure = request.protocol === 'https' ? '; Secure' : '';
        reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token ?? '')}; Path=/; HttpOnly; SameSite=Strict${secure}`);
      }
      return;
    }
    logger?.debug(
      { method: request.method, url: request.routeOptions.url, remote: request.ip, presented },
      'HTTP request without valid credentials',
    );
    // RFC 7235 §4.1: one challenge per scheme we accept; RFC 6750 §3.1 names a rejected token.
    const challenges = [
      ...(basic ? [`Basic realm="${REALM}", charset="UTF-8"`] : []),
      ...(token !== undefined ? [`Bearer realm="${REALM}"${presented === 'bearer' || presented === 'query' || presented === 'cookie' ? ', error="invalid_token"' : ''}`] : []),
    ];
    return reply
      .code(401)
      .header('www-authenticate', challenges)
      .header('cache-control', 'no-store')
      .send({ error: presented === 'nothing' ? 'credentials required' : 'invalid credentials', code: 'unauthorized' } satisfies ApiError);
  });
}

/**
 * Reads `--http-tls-cert` and `--http-tls-key` (PEM) and checks that they make a
 * TLS context, so that a wrong file stops the start with a message naming it
 * rather than failing at the first connection. Undefined when neither is set.
 */
export async function readHttpTls(
  certFile: string | undefined,
  keyFile: string | undefined,
): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const [given, missing] = certFile === undefined ? ['--http-tls-key', '--http-tls-cert'] : ['--http-tls-cert', '--http-tls-key'];
    throw new Error(`${given} is set but ${missing} is missing: HTTPS needs both`);
  }
  const read = async (file: string, flag: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new Error(`cannot read ${flag} ${file}: ${(error as Error).message}`);
    }
  };
  const cert = await read(certFile, '--http-tls-cert');
  const key = await read(keyFile, '--http-tls-key');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new Error(`invalid --http-tls-cert/--http-tls-key (${certFile}, ${keyFile}): ${(error as Error).message}`);
  }
  return { cert, key };
}
