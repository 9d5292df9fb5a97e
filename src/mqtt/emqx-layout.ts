/**
 * The topic layout and JSON of EMQX's LwM2M gateway (`--mqtt-compat emqx`), so that
 * subscribers and publishers written for EMQX move over unchanged. See
 * docs/mqtt-emqx.md for every message with an example and the differences.
 *
 * Sources (read, not copied):
 *   [doc]     https://docs.emqx.com/en/emqx/latest/gateway/lwm2m.html
 *             (emqx/emqx-docs en_US/gateway/lwm2m.md)
 *   [cmd]     emqx/emqx apps/emqx_gateway_lwm2m/src/emqx_lwm2m_cmd.erl      (request → CoAP, response JSON)
 *   [session] emqx/emqx apps/emqx_gateway_lwm2m/src/emqx_lwm2m_session.erl  (register/update/notify, topics)
 *   [message] emqx/emqx apps/emqx_gateway_lwm2m/src/emqx_lwm2m_message.erl  (content values, TLV paths)
 *   [channel] emqx/emqx apps/emqx_gateway_lwm2m/src/emqx_lwm2m_channel.erl  (deregister, expiry: no message)
 *   [suite]   emqx/emqx apps/emqx_gateway_lwm2m/test/emqx_lwm2m_SUITE.erl    (expected JSON, byte for byte)
 *   [4.x]     emqx/emqx apps/emqx_lwm2m/etc/emqx_lwm2m.conf, emqx/emqx-lwm2m README.md
 *
 * Pure apart from a small memo: EMQX echoes the observe request (reqID, …) in every
 * notification, so the layout remembers the observe commands it parsed until they are
 * cancelled or the registration ends. No I/O, no clock.
 */
import type { Link } from '../codecs/link-format/index.js';
import { formatLinkFormat } from '../codecs/link-format/index.js';
import type { Lwm2mRecord } from '../codecs/senml/records.js';
import { Lwm2mRequestError } from '../lwm2m/errors.js';
import type { Registration } from '../lwm2m/registration/registration.js';
import type { Lwm2mNode, Lwm2mValue, ResourceType } from '../model/node.js';
import type { ModelProvider } from '../model/object-model.js';
import { formatPath, tryParsePath, type Lwm2mPath } from '../model/path.js';
import type { CommandOp, DeviceCommand, OutgoingMessage, ParsedCommand, RegistrationEventName, TopicLayout, ValueSource } from './layout.js';
import { topicMatches } from './topic-filter.js';

/** EMQX `translators`: topics relative to the mountpoint. */
export interface EmqxTranslators {
  readonly command: string;
  readonly response: string;
  readonly notify: string;
  readonly register: string;
  readonly update: string;
}

export interface EmqxLayoutOptions {
  /**
   * EMQX `mountpoint`, prefixed to every topic by plain concatenation. Placeholders:
   * `${endpoint_name}` (also `${clientid}`, `${username}`, and EMQX 4's `%e`, `%c`, `%u`)
   * and `${peerhost}` (`%a`).
   */
  readonly mountpoint?: string;
  readonly translators?: Partial<EmqxTranslators>;
}

/** [doc] Quick Start and emqx_lwm2m_schema.erl: `mountpoint = "lwm2m/${endpoint_name}/"`. */
export const EMQX_DEFAULT_MOUNTPOINT = 'lwm2m/${endpoint_name}/';

/**
 * [4.x] emqx_lwm2m.conf `lwm2m.topics.*` and the [suite] gateway config: register and update
 * both go to `up/resp`. (The 5.x doc example sets `update` to `up/update`; 5.x has no default.)
 */
export const EMQX_DEFAULT_TRANSLATORS: EmqxTranslators = {
  command: 'dn/#',
  response: 'up/resp',
  notify: 'up/notify',
  register: 'up/resp',
  update: 'up/resp',
};

/** [session] `?lwm2m_up_dm_topic`: notifications of object 5 (Firmware Update) go here, not to `notify`. */
const FIRMWARE_NOTIFY_TOPIC = '/v1/up/dm';

type MsgType = 'read' | 'write' | 'execute' | 'create' | 'delete' | 'discover' | 'write-attr' | 'observe' | 'cancel-observe';

/** [cmd] the `msgType`s of `mqtt_to_coap/2`. */
const OPS: Readonly<Record<MsgType, CommandOp>> = {
  read: 'read',
  write: 'write',
  execute: 'execute',
  create: 'create',
  delete: 'delete',
  discover: 'discover',
  'write-attr': 'write-attributes',
  observe: 'observe',
  'cancel-observe': 'cancel',
};

