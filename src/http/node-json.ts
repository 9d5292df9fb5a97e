/**
 * The JSON shape of LwM2M nodes on REST, MQTT and SSE, made for people:
 * `{"path":"/3303/0/5700","name":"Sensor Value","type":"float","value":23.5}`,
 * objects and instances nested with names from the object model. The same shape
 * is read back for writes.
 */
import type { Lwm2mNode, Lwm2mValue, ObjectInstanceNode, ResourceInstanceNode, ResourceNode, ResourceType } from '../model/node.js';
import type { ModelProvider, ResourceModel } from '../model/object-model.js';
import { formatPath, type Lwm2mPath } from '../model/path.js';

export type JsonScalar = string | number | boolean | null;

export interface ResourceJson {
  path: string;
  id: number;
  name?: string;
  type: string;
  units?: string;
  value?: JsonScalar;
  /** Multiple resources: resource instance id → value. */
  values?: Record<string, JsonScalar>;
}

export interface InstanceJson {
  path: string;
  id: number;
  resources: ResourceJson[];
}

export interface ObjectJson {
  path: string;
  id: number;
  name?: string;
  instances: InstanceJson[];
}

export type NodeJson = ObjectJson | InstanceJson | ResourceJson;

/** JSON of one value: opaque as base64, objlnk as "3:0", time as ISO 8601, 64-bit integers beyond 2^53 as strings. */
export function valueToJson(value: Lwm2mValue): JsonScalar {
  switch (value.type) {
    case 'opaque':
    case 'unknown':
      return Buffer.from(value.value).toString('base64');
    case 'objlnk':
      return `${value.value.objectId}:${value.value.instanceId}`;
    case 'time':
      return new Date(value.value * 1000).toISOString();
    case 'integer':
    case 'unsignedInteger':
      return typeof value.value === 'bigint' ? value.value.toString() : value.value;
    case 'none':
      return null;
    default:
      return value.value;
  }
}

export function nodeToJson(node: Lwm2mNode, path: Lwm2mPath, model: ModelProvider): NodeJson {
  const objectId = path[0];
  const objectModel = objectId === undefined ? undefined : model.getObject(objectId);
  switch (node.kind) {
    case 'object':
      return {
        path: formatPath([node.id]),
        id: node.id,
        ...(objectModel ? { name: objectModel.name } : {}),
        instances: node.instances.map((instance) => instanceToJson(instance, node.id, model)),
      };
    case 'instance':
      return instanceToJson(node, objectId as number, model);
    case 'resource':
    case 'multipleResource':
      return resourceToJson(node, [path[0] as number, path[1] as number], model);
    case 'resourceInstance': {
      const resource = objectModel?.resources.get(path[2] as number);
      return {
        path: formatPath(path),
        id: node.id,
        ...(resource ? { name: resource.name } : {}),
        type: node.value.type,
        ...(resource?.units ? { units: resource.units } : {}),
        value: valueToJson(node.value),
      };
    }
  }
}

function instanceToJson(instance: ObjectInstanceNode, objectId: number, model: ModelProvider): InstanceJson {
  return {
    path: formatPath([objectId, instance.id]),
    id: instance.id,
    resources: instance.resources.map((resource) => resourceToJson(resource, [objectId, instance.id], model)),
  };
}

function resourceToJson(resource: ResourceNode, parent: readonly [number, number], model: ModelProvider): ResourceJson {
  const definition = model.getObject(parent[0])?.resources.get(resource.id);
  const base = {
    path: formatPath([parent[0], parent[1], resource.id]),
    id: resource.id,
    ...(definition ? { name: definition.name } : {}),
  };
  if (resource.kind === 'resource') {
    return { ...base, type: resource.value.type, ...(definition?.units ? { units: definition.units } : {}), value: valueToJson(resource.value) };
  }
  return {
    ...base,
    type: resource.instances[0]?.value.type ?? definition?.type ?? 'unknown',
    ...(definition?.units ? { units: definition.units } : {}),
    values: Object.fromEntries(resource.instances.map((i) => [String(i.id), valueToJson(i.value)])),
  };
}

export class NodeJsonError extends Error {
  override readonly name = 'NodeJsonError';
}

/**
 * Reads a write body at `path`. A resource takes `{"value": …}` (or `{"values": {…}}` when multiple),
 * an instance `{"resources": [{"id": 1, "value": …}, …]}`. Types come from `type`, else the model,
 * else the JSON value itself.
 */
export function nodeFromJson(body: unknown, path: Lwm2mPath, model: ModelProvider): Lwm2mNode {
  if (!isRecord(body)) throw new NodeJsonError('the body must be a JSON object');
  const [objectId, instanceId, resourceId, resourceInstanceId] = path;
  if (objectId === undefined || instanceId === undefined) throw new NodeJsonError('values are written to an instance, a resource or a resource instance');
  const objectModel = model.getObject(objectId);
  if (resourceId === undefined) return instanceFromJson(body, instanceId, objectId, model);
  const definition = objectModel?.resources.get(resourceId);
  if (resourceInstanceId !== undefined) {
    return { kind: 'resourceInstance', id: resourceInstanceId, value: valueFromJson(body['value'], typeOf(body, definition), `${formatPath(path)}`) };
  }
  return resourceFromJson(body, resourceId, definition, formatPath(path));
}

