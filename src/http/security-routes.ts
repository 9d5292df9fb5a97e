/**
 * REST routes of the security store (PSK credentials of LwM2M clients):
 *
 *   PUT    /api/security/{endpoint}   body {"identity": "…", "key": "<hex>"}: 201 created, 200 replaced,
 *                                     400 bad body, 409 identity bound to another endpoint
 *   GET    /api/security              every entry, by endpoint name
 *   GET    /api/security/{endpoint}   one entry, or 404
 *   DELETE /api/security/{endpoint}   204, or 404
 *
 * A key is never sent back: entries show its length and the first 8 hex digits
 * of its SHA-256, enough to tell which key is set without revealing it.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { describeIssue, endpointName, pskCredentials } from '../lwm2m/security/psk-credentials.js';
import type { SecurityEntry, SecurityStore } from '../store/security-store.js';
import type { ApiError } from './device-routes.js';

export interface SecurityRoutesOptions {
  readonly securityStore: SecurityStore;
  readonly logger: Logger;
}

export interface SecurityEntryJson {
  readonly endpoint: string;
  readonly identity: string;
  readonly key: { readonly bytes: number; readonly sha256: string };
}

/** The shape REST shows: the key as its length and a short fingerprint. */
export function securityEntryToJson(entry: SecurityEntry): SecurityEntryJson {
  return {
    endpoint: entry.endpoint,
    identity: entry.identity,
    key: { bytes: entry.key.length, sha256: createHash('sha256').update(entry.key).digest('hex').slice(0, 8) },
  };
}

export function registerSecurityRoutes(app: FastifyInstance, options: SecurityRoutesOptions): void {
  const { securityStore: store, logger } = options;

  const badEndpoint = (endpoint: string): ApiError | undefined => {
    const parsed = endpointName.safeParse(endpoint);
    return parsed.success ? undefined : { error: `endpoint ${describeIssue(parsed.error)}`, code: 'bad_request' };
  };
  const notFound = (endpoint: string): ApiError => ({ error: `no security entry for endpoint "${endpoint}"`, code: 'not_found' });

  app.get('/api/security', async () => {
    const entries = await store.list();
    entries.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
    return entries.map(securityEntryToJson);
  });

  app.get<{ Params: { endpoint: string } }>('/api/security/:endpoint', async (request, reply) => {
    const entry = await store.get(request.params.endpoint);
    if (!entry) return reply.code(404).send(notFound(request.params.endpoint));
    return securityEntryToJson(entry);
  });

  app.put<{ Params: { endpoint: string } }>('/api/security/:endpoint', async (request, reply) => {
    const { endpoint } = request.params;
    const invalidEndpoint = badEndpoint(endpoint);
    if (invalidEndpoint) return reply.code(400).send(invalidEndpoint);
    if (request.body === undefined || request.body === null) {
      return reply
        .code(400)
        .send({ error: 'a JSON body {"identity": "…", "key": "<hex>"} is required', code: 'bad_request' } satisfies ApiError);
    }
    const parsed = pskCredentials.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: describeIssue(parsed.error), code: 'bad_request' } satisfies ApiError);
    const result = await store.put(endpoint, parsed.data);
    if (!result.ok) {
      return reply.code(409).send({
        error: `identity "${parsed.data.identity}" is bound to endpoint "${result.identityOwner}"`,
        code: 'identity_in_use',
      } satisfies ApiError);
    }
    // Credential changes are rare and an operator wants them on record: info, unlike request logs.
    logger.info({ endpoint, identity: parsed.data.identity, created: result.created }, 'security entry set');
    return reply.code(result.created ? 201 : 200).send(securityEntryToJson({ endpoint, ...parsed.data }));
  });

  app.delete<{ Params: { endpoint: string } }>('/api/security/:endpoint', async (request, reply) => {
    const { endpoint } = request.params;
    if (!(await store.delete(endpoint))) return reply.code(404).send(notFound(endpoint));
    logger.info({ endpoint }, 'security entry deleted');
    return reply.code(204).send();
  });
}
