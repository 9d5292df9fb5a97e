/**
 * Our topic layout (README "MQTT topics"):
 *   {prefix}/{ep}/registration              retained registration JSON; empty when gone
 *   {prefix}/{ep}/events                    {"event", "time"}
 *   {prefix}/{ep}/{o}/{i}/{r}[/{ri}]        retained latest value {"value", "type", "time", "source"}
 *   {prefix}/{ep}/{object-name}/{i}/{resource-name}   the same, with --mqtt-names
 *   {prefix}/{ep}/cmd  →  {prefix}/{ep}/cmd/reply
 */
import type { Lwm2mRecord } from '../codecs/senml/records.js';
import { nodeToJson, valueToJson } from '../http/node-json.js';
import { registrationToJson, type Registration } from '../lwm2m/registration/registration.js';
import type { Lwm2mNode, Lwm2mValue } from '../model/node.js';
import type { ModelProvider } from '../model/object-model.js';
import { formatPath, tryParsePath, type Lwm2mPath } from '../model/path.js';
import type { CommandOp, DeviceCommand, OutgoingMessage, ParsedCommand, TopicLayout, ValueSource } from './layout.js';
import { isoTime } from '../time.js';

const OPS: readonly CommandOp[] = ['read', 'write', 'execute', 'create', 'delete', 'discover', 'write-attributes', 'observe', 'cancel'];

export interface DefaultLayoutOptions {
  readonly prefix: string;
  /** Also publish values under object and resource names. */
  readonly names: boolean;
}

/** Every value inside a node, with its full path: the leaves MQTT topics carry. */
export function leaves(node: Lwm2mNode, path: Lwm2mPath): { path: Lwm2mPath; value: Lwm2mValue }[] {
  switch (node.kind) {
    case 'object':
      return node.instances.flatMap((instance) => leaves(instance, [node.id, instance.id]));
    case 'instance':
      return node.resources.flatMap((resource) => leaves(resource, [path[0] as number, node.id, resource.id]));
    case 'resource':
      return [{ path: [path[0] as number, path[1] as number, node.id], value: node.value }];
    case 'multipleResource':
      return node.instances.map((instance) => ({ path: [path[0] as number, path[1] as number, node.id, instance.id], value: instance.value }));
    case 'resourceInstance':
      return [{ path: [path[0] as number, path[1] as number, path[2] as number, node.id], value: node.value }];
  }
}