const MSG_TYPES = Object.keys(OPS) as MsgType[];

/** [cmd] `code/1`: CoAP code → the name EMQX puts in `codeMsg`. */
const CODE_MESSAGES: Readonly<Record<string, string>> = {
  '2.01': 'created',
  '2.02': 'deleted',
  '2.03': 'valid',
  '2.04': 'changed',
  '2.05': 'content',
  '2.31': 'continue',
  '4.00': 'bad_request',
  '4.01': 'unauthorized',
  '4.02': 'bad_option',
  '4.03': 'forbidden',
  '4.04': 'not_found',
  '4.05': 'method_not_allowed',
  '4.06': 'not_acceptable',
  '4.08': 'request_entity_incomplete',
  '4.12': 'precondition_failed',
  '4.13': 'request_entity_too_large',
  '4.15': 'unsupported_content_format',
  '5.00': 'internal_server_error',
  '5.01': 'not_implemented',
  '5.02': 'bad_gateway',
  '5.03': 'service_unavailable',
  '5.04': 'gateway_timeout',
  '5.05': 'proxying_not_supported',
  // Not in EMQX's table (its CoAP stack does not know them): RFC 7252 / 8132 / 8516 names, same spelling.
  '4.09': 'conflict',
  '4.22': 'unprocessable_entity',
  '4.29': 'too_many_requests',
};

/** [doc] Write: `"type"` can be Time, String, Integer, Float, Boolean, Opaque, Objlnk. */
const VALUE_TYPES: Readonly<Record<string, ResourceType>> = {
  time: 'time',
  string: 'string',
  integer: 'integer',
  float: 'float',
  boolean: 'boolean',
  opaque: 'opaque',
  objlnk: 'objlnk',
};

/** [cmd] `valid_attr_keys/0`: the attributes write-attr passes on; others are ignored. */
const ATTRIBUTE_KEYS = ['pmin', 'pmax', 'gt', 'lt', 'st'] as const;

/** emqx_utils_redact:is_sensitive_key/1: registration parameters EMQX drops before publishing. */
const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  'access_key_id', 'access_key_secret', 'access_token', 'account_key', 'api_key', 'api_secret', 'aws_secret_access_key',
  'bind_password', 'client_jwks', 'id_token', 'jwk', 'jwt', 'mfa_token', 'new_pwd', 'old_pwd', 'passcode', 'passwd',
  'password', 'private_key', 'private_key_password', 'refresh_token', 'secret', 'secret_access_key', 'secret_key',
  'security_token', 'sentinel_password', 'service_account_json', 'setup_token', 'sp_private_key', 'token', 'totp_code',
  'verify_token',
]);

type JsonObject = Record<string, unknown>;

/** What a reply needs from the request: kept in `DeviceCommand.context`. */
type EmqxContext = {
  readonly msgType: string;
  /** The request as received: EMQX answers with it, `data` replaced ([cmd] `make_base_response/1`). */
  readonly request: JsonObject;
  /** `data.path`, else `data.basePath`, without its query ([cmd] `extract_path/1`). */
  readonly reqPath: string | undefined;
  /** The mountpoint as the command topic spelled it. */
  readonly mount: string;
};

interface ObserveState {
  /** The observe request, when it came through this layout. */
  readonly context?: EmqxContext;
  /** The hub reports the observe response as a first notification; EMQX publishes it only as the reply. */
  awaitingResponse: boolean;
  seq: number;
}

class CommandError extends Error {}

// ---------------------------------------------------------------------------------------------
// Mountpoint

type Placeholder = 'endpoint' | 'peerhost';

const PLACEHOLDERS: Readonly<Record<string, Placeholder>> = {
  '${endpoint_name}': 'endpoint',
  '${clientid}': 'endpoint',
  '${username}': 'endpoint',
  '${peerhost}': 'peerhost',
  '%e': 'endpoint',
  '%c': 'endpoint',
  '%u': 'endpoint',
  '%a': 'peerhost',
};

type MountToken = string | { readonly placeholder: Placeholder };

function tokenizeMountpoint(mountpoint: string): MountToken[] {
  const tokens: MountToken[] = [];
  let last = 0;
  for (const match of mountpoint.matchAll(/\$\{[^}]*\}|%[a-z]/g)) {
    const placeholder = PLACEHOLDERS[match[0]];
    if (placeholder === undefined && match[0].startsWith('%')) continue; // EMQX 4 leaves unknown %x as it is
    if (placeholder === undefined) throw new Error(`mountpoint ${JSON.stringify(mountpoint)}: placeholder ${match[0]} is not supported (use \${endpoint_name} or \${peerhost})`);
    if (match.index > last) tokens.push(mountpoint.slice(last, match.index));
    tokens.push({ placeholder });
    last = match.index + match[0].length;
  }
  if (last < mountpoint.length) tokens.push(mountpoint.slice(last));
  if (!tokens.some((t) => typeof t !== 'string' && t.placeholder === 'endpoint')) {
    throw new Error(`mountpoint ${JSON.stringify(mountpoint)} must name the endpoint (\${endpoint_name})`);
  }
  return tokens;
}


