/**
 * The REST API: registered clients and health. Read-only views of the store;
 * device operations arrive with the LwM2M request API.
 */
import Fastify, { type FastifyInstance } from 'fastify';
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

export interface HttpServerOptions {
  readonly store: RegistrationStore;
  readonly objects: ObjectRegistry;
  readonly devices: DeviceApi;
  readonly observations: ObservationService;
  readonly events: EventBus;
  readonly eventBuffer: number;
  /** Counters of the MQTT side, shown on /healthz: a slow subscriber's drops show up here. */
  readonly mqttStats?: () => Record<string, number | boolean>;
  readonly logger: Logger;
  readonly version: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** `METHOD /path` of every route, as registered (the OpenAPI test checks the document against it). */
    readonly apiRoutes: readonly string[];
  }
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { store } = options;
  const routes: string[] = [];
  // forceCloseConnections: a graceful stop must not wait for idle keep-alive connections.
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true }, forceCloseConnections: true });

  app.decorate('apiRoutes', routes);
  app.addHook('onRoute', (route) => {
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