export function instanceFromJson(body: Record<string, unknown>, instanceId: number, objectId: number, model: ModelProvider): ObjectInstanceNode {
  const resources = body['resources'];
  if (!Array.isArray(resources)) throw new NodeJsonError('an instance needs "resources": [{"id": …, "value": …}, …]');
  const objectModel = model.getObject(objectId);
  return {
    kind: 'instance',
    id: typeof body['id'] === 'number' ? body['id'] : instanceId,
    resources: resources.map((entry, index) => {
      if (!isRecord(entry) || typeof entry['id'] !== 'number' || !Number.isInteger(entry['id'])) {
        throw new NodeJsonError(`resources[${index}] needs a whole-number "id"`);
      }
      const id = entry['id'];
      return resourceFromJson(entry, id, objectModel?.resources.get(id), formatPath([objectId, instanceId, id]));
    }),
  };
}

function resourceFromJson(body: Record<string, unknown>, id: number, definition: ResourceModel | undefined, where: string): ResourceNode {
  const type = typeOf(body, definition);
  const values = body['values'];
  if (isRecord(values) || definition?.multiple) {
    if (!isRecord(values)) throw new NodeJsonError(`${where} is a multiple resource: give "values": {"0": …}`);
    const instances: ResourceInstanceNode[] = Object.entries(values).map(([key, value]) => {
      if (!/^\d{1,5}$/.test(key)) throw new NodeJsonError(`${where}: resource instance id "${key}" is not a number`);
      return { kind: 'resourceInstance', id: Number(key), value: valueFromJson(value, type, `${where}/${key}`) };
    });
    return { kind: 'multipleResource', id, instances };
  }
  if (!('value' in body)) throw new NodeJsonError(`${where} needs "value"`);
  return { kind: 'resource', id, value: valueFromJson(body['value'], type, where) };
}

const TYPES: ReadonlySet<string> = new Set(['string', 'integer', 'unsignedInteger', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk', 'none']);

function typeOf(body: Record<string, unknown>, definition: ResourceModel | undefined): ResourceType | undefined {
  const declared = body['type'];
  if (typeof declared === 'string') {
    if (!TYPES.has(declared)) throw new NodeJsonError(`unknown type "${declared}"`);
    return declared as ResourceType;
  }
  return definition?.type;
}

export function valueFromJson(raw: unknown, type: ResourceType | undefined, where: string): Lwm2mValue {
  const bad = (expected: string) => new NodeJsonError(`${where}: expected ${expected}, got ${JSON.stringify(raw)}`);
  switch (type ?? inferType(raw)) {
    case 'string':
      if (typeof raw !== 'string') throw bad('a string');
      return { type: 'string', value: raw };
    case 'corelnk':
      if (typeof raw !== 'string') throw bad('a link-format string');
      return { type: 'corelnk', value: raw };
    case 'integer':
    case 'unsignedInteger': {
      const t = type === 'unsignedInteger' ? 'unsignedInteger' : 'integer';
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) {
        if (t === 'unsignedInteger' && raw < 0) throw bad('an unsigned integer');
        return { type: t, value: raw };
      }
      if (typeof raw === 'string' && /^-?\d+$/.test(raw)) {
        const big = BigInt(raw);
        const value = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
        if (t === 'unsignedInteger' && big < 0n) throw bad('an unsigned integer');
        return { type: t, value };
      }
      throw bad('an integer');
    }
    case 'float':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw bad('a number');
      return { type: 'float', value: raw };
    case 'boolean':
      if (typeof raw !== 'boolean') throw bad('true or false');
      return { type: 'boolean', value: raw };
    case 'opaque':
      if (typeof raw !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw)) throw bad('base64 text');
      return { type: 'opaque', value: Buffer.from(raw, 'base64') };
    case 'time':
      if (typeof raw === 'number' && Number.isFinite(raw)) return { type: 'time', value: Math.trunc(raw) };
      if (typeof raw === 'string' && !Number.isNaN(Date.parse(raw))) return { type: 'time', value: Math.trunc(Date.parse(raw) / 1000) };
      throw bad('seconds since 1970 or an ISO 8601 time');
    case 'objlnk': {
      const match = typeof raw === 'string' ? /^(\d{1,5}):(\d{1,5})$/.exec(raw) : null;
      if (!match) throw bad('an object link "3:0"');
      return { type: 'objlnk', value: { objectId: Number(match[1]), instanceId: Number(match[2]) } };
    }
    case 'none':
      throw new NodeJsonError(`${where}: this resource takes no value`);
  }
}

function inferType(raw: unknown): ResourceType {
  if (typeof raw === 'boolean') return 'boolean';
  if (typeof raw === 'number') return Number.isInteger(raw) ? 'integer' : 'float';
  return 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