// ---------------------------------------------------------------------------------------------
// JSON

/**
 * JSON with object keys in sorted order, as EMQX writes its maps (Erlang iterates maps of up to
 * 32 keys in key order), and 64-bit integers (bigint) as plain numbers, as Erlang does.
 */
export function encodeEmqxJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
    case 'string':
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((item) => encodeEmqxJson(item)).join(',')}]`;
      return `{${Object.keys(value)
        .filter((key) => (value as JsonObject)[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${encodeEmqxJson((value as JsonObject)[key])}`)
        .join(',')}}`;
    default:
      return 'null';
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Values and content

/**
 * [message] `value/3`: String and Objlnk (`"1:2"`) as text, numbers as numbers, Time as seconds,
 * Opaque as base64. Values without a type (no object definition) are base64 too.
 */
function emqxValue(value: Lwm2mValue): unknown {
  switch (value.type) {
    case 'opaque':
    case 'unknown':
      return Buffer.from(value.value).toString('base64');
    case 'objlnk':
      return `${value.value.objectId}:${value.value.instanceId}`;
    case 'none':
      return null;
    default:
      return value.value;
  }
}

interface ContentItem {
  path: string;
  value: unknown;
  time?: number;
}

function leaves(node: Lwm2mNode, path: Lwm2mPath): { ids: number[]; value: Lwm2mValue }[] {
  const [objectId = 0, instanceId = 0, resourceId = 0] = path;
  switch (node.kind) {
    case 'object':
      return node.instances.flatMap((instance) => leaves(instance, [node.id, instance.id]));
    case 'instance':
      return node.resources.flatMap((resource) => leaves(resource, [objectId, node.id]));
    case 'resource':
      return [{ ids: [objectId, instanceId, node.id], value: node.value }];
    case 'multipleResource':
      return node.instances.map((instance) => ({ ids: [objectId, instanceId, node.id, instance.id], value: instance.value }));
    case 'resourceInstance':
      return [{ ids: [objectId, instanceId, resourceId, node.id], value: node.value }];
  }
}

/**
 * [message] `tlv_to_json/2`: `[{"path": "/3/0/0", "value": …}, …]`. A TLV payload of several
 * object instances comes out without the leading slash (`"3/0/0"`, `tlv_level1/4`; [suite]
 * case16_read_tlv_object_instances); the layout does the same when the answer was TLV or of
 * unknown format (notifications), so that consumers see what EMQX gave them.
 */
function contentOf(node: Lwm2mNode, path: Lwm2mPath, tlv: boolean): ContentItem[] {
  const slashless = tlv && node.kind === 'object' && node.instances.length > 1;
  return leaves(node, path).map(({ ids, value }) => ({ path: (slashless ? '' : '/') + ids.join('/'), value: emqxValue(value) }));
}

function isTlv(contentFormat: number | undefined): boolean {
  return contentFormat === undefined || contentFormat === 11542 || contentFormat === 1542;
}

/** [cmd] `discover_resp_to_mqtt/3`: the payload split at commas, so an empty answer is `[""]`. */
function discoverContent(links: readonly Link[]): string[] {
  return links.length === 0 ? [''] : links.map((link) => formatLinkFormat([link]));
}

// ---------------------------------------------------------------------------------------------
// Commands

/** `/3/0/1?x=y` → `/3/0/1` ([cmd] `drop_query/1`). */
function dropQuery(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function pathField(data: JsonObject, field: 'path' | 'basePath'): Lwm2mPath {
  const raw = data[field];
  if (typeof raw !== 'string') throw new CommandError(`"data.${field}" must be an LwM2M path such as "/3/0/1", got ${JSON.stringify(raw)}`);
  const path = tryParsePath(dropQuery(raw));
  if (path === undefined) throw new CommandError(`"data.${field}" is not an LwM2M path: ${JSON.stringify(raw)}`);
  return path;
}

/** `"6/0"`, `"/6/0"` → [6, 0] ([message] `split_path/1` skips empty segments). */
function relativeIds(raw: unknown, where: string): number[] {
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new CommandError(`${where}: "path" must be a relative path such as "1" or "6/0"`);
  const ids = String(raw)
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (/^\d{1,5}$/.test(s) ? Number(s) : NaN));
  if (ids.length === 0 || ids.some((id) => Number.isNaN(id) || id > 65535)) throw new CommandError(`${where}: "path" ${JSON.stringify(raw)} is not a relative LwM2M path`);
  return ids;
}

interface TypedValue {
  readonly type: ResourceType;
  /** A value src/http/node-json.ts reads for `type`. */
  readonly value: unknown;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * One `{"type": …, "value": …}` of a write or create ([message] `value_ex/2`): numbers may come as
 * JSON numbers or strings (`"12345"`), booleans as `"true"`/`"false"` (or JSON booleans), Opaque as
 * base64, Objlnk as `"1:2"`. With `"encoding": "hex"` ([suite] case27_write_hex_encoding) String and
 * Opaque values are hex.
 */
function typedValue(entry: JsonObject, hex: boolean, where: string): TypedValue {
  const typeName = entry['type'];
  const type = typeof typeName === 'string' ? VALUE_TYPES[typeName.toLowerCase()] : undefined;
  if (type === undefined) throw new CommandError(`${where}: "type" must be one of Time, String, Integer, Float, Boolean, Opaque, Objlnk, got ${JSON.stringify(typeName)}`);
  if (!('value' in entry)) throw new CommandError(`${where}: "value" is missing`);
  const raw = entry['value'];
  const bad = (expected: string) => new CommandError(`${where}: a ${typeName as string} value must be ${expected}, got ${JSON.stringify(raw)}`);
  if (hex && type !== 'string' && type !== 'opaque') throw new CommandError(`${where}: "encoding": "hex" applies to String and Opaque values`);
  switch (type) {
    case 'string':
      if (typeof raw !== 'string') throw bad('a string');
      if (!hex) return { type, value: raw };
      if (!HEX.test(raw)) throw bad('hex digits');
      return { type, value: Buffer.from(raw, 'hex').toString('utf8') };
    case 'opaque':
      if (typeof raw !== 'string') throw bad(hex ? 'hex digits' : 'base64 text');
      if (!hex) return { type, value: raw };
      if (!HEX.test(raw)) throw bad('hex digits');
      return { type, value: Buffer.from(raw, 'hex').toString('base64') };
    case 'integer':
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) return { type, value: raw };
      if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return { type, value: raw };
      throw bad('a whole number');
    case 'time':
      if (typeof raw === 'number' && Number.isInteger(raw)) return { type, value: raw };
      if (typeof raw === 'string' && /^\d+$/.test(raw)) return { type, value: Number(raw) };
      throw bad('seconds since 1970');
    case 'float': {
      const number = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof number !== 'number' || !Number.isFinite(number)) throw bad('a number');
      return { type, value: number };
    }
    case 'boolean':
      if (raw === true || raw === 'true') return { type, value: true };
      if (raw === false || raw === 'false') return { type, value: false };
      throw bad('"true" or "false"');
    default:
      if (typeof raw !== 'string' || !/^\d{1,5}:\d{1,5}$/.test(raw)) throw bad('an object link "1:2"');
      return { type, value: raw };
  }
}

function contentEntries(data: JsonObject): JsonObject[] {
  const content = data['content'];
  if (!Array.isArray(content)) throw new CommandError('"data.content" must be a list of {"path", "type", "value"}');
  return content.map((entry, index) => {
    if (!isObject(entry)) throw new CommandError(`data.content[${index}] must be an object`);
    return entry;
  });
}

type ResourceJson = { id: number; type: ResourceType; value: unknown } | { id: number; type: ResourceType; values: Record<string, unknown> };

/** Entries relative to an object instance (`"13"`, `"6/0"`) → node JSON resources; a later entry replaces an earlier one. */
function instanceResources(entries: readonly { ids: number[]; typed: TypedValue; where: string }[]): ResourceJson[] {
  const resources = new Map<number, ResourceJson>();
  for (const { ids, typed, where } of entries) {
    const [resourceId, instanceId, ...rest] = ids as [number, number | undefined, ...number[]];
    if (rest.length > 0) throw new CommandError(`${where}: "path" goes deeper than a resource instance`);
    if (instanceId === undefined) {
      resources.set(resourceId, { id: resourceId, type: typed.type, value: typed.value });
      continue;
    }
    const existing = resources.get(resourceId);
    if (existing && 'values' in existing) {
      if (existing.type !== typed.type) throw new CommandError(`${where}: the instances of resource ${resourceId} must all be of one type`);
      existing.values[String(instanceId)] = typed.value;
    } else {
      resources.set(resourceId, { id: resourceId, type: typed.type, values: { [String(instanceId)]: typed.value } });
    }
  }
  return [...resources.values()];
}

interface ParsedData {
  readonly path: Lwm2mPath;
  readonly value?: unknown;
  readonly attributes?: Record<string, number>;
  readonly partial?: boolean;
}

/** [cmd] `mqtt_to_coap/2`, one clause per msgType. */
function parseData(msgType: MsgType, data: JsonObject, hex: boolean): ParsedData {
  switch (msgType) {
    case 'read':
    case 'discover':
    case 'observe':
    case 'cancel-observe':
    case 'delete':
      return { path: pathField(data, 'path') };
    case 'execute': {
      // [cmd]: a missing or "undefined" argument is an empty payload.
      const args = data['args'];
      const value = args === undefined || args === null || args === 'undefined' ? '' : typeof args === 'string' || typeof args === 'number' ? String(args) : undefined;
      if (value === undefined) throw new CommandError('"data.args" must be a string such as "0=\'v\',1"');
      return { path: pathField(data, 'path'), value };
    }
    case 'write-attr': {
      const attributes: Record<string, number> = {};
      for (const key of ATTRIBUTE_KEYS) {
        const raw = data[key];
        if (raw === undefined || raw === null) continue; // [cmd] `attr_query_list/3` skips null
        const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new CommandError(`"data.${key}" must be a number, got ${JSON.stringify(raw)}`);
        attributes[key] = value;
      }
      return { path: pathField(data, 'path'), attributes };
    }
    case 'write':
      return parseWrite(data, hex);
    case 'create':
      return parseCreate(data, hex);
  }
}

/** [cmd] `single_write_request/2` (no basePath) and `batch_write_request/3` (POST on an instance, PUT on a resource). */
function parseWrite(data: JsonObject, hex: boolean): ParsedData {
  const basePath = data['basePath'];
  if (basePath === undefined || basePath === '/') {
    const path = pathField(data, 'path');
    if (path.length < 3) throw new CommandError('a write without "basePath" needs a resource path in "data.path"; write several resources with "basePath" and "content"');
    const typed = typedValue(data, hex, 'data');
    return { path, value: { type: typed.type, value: typed.value } };
  }
  const path = pathField(data, 'basePath');
  const entries = contentEntries(data);
  if (path.length === 2) {
    const resources = instanceResources(entries.map((entry, i) => ({ ids: relativeIds(entry['path'], `data.content[${i}]`), typed: typedValue(entry, hex, `data.content[${i}]`), where: `data.content[${i}]` })));
    return { path, value: { resources }, partial: true };
  }
  if (path.length === 3) {
    if (entries.length === 0) throw new CommandError('"data.content" is empty');
    const [first] = entries as [JsonObject, ...JsonObject[]];
    if (entries.length === 1 && first['path'] === undefined) {
      const typed = typedValue(first, hex, 'data.content[0]');
      return { path, value: { type: typed.type, value: typed.value } };
    }
    // Resource instances of the resource at basePath.
    const values: Record<string, unknown> = {};
    let type: ResourceType | undefined;
    entries.forEach((entry, i) => {
      const where = `data.content[${i}]`;
      const ids = relativeIds(entry['path'], where);
      if (ids.length !== 1) throw new CommandError(`${where}: "path" must be a resource instance id under ${formatPath(path)}`);
      const typed = typedValue(entry, hex, where);
      if (type !== undefined && type !== typed.type) throw new CommandError(`${where}: the instances of ${formatPath(path)} must all be of one type`);
      type = typed.type;
      values[String(ids[0])] = typed.value;
    });
    return { path, value: { type, values } };
  }
  throw new CommandError('"data.basePath" of a write must be an object instance ("/3/0") or a resource ("/3/0/13")');
}

/** [cmd] create: `basePath` names the object, `content` paths are `instance/resource[/instance]`. */
function parseCreate(data: JsonObject, hex: boolean): ParsedData {
  const path = pathField(data, 'basePath');
  if (path.length !== 1) throw new CommandError('"data.basePath" of a create must be an object ("/5")');
  const entries = contentEntries(data).map((entry, i) => {
    const where = `data.content[${i}]`;
    const ids = relativeIds(entry['path'], where);
    if (ids.length < 2) throw new CommandError(`${where}: "path" must be "instance/resource", such as "0/1"`);
    return { instanceId: ids[0] as number, ids: ids.slice(1), typed: typedValue(entry, hex, where), where };
  });
  const instances = new Set(entries.map((e) => e.instanceId));
  if (instances.size > 1) throw new CommandError(`a create makes one object instance here; "data.content" names instances ${[...instances].join(', ')}`);
  const [instanceId] = instances;
  return { path, value: { ...(instanceId !== undefined ? { id: instanceId } : {}), resources: instanceResources(entries) } };
}

// ---------------------------------------------------------------------------------------------
// The layout

/** The layout, whose `values` also takes the CoAP Observe number EMQX publishes as `seqNum`. */
export interface EmqxTopicLayout extends TopicLayout {
  values(
    registration: Registration,
    source: ValueSource,
    path: Lwm2mPath,
    node: Lwm2mNode,
    time: number,
    model: ModelProvider,
    observationId?: string,
    /** The notification's Observe option; without it, seqNum counts the notifications of the observation. */
    sequence?: number,
  ): OutgoingMessage[];
}

export function createEmqxLayout(options: EmqxLayoutOptions = {}): EmqxTopicLayout {
  const mountpoint = options.mountpoint ?? EMQX_DEFAULT_MOUNTPOINT;
  const translators: EmqxTranslators = { ...EMQX_DEFAULT_TRANSLATORS, ...options.translators };
  const tokens = tokenizeMountpoint(mountpoint);
  const mountPattern = new RegExp(`^${tokens.map((t) => (typeof t === 'string' ? t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '([^/]*)')).join('')}`);

  const observes = new Map<string, ObserveState>();
  /** The bridge answers an unparsable command right after parseCommand, without its context. */
  let lastFailure: { endpoint: string; id: string | undefined; mount: string; context?: EmqxContext } | undefined;

  const render = (values: Record<Placeholder, string>) => tokens.map((t) => (typeof t === 'string' ? t : values[t.placeholder])).join('');
  const mountOf = (registration: Registration) => render({ endpoint: registration.endpoint, peerhost: registration.address });
  const observeKey = (endpoint: string, path: Lwm2mPath) => `${endpoint}\u0000${formatPath(path)}`;
  const forgetEndpoint = (endpoint: string) => {
    for (const key of observes.keys()) if (key.startsWith(`${endpoint}\u0000`)) observes.delete(key);
  };
  const message = (topic: string, payload: unknown): OutgoingMessage => ({ topic, payload: encodeEmqxJson(payload), retain: false });

  /** `lwm2m/ep1/dn/dm` → endpoint `ep1` and the mountpoint as spelled (`lwm2m/ep1/`). */
  const matchCommandTopic = (topic: string): { endpoint: string; mount: string } | undefined => {
    const match = mountPattern.exec(topic);
    if (!match) return undefined;
    const rest = topic.slice(match[0].length);
    if (!topicMatches(translators.command, rest)) return undefined;
    let endpoint: string | undefined;
    let group = 1;
    for (const t of tokens) {
      if (typeof t === 'string') continue;
      const value = match[group++] ?? '';
      if (t.placeholder !== 'endpoint') continue;
      if (value === '' || (endpoint !== undefined && endpoint !== value)) return undefined;
      endpoint = value;
    }
    return endpoint === undefined ? undefined : { endpoint, mount: match[0] };
  };

  /** `{"reqPath", "code", "codeMsg"[, "content"]}` under the request's other fields ([cmd] `make_data_response`). */
  const response = (context: EmqxContext, code: string, content?: unknown): JsonObject => ({
    ...context.request,
    data: {
      ...(context.reqPath !== undefined ? { reqPath: context.reqPath } : {}),
      code,
      codeMsg: CODE_MESSAGES[code] ?? code,
      ...(content !== undefined ? { content } : {}),
    },
  });

  const notifyMessages = (registration: Registration, path: Lwm2mPath, items: ContentItem[], state: ObserveState | undefined, seq: number | undefined): OutgoingMessage[] => {
    const context = state?.context;
    const payload = {
      ...context?.request,
      msgType: 'notify',
      ...(seq !== undefined ? { seqNum: seq } : {}),
      data: { reqPath: context?.reqPath ?? formatPath(path), code: '2.05', codeMsg: 'content', content: items },
    };
    // [session] handle_coap_response/3: notifications under /5 (firmware update) go to /v1/up/dm.
    const suffix = path[0] === 5 ? FIRMWARE_NOTIFY_TOPIC : translators.notify;
    return [message(`${context?.mount ?? mountOf(registration)}${suffix}`, payload)];
  };

  /** LwM2M 1.1 Send has no EMQX equivalent (EMQX answers 4.04 to POST /dp): one notify-like message per value. */
  const sendMessages = (registration: Registration, records: readonly Lwm2mRecord[]): OutgoingMessage[] =>
    records
      .filter((record) => record.path.length >= 3 && record.value.type !== 'none')
      .map((record) =>
        message(`${mountOf(registration)}${translators.notify}`, {
          msgType: 'notify',
          data: {
            reqPath: formatPath(record.path),
            code: '2.05',
            codeMsg: 'content',
            content: [{ path: formatPath(record.path), value: emqxValue(record.value), ...(record.time !== undefined ? { time: record.time } : {}) }],
          },
        }),
      );

  return {
    commandFilters() {
      // Every mountpoint level with a placeholder becomes `+`: `lwm2m/${endpoint_name}/` → `lwm2m/+/`.
      const levels = render({ endpoint: '\u0000', peerhost: '\u0000' }).split('/');
      return [levels.map((level) => (level.includes('\u0000') ? '+' : level)).join('/') + translators.command];
    },

    parseCommand(topic, payload): ParsedCommand {
      lastFailure = undefined;
      const where = matchCommandTopic(topic);
      if (!where) return { ok: false, endpoint: undefined, id: undefined, error: `not an EMQX command topic: ${topic}` };
      const { endpoint, mount } = where;
      let request: unknown;
      try {
        request = JSON.parse(payload.toString('utf8'));
      } catch (error) {
        lastFailure = { endpoint, id: undefined, mount };
        return { ok: false, endpoint, id: undefined, error: `the command is not JSON: ${(error as Error).message}` };
      }
      if (!isObject(request)) {
        lastFailure = { endpoint, id: undefined, mount };
        return { ok: false, endpoint, id: undefined, error: 'the command must be a JSON object {"reqID", "msgType", "data"}' };
      }
      // [doc] `reqID`; the [suite] uses `requestID` (echoed like any other field).
      const rawId = request['reqID'] ?? request['requestID'];
      const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : undefined;
      const msgType = request['msgType'];
      const data = request['data'];
      // [cmd] extract_path/1: `path`, else `basePath`; an unsupported message keeps its own `reqPath` ([suite] case146).
      const rawPath = isObject(data) ? [data['path'], data['basePath'], data['reqPath']].find((p) => typeof p === 'string') : undefined;
      const context: EmqxContext = {
        msgType: typeof msgType === 'string' ? msgType : '',
        request,
        reqPath: typeof rawPath === 'string' ? dropQuery(rawPath) : undefined,
        mount,
      };
      const fail = (error: string): ParsedCommand => {
        lastFailure = { endpoint, id, mount, context };
        return { ok: false, endpoint, id, error, context };
      };
      if (typeof msgType !== 'string' || !MSG_TYPES.includes(msgType as MsgType)) {
        return fail(`unknown msgType ${JSON.stringify(msgType)}; one of ${MSG_TYPES.join(', ')}`);
      }
      if (!isObject(data)) return fail('"data" must be a JSON object');
      let parsed: ParsedData;
      try {
        parsed = parseData(msgType as MsgType, data, request['encoding'] === 'hex');
      } catch (error) {
        if (error instanceof CommandError) return fail(error.message);
        throw error;
      }
      if (msgType === 'observe') {
        observes.set(observeKey(endpoint, parsed.path), { context, awaitingResponse: true, seq: 0 });
      }
      const command: DeviceCommand = {
        id,
        op: OPS[msgType as MsgType],
        path: formatPath(parsed.path),
        ...(parsed.value !== undefined ? { value: parsed.value } : {}),
        ...(parsed.attributes !== undefined ? { attributes: parsed.attributes } : {}),
        ...(parsed.partial ? { partial: true } : {}),
        context,
      };
      return { ok: true, endpoint, command };
    },

    reply(endpoint, command, id, outcome, _model) {
      const failed = !command && lastFailure?.endpoint === endpoint && lastFailure.id === id ? lastFailure : undefined;
      lastFailure = undefined;
      const context = (command?.context as EmqxContext | undefined) ?? failed?.context;
      const topic = `${context?.mount ?? failed?.mount ?? render({ endpoint, peerhost: '' })}${translators.response}`;
      if (!context) {
        // Not even a JSON object: EMQX drops such a message without a word ([suite] case25_write_invalid_json).
        const error = outcome.ok ? undefined : typeof outcome.error === 'string' ? outcome.error : outcome.error.message;
        return message(topic, { ...(id !== undefined ? { reqID: id } : {}), data: { code: '4.00', codeMsg: 'bad_request' }, error });
      }
      const path = command ? tryParsePath(command.path) : undefined;
      const state = path !== undefined ? observes.get(observeKey(endpoint, path)) : undefined;

      if (!outcome.ok) {
        if (command?.op === 'observe' && path !== undefined && state?.context === context) observes.delete(observeKey(endpoint, path));
        const { error } = outcome;
        if (error instanceof Lwm2mRequestError) {
          // [session] handle_ack_failure/4: no answer (or a Reset) → the request itself, msgType coap_timeout / coap_reset.
          if (error.kind === 'reset') return message(topic, { ...context.request, msgType: 'coap_reset' });
          if (error.kind === 'timeout' || error.kind === 'sleeping' || error.kind === 'not_registered' || error.kind === 'stopped') {
            return message(topic, { ...context.request, msgType: 'coap_timeout' });
          }
        }
        // [cmd] read_resp_to_mqtt/4: an answer EMQX cannot decode, or a request it cannot build, is bad_request.
        const code = /^[245]\.\d\d$/.test(outcome.code) ? outcome.code : outcome.code === 'internal' ? '5.00' : '4.00';
        return message(topic, response(context, code));
      }

      const { response: answer } = outcome;
      let code = answer.code;
      // [cmd] write_resp_to_mqtt/3: a write answered 2.05 with a payload counts as changed.
      if (command?.op === 'write' && code === '2.05') code = '2.04';
      let content: unknown;
      if (answer.success && command && path !== undefined) {
        if ((command.op === 'read' || command.op === 'observe' || command.op === 'cancel') && answer.node) content = contentOf(answer.node, path, isTlv(answer.contentFormat));
        if (command.op === 'discover' && answer.links) content = discoverContent(answer.links);
      }
      if (command?.op === 'observe' && path !== undefined) {
        if (answer.success) observes.set(observeKey(endpoint, path), { context, awaitingResponse: false, seq: state?.context === context ? state.seq : 0 });
        else if (state?.context === context) observes.delete(observeKey(endpoint, path));
      }
      if (command?.op === 'cancel' && path !== undefined) observes.delete(observeKey(endpoint, path));
      return message(topic, response(context, code, content));
    },

    registrationEvent(name: RegistrationEventName, registration, _time) {
      if (name === 'registered' || name === 'deregistered' || name === 'expired') forgetEndpoint(registration.endpoint);
      // [channel]: deregistration and expiry close the session and publish nothing; EMQX has no awake/sleeping message.
      if (name !== 'registered' && name !== 'updated') return [];
      const msgType = name === 'registered' ? 'register' : 'update';
      const topic = `${mountOf(registration)}${name === 'registered' ? translators.register : translators.update}`;
      return [message(topic, { msgType, data: registrationData(registration) })];
    },

    values(registration, source, path, node, _time, _model, _observationId, sequence) {
      if (source === 'read') return []; // the read reply carries the values
      if (source === 'send') return sendMessages(registration, leaves(node, path).map(({ ids, value }) => ({ path: ids as unknown as Lwm2mPath, value })));
      const key = observeKey(registration.endpoint, path);
      let state = observes.get(key);
      if (state?.awaitingResponse) {
        // The observe response itself: EMQX publishes it as the reply on the response topic only.
        state.awaitingResponse = false;
        return [];
      }
      if (!state) {
        state = { awaitingResponse: false, seq: 0 };
        observes.set(key, state);
      }
      // EMQX publishes the CoAP Observe option as seqNum; without it from the hub, a count per observation.
      state.seq = sequence ?? state.seq + 1;
      return notifyMessages(registration, path, contentOf(node, path, true), state, state.seq);
    },

    sent(registration, records, _time, _model) {
      return sendMessages(registration, records);
    },
  };
}

/**
 * [session] `append_object_list/2`: the Register query parameters as the client sent them (minus
 * sensitive ones), `lt` as a number, plus `alternatePath` and `objectList` (links without their
 * attributes, relative to the alternate path) when the payload listed objects. [suite]
 * case01_register_report: `{"alternatePath":"/","ep":…,"lt":345,"lwm2m":"1","objectList":["/1",…]}`.
 */
function registrationData(registration: Registration): JsonObject {
  const data: JsonObject = {};
  for (const [key, value] of Object.entries(registration.additionalAttributes)) if (!SENSITIVE_KEYS.has(key)) data[key] = value;
  data['ep'] = registration.endpoint;
  data['lt'] = registration.lifetime;
  data['lwm2m'] = registration.lwm2mVersion;
  // LwM2M 1.0 writes queue mode into the binding (`UQ`), which is what EMQX checks (`is_qmode/1`).
  data['b'] = registration.binding + (registration.queueMode ? 'Q' : '');
  if (registration.smsNumber !== undefined) data['sms'] = registration.smsNumber;
  if (registration.objectLinks.length > 0 || registration.rootPath !== '/') {
    data['alternatePath'] = registration.rootPath;
    data['objectList'] = registration.objectLinks.map((link) => formatPath(link.path));
  }
  return data;
}
