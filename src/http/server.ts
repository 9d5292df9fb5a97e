/**
 * The REST API: registered clients and health. Read-only views of the store;
 * device operations arrive with the LwM2M request API.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registrationToJson } from '../lwm2m/registration/registration.js';
import type { RegistrationStore } from '../store/registration-store.js';

export interface HttpServerOptions {
  readonly store: RegistrationStore;
  readonly logger: Logger;
  readonly version: string;
}

export interface ApiError {
  error: string;
  message: string;
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { store } = options;
  // forceCloseConnections: a graceful stop must not wait for idle keep-alive connections.
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true }, forceCloseConnections: true });

  app.get('/healthz', async () => ({ status: 'ok', version: options.version, clients: await store.count() }));

  app.get('/api/clients', async () => {
    const clients = [];
    for await (const registration of store.list()) clients.push(registrationToJson(registration));
    clients.sort((a, b) => a.endpoint.localeCompare(b.endpoint));
    return clients;
  });

  app.get<{ Params: { endpoint: string } }>('/api/clients/:endpoint', async (request, reply) => {
    const registration = await store.getByEndpoint(request.params.endpoint);
    if (!registration) {
      return reply.code(404).send({ error: 'not_found', message: `no client registered as "${request.params.endpoint}"` } satisfies ApiError);
    }
    return registrationToJson(registration);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` } satisfies ApiError);
  });

  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) options.logger.error({ err: error, url: request.url }, 'REST request failed');
    void reply.code(status).send({ error: status >= 500 ? 'internal' : 'bad_request', message: error.message } satisfies ApiError);
  });

  return app;
}