/** `Sensor Value` → `sensor-value`: a topic level without spaces, slashes or wildcards. */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export function createDefaultLayout(options: DefaultLayoutOptions): TopicLayout {
  const { prefix } = options;
  const base = (endpoint: string) => `${prefix}/${endpoint}`;
  const registrationMessage = (registration: Registration): OutgoingMessage => ({
    topic: `${base(registration.endpoint)}/registration`,
    retain: true,
    payload: JSON.stringify(registrationToJson(registration)),
    fromStore: true,
  });

  /** The value JSON written out rather than built as an object and stringified: this runs for every value that reaches MQTT. */
  const valuePayload = (value: Lwm2mValue, time: number, source: ValueSource): string =>
    // type and source are fixed identifiers and an ISO time has nothing to escape; the value is stringified.
    `{"value":${JSON.stringify(valueToJson(value))},"type":"${value.type}","time":"${isoTime(time)}","source":"${source}"}`;

  const valueMessages = (registration: Registration, source: ValueSource, values: { path: Lwm2mPath; value: Lwm2mValue; time?: number }[], time: number, model: ModelProvider) => {
    const endpointTopic = base(registration.endpoint);
    const messages: OutgoingMessage[] = [];
    for (const { path, value, time: recordTime } of values) {
      const payload = valuePayload(value, recordTime !== undefined ? recordTime * 1000 : time, source);
      messages.push({ topic: endpointTopic + formatPath(path), payload, retain: true });
      if (options.names) {
        const object = model.getObject(path[0] as number);
        const resource = object?.resources.get(path[2] as number);
        if (object && resource) {
          const named = [slug(object.name), path[1], slug(resource.name), ...path.slice(3)].join('/');
          messages.push({ topic: `${endpointTopic}/${named}`, payload, retain: true });
        }
      }
    }
    return messages;
  };

  return {
    commandFilters: () => [`${prefix}/+/cmd`],

    parseCommand(topic, payload): ParsedCommand {
      const endpoint = topic.startsWith(`${prefix}/`) && topic.endsWith('/cmd') ? topic.slice(prefix.length + 1, -'/cmd'.length) : undefined;
      if (!endpoint) return { ok: false, endpoint: undefined, id: undefined, error: `not a command topic: ${topic}` };
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return { ok: false, endpoint, id: undefined, error: 'the command is not JSON' };
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, endpoint, id: undefined, error: 'the command must be a JSON object' };
      const record = body as Record<string, unknown>;
      const id = typeof record['id'] === 'string' || typeof record['id'] === 'number' ? String(record['id']) : undefined;
      const op = record['op'];
      if (typeof op !== 'string' || !OPS.includes(op as CommandOp)) return { ok: false, endpoint, id, error: `unknown op ${JSON.stringify(op)}; one of ${OPS.join(', ')}` };
      const path = record['path'];
      if (typeof path !== 'string' || tryParsePath(path) === undefined) return { ok: false, endpoint, id, error: `"path" must be an LwM2M path such as /3303/0/5700, got ${JSON.stringify(path)}` };
      const format = record['format'];
      const attributes = record['attributes'];
      const command: DeviceCommand = {
        id,
        op: op as CommandOp,
        path,
        ...('value' in record ? { value: record['value'] } : {}),
        ...(typeof format === 'string' || typeof format === 'number' ? { format } : {}),
        ...(typeof attributes === 'object' && attributes !== null ? { attributes: attributes as Record<string, number | null> } : {}),
        ...(record['partial'] === true ? { partial: true } : {}),
      };
      return { ok: true, endpoint, command };
    },

    reply(endpoint, command, id, outcome, model) {
      const topic = `${base(endpoint)}/cmd/reply`;
      if (!outcome.ok) {
        const error = typeof outcome.error === 'string' ? outcome.error : outcome.error.message;
        return { topic, retain: false, payload: JSON.stringify({ id, ok: false, code: outcome.code, error }) };
      }
      const { response } = outcome;
      const path: Lwm2mPath = (command ? tryParsePath(command.path) : undefined) ?? [];
      const body = {
        id,
        ok: response.success,
        code: response.code,
        ...(response.node ? { content: nodeToJson(response.node, path, model) } : {}),
        ...(response.links ? { links: response.links } : {}),
        ...(response.location ? { location: response.location } : {}),
        ...(response.observationId ? { observationId: response.observationId } : {}),
        ...(!response.success ? { error: response.diagnostic ?? `device answered ${response.code}` } : {}),
      };
      return { topic, retain: false, payload: JSON.stringify(body) };
    },

    storedState: (registration) => [registrationMessage(registration)],

    registrationEvent(name, registration, time) {
      const events: OutgoingMessage = { topic: `${base(registration.endpoint)}/events`, retain: false, payload: JSON.stringify({ event: name, time: isoTime(time) }) };
      switch (name) {
        case 'registered':
        case 'updated':
          return [registrationMessage(registration), events];
        case 'deregistered':
        case 'expired':
          // An empty retained payload clears the retained registration (MQTT 3.1.1 §3.3.1.3).
          return [{ topic: `${base(registration.endpoint)}/registration`, retain: true, payload: '', fromStore: true }, events];
        default:
          return [events];
      }
    },

    values: (registration, source, path, node, time, model) => valueMessages(registration, source, leaves(node, path), time, model),

    sent: (registration, records: readonly Lwm2mRecord[], time, model) =>
      valueMessages(
        registration,
        'send',
        records.filter((r) => r.path.length >= 3 && r.value.type !== 'none'),
        time,
        model,
      ),
  };
}
