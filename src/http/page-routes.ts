/**
 * REST routes the web page needs beside the device API (any other REST user may call them too):
 *
 *   GET /api/clients/{endpoint}/topics[?path=/3303/0/5700&path=…]
 *       the MQTT topics on which the values of the client's resources are published, in the
 *       layout the hub runs (ours, with or without `--mqtt-names`, or EMQX's)
 *   GET /api/presence
 *       queue-mode clients (LwM2M Core §6.5): awake or sleeping, and the requests waiting for them
 */
import type { FastifyInstance } from 'fastify';
import type { Lwm2mRecord } from '../codecs/senml/records.js';
import type { PresenceService } from '../lwm2m/queue/presence-service.js';
import type { Registration } from '../lwm2m/registration/registration.js';
import type { ModelProvider } from '../model/object-model.js';
import { formatPath, tryParsePath, type Lwm2mPath } from '../model/path.js';
import type { TopicLayout } from '../mqtt/layout.js';
import type { RegistrationStore } from '../store/registration-store.js';
import type { ApiError } from './device-routes.js';

export interface PageRoutesOptions {
  readonly store: RegistrationStore;
  readonly model: ModelProvider;
  /** The layout the MQTT bridge publishes with. */
  readonly topicLayout: TopicLayout;
  readonly presence: Pick<PresenceService, 'isAwake' | 'queueLength'>;
}

export interface ResourceTopics {
  /** `/3303/0/5700`. */
  readonly path: string;
  /** Where its values go; a multiple resource's instances as a filter with `+` (`lwm2m/node1/3/0/6/+`). */
  readonly topics: string[];
  /** Whether the latest value stays on the broker for new subscribers. */
  readonly retained: boolean;
}

/** Any value: the topic depends on the path, never on the value. */
const SAMPLE_VALUE = { type: 'string', value: '' } as const;

/**
 * Asks the layout itself where a value of `path` goes, through `sent` (the one layout
 * method without state: EMQX's `values` counts notifications per observation). A read or a
 * notification of the same path goes to the same topics, but for EMQX, which puts reads in
 * the command response and Firmware Update (object 5) notifications on `/v1/up/dm`.
 */
export function resourceTopics(
  layout: TopicLayout,
  registration: Registration,
  path: Lwm2mPath,
  multiple: boolean,
  model: ModelProvider,
): ResourceTopics {
  const topicsAt = (at: Lwm2mPath) => layout.sent(registration, [{ path: at, value: SAMPLE_VALUE } satisfies Lwm2mRecord], 0, model);
  if (!multiple || path.length !== 3) {
    const messages = topicsAt(path);
    return { path: formatPath(path), topics: unique(messages.map((m) => m.topic)), retained: messages.some((m) => m.retain) };
  }
  // The level that differs between two resource instances is the instance level, whatever the layout calls it.
  const first = topicsAt([...path, 0] as Lwm2mPath);
  const second = topicsAt([...path, 1] as Lwm2mPath);
  const topics = first.map((message, index) => {
    const other = second[index]?.topic.split('/');
    return message.topic
      .split('/')
      .map((level, at) => (other !== undefined && other[at] !== level ? '+' : level))
      .join('/');
  });
  return { path: formatPath(path), topics: unique(topics), retained: first.some((m) => m.retain) };
}

/** Every resource the object model gives the instances the registration lists (executables carry no value). */
function registeredResources(registration: Registration, model: ModelProvider): { path: Lwm2mPath; multiple: boolean }[] {
  const resources: { path: Lwm2mPath; multiple: boolean }[] = [];
  for (const link of registration.objectLinks) {
    const [objectId, instanceId] = link.path;
    if (objectId === undefined || instanceId === undefined || link.path.length !== 2) continue;
    const version = typeof link.attributes['ver'] === 'string' ? link.attributes['ver'] : undefined;
    const definition = model.getObject(objectId, version);
    for (const resource of definition?.resources.values() ?? []) {
      if (resource.type !== 'none') resources.push({ path: [objectId, instanceId, resource.id], multiple: resource.multiple });
    }
  }
  return resources;
}

export function registerPageRoutes(app: FastifyInstance, options: PageRoutesOptions): void {
  const { store, model, topicLayout, presence } = options;

  app.get<{ Params: { endpoint: string }; Querystring: { path?: string | string[] } }>(
    '/api/clients/:endpoint/topics',
    async (request, reply) => {
      const { endpoint } = request.params;
      const registration = await store.getByEndpoint(endpoint);
      if (!registration)
        return reply.code(404).send({ error: `no client registered as "${endpoint}"`, code: 'not_registered' } satisfies ApiError);
      const asked = [request.query.path ?? []].flat();
      let resources: { path: Lwm2mPath; multiple: boolean }[];
      if (asked.length === 0) {
        resources = registeredResources(registration, model);
      } else {
        resources = [];
        for (const text of asked) {
          const path = tryParsePath(text);
          if (path === undefined || path.length < 3) {
            return reply.code(400).send({
              error: `${endpoint}: "${text}" is not a resource or resource instance path`,
              code: 'bad_request',
            } satisfies ApiError);
          }
          resources.push({ path, multiple: model.getObject(path[0] as number)?.resources.get(path[2] as number)?.multiple ?? false });
        }
      }
      return { endpoint, topics: resources.map(({ path, multiple }) => resourceTopics(topicLayout, registration, path, multiple, model)) };
    },
  );

  app.get('/api/presence', async () => {
    const clients: { endpoint: string; awake: boolean; queued: number }[] = [];
    for await (const registration of store.list()) {
      if (registration.queueMode)
        clients.push({
          endpoint: registration.endpoint,
          awake: presence.isAwake(registration),
          queued: presence.queueLength(registration.endpoint),
        });
    }
    return clients.sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  });
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
