/**
 * The REST API: registered clients and health. Read-only views of the store;
 * device operations arrive with the LwM2M request API.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';
import { registrationToJson } from '../lwm2m/registration/registration.js';
import type { ObjectModel } from '../model/object-model.js';
import type { ObjectRegistry } from '../model/object-registry.js';
import type { EventBus } from '../events.js';
import type { DeviceApi } from '../lwm2m/device-api.js';
import type { ObservationService } from '../lwm2m/observation/observation-service.js';
import type { RegistrationStore } from '../store/registration-store.js';
import { registerDeviceRoutes, type ApiError } from './device-routes.js';
import { registerEventStream } from './event-stream.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { registerHttpAuth, type HttpAuthOptions } from './auth.js';
import { registerSecurityRoutes } from './security-routes.js';
import type { SecurityStore } from '../store/security-store.js';
import { registerPageRoutes } from './page-routes.js';
import { registerWebPage } from './static.js';
import type { TopicLayout } from '../mqtt/layout.js';
import type { PresenceService } from '../lwm2m/queue/presence-service.js';

export interface HttpServerOptions {
  readonly store: RegistrationStore;
  readonly objects: ObjectRegistry;
  readonly devices: DeviceApi;
  readonly observations: ObservationService;
  readonly events: EventBus;
  readonly eventBuffer: number;
  /** Counters of the MQTT side, shown on /healthz: a slow subscriber's drops show up here. */
  readonly mqttStats?: () => Record<string, number | boolean>;
  /** The MQTT bridge's layout: `/api/clients/{ep}/topics` tells where each value is published. */
  readonly topicLayout: TopicLayout;
  /** Queue-mode state for `/api/presence`. */
  readonly presence: Pick<PresenceService, 'isAwake' | 'queueLength'>;
  readonly logger: Logger;
  readonly version: string;
  /** PSK entries of `/api/security`. */
  readonly securityStore: SecurityStore;
  /** `--http-auth` / `--http-token`: credentials for every route but /healthz. */
  readonly auth?: Pick<HttpAuthOptions, 'basic' | 'token'>;
  /** `--http-tls-cert` / `--http-tls-key` (PEM): HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** `METHOD /path` of every REST route, as registered (the OpenAPI test checks the document against it); not the web page's files. */
    readonly apiRoutes: readonly string[];
  }
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { store } = options;
  const routes: string[] = [];
  // forceCloseConnections: a graceful stop must not wait for idle keep-alive connections.
  const { tls } = options;
  const app = Fastify({
    logger: false,
    // maxParamLength: an endpoint name may have 255 characters (LwM2M `ep`), percent-encoded up to three times as long.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    forceCloseConnections: true,
    ...(tls ? { serverFactory: (handler: Parameters<typeof createHttpsServer>[1]) => createHttpsServer({ cert: tls.cert, key: tls.key }, handler) } : {}),
  });
  // Before any route, so that it covers them all, the web page's and plugins' included.
  registerHttpAuth(app, { ...options.auth, logger: options.logger });

  app.decorate('apiRoutes', routes);
  app.addHook('onRoute', (route) => {
    if (route.config?.webPage) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });

  app.get('/healthz', async () => ({
    status: 'ok',
    version: options.version,
    clients: await store.count(),
    ...(options.mqttStats ? { mqtt: options.mqttStats() } : {}),
  }));

  app.get('/api/clients', async () => {
    const clients = [];
    for await (const registration of store.list()) clients.push(registrationToJson(registration));
    clients.sort((a, b) => a.endpoint.localeCompare(b.endpoint));
    return clients;
  });

  app.get<{ Params: { endpoint: string } }>('/api/clients/:endpoint', async (request, reply) => {
    const registration = await store.getByEndpoint(request.params.endpoint);
    if (!registration) {
      return reply.code(404).send({ error: `no client registered as "${request.params.endpoint}"`, code: 'not_registered' } satisfies ApiError);
    }
    return registrationToJson(registration);
  });

  app.get('/api/objects', async () => options.objects.list().map(objectToJson));

  app.get<{ Params: { id: string }; Querystring: { version?: string } }>('/api/objects/:id', async (request, reply) => {
    const id = /^\d{1,5}$/.test(request.params.id) ? Number(request.params.id) : undefined;
    const model = id === undefined ? undefined : options.objects.getObject(id, request.query.version);
    if (!model) {
      return reply.code(404).send({ error: `no object definition for "${request.params.id}"`, code: 'not_found' } satisfies ApiError);
    }
    return { ...objectToJson(model), versions: options.objects.versions(model.id) };
  });

  registerDeviceRoutes(app, { devices: options.devices, observations: options.observations, model: options.objects, logger: options.logger });
  const stopEvents = registerEventStream(app, { events: options.events, model: options.objects, bufferSize: options.eventBuffer });
  app.addHook('onClose', async () => stopEvents());
  app.get('/api/openapi.json', async () => OPENAPI_DOCUMENT);
  registerSecurityRoutes(app, { securityStore: options.securityStore, logger: options.logger });
  registerPageRoutes(app, { store, model: options.objects, topicLayout: options.topicLayout, presence: options.presence });
  registerWebPage(app);

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url}`, code: 'no_route' } satisfies ApiError);
  });

  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) options.logger.error({ err: error, url: request.url }, 'REST request failed');
    void reply.code(status).send({ error: error.message, code: status >= 500 ? 'internal' : 'bad_request' } satisfies ApiError);
  });

  return app;
}

/** The object model as REST shows it. */
function objectToJson(model: ObjectModel) {
  return {
    id: model.id,
    name: model.name,
    version: model.version,
    lwm2mVersion: model.lwm2mVersion,
    multiple: model.multiple,
    mandatory: model.mandatory,
    ...(model.urn !== undefined ? { urn: model.urn } : {}),
    ...(model.description !== undefined ? { description: model.description } : {}),
    resources: [...model.resources.values()].map((r) => ({
      id: r.id,
      name: r.name,
      type: r.type,
      operations: r.operations,
      multiple: r.multiple,
      mandatory: r.mandatory,
      ...(r.units !== undefined ? { units: r.units } : {}),
      ...(r.rangeEnumeration !== undefined ? { rangeEnumeration: r.rangeEnumeration } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
    })),
  };
}
