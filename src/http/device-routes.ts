/**
 * REST routes for device management and observation, under /api/clients/{endpoint}/…
 *
 *   GET    …/{path}              Read            (?format=, ?timeout= seconds)
 *   PUT    …/{path}              Write, replace  (body: node JSON)
 *   PATCH  …/{path}              Write, partial update (instances)
 *   POST   …/{object}            Create          (body: {"id"?, "resources": […]})
 *   POST   …/{o}/{i}/{r}         Execute         (body: text arguments, optional)
 *   DELETE …/{o}/{i}             Delete
 *   GET    …/{path}/discover     Discover
 *   PUT    …/{path}/attributes   Write-Attributes (?pmin=&pmax=&gt=&lt=&st=)
 *   POST   …/{path}/observe      Observe;  DELETE …/{path}/observe  Cancel
 *   GET    …/observations        Observations of the client
 *   POST   …/composite/read      Read-Composite  (body: {"paths": ["/3/0/9", …]})
 *   POST   …/composite/observe   Observe-Composite (same body); DELETE …/observations/{id} cancels any observation
 *   PUT    …/composite           Write-Composite (body: {"values": [{"path", "value", "type"?}]})
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Lwm2mRecord } from '../codecs/senml/records.js';
import { FORMAT_NAMES } from '../lwm2m/content-format.js';
import { ATTRIBUTE_NAMES, type DeviceApi, type Lwm2mResponse, type NotificationAttributes, type RequestSettings } from '../lwm2m/device-api.js';
import { Lwm2mRequestError, type Lwm2mErrorKind } from '../lwm2m/errors.js';
import type { ObservationService } from '../lwm2m/observation/observation-service.js';
import type { ModelProvider } from '../model/object-model.js';
import { formatPath, tryParsePath, type Lwm2mPath } from '../model/path.js';
import { instanceFromJson, nodeFromJson, NodeJsonError, nodeToJson, valueFromJson, valueToJson } from './node-json.js';

export interface ApiError {
  error: string;
  code: string;
}

const ERROR_STATUS: Record<Lwm2mErrorKind, number> = {
  not_registered: 404,
  bad_request: 400,
  unsupported_format: 400,
  timeout: 504,
  sleeping: 409,
  reset: 502,
  block_transfer: 502,
  decode_error: 502,
  stopped: 503,
};

/** HTTP status for a device's CoAP answer: its class and detail where HTTP has a match. */
function statusForCoap(code: string): number {
  if (code.startsWith('2.')) return code === '2.01' ? 201 : 200;
  const known: Record<string, number> = { '4.00': 400, '4.01': 401, '4.03': 403, '4.04': 404, '4.05': 405, '4.06': 406, '4.13': 413, '4.15': 415 };
  return known[code] ?? (code.startsWith('4.') ? 400 : 502);
}

export interface DeviceRoutesOptions {
  readonly devices: DeviceApi;
  readonly observations: ObservationService;
  readonly model: ModelProvider;
  readonly logger: Logger;
}

export function registerDeviceRoutes(app: FastifyInstance, options: DeviceRoutesOptions): void {
  const { devices, model } = options;

  // Execute arguments are plain text (LwM2M Core §5.4.2).
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  type Req = { Params: { endpoint: string; '*': string }; Querystring: Record<string, string | undefined> };

  const respond = (reply: FastifyReply, result: Lwm2mResponse, path: Lwm2mPath) => {
    if (!result.success) {
      return reply.code(statusForCoap(result.code)).send({ error: result.diagnostic ?? `device answered ${result.code}`, code: result.code } satisfies ApiError);
    }
    return reply.code(statusForCoap(result.code)).send({
      code: result.code,
      ...(result.contentFormat !== undefined ? { contentFormat: result.contentFormat } : {}),
      ...(result.node ? { content: nodeToJson(result.node, path, model) } : {}),
      ...(result.links ? { links: result.links } : {}),
      ...(result.records ? { values: result.records.map((r) => ({ path: formatPath(r.path), type: r.value.type, value: valueToJson(r.value), ...(r.time !== undefined ? { time: r.time } : {}) })) } : {}),
      ...(result.location ? { location: result.location } : {}),
      ...(result.observationId ? { observationId: result.observationId } : {}),
    });
  };

  const fail = (reply: FastifyReply, error: unknown) => {
    if (error instanceof Lwm2mRequestError) {
      return reply.code(ERROR_STATUS[error.kind]).send({
        error: error.message,
        code: error.kind,
        ...(error.raw ? { raw: error.raw.toString('hex'), contentFormat: error.contentFormat } : {}),
      });
    }
    if (error instanceof NodeJsonError) return reply.code(400).send({ error: error.message, code: 'bad_request' } satisfies ApiError);
    throw error;
  };

  const settingsOf = (endpoint: string, query: Record<string, string | undefined>): RequestSettings => {
    const settings: { format?: number; timeoutMs?: number } = {};
    if (query['format'] !== undefined) {
      const format = FORMAT_NAMES[query['format']] ?? (/^\d+$/.test(query['format']) ? Number(query['format']) : undefined);
      if (format === undefined) throw new Lwm2mRequestError('bad_request', endpoint, `unknown format "${query['format']}" (one of ${Object.keys(FORMAT_NAMES).join(', ')})`);
      settings.format = format;
    }
    if (query['timeout'] !== undefined) {
      const seconds = Number(query['timeout']);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new Lwm2mRequestError('bad_request', endpoint, `timeout must be 0-3600 seconds, got "${query['timeout']}"`);
      settings.timeoutMs = seconds * 1000;
    }
    return settings;
  };

  /** Splits `3/0/discover` into the path and a trailing action word. */
  const target = (endpoint: string, rest: string, actions: readonly string[]): { path: Lwm2mPath; action: string | undefined } => {
    const segments = rest.split('/').filter((s) => s !== '');
    const last = segments.at(-1);
    const action = last !== undefined && actions.includes(last) ? last : undefined;
    const pathText = (action ? segments.slice(0, -1) : segments).join('/');
    const path = tryParsePath(pathText);
    if (path === undefined || path.length === 0) throw new Lwm2mRequestError('bad_request', endpoint, `"/${pathText}" is not an LwM2M object, instance or resource path`);
    return { path, action };
  };

  app.get<Req>('/api/clients/:endpoint/*', async (request, reply) => {
    const { endpoint } = request.params;
    try {
      if (request.params['*'] === 'observations') {
        return options.observations.list(endpoint).map((o) => ({
          id: o.id,
          path: formatPath(o.path),
          ...(o.paths ? { paths: o.paths.map(formatPath) } : {}),
          contentFormat: o.contentFormat,
          createdAt: new Date(o.createdAt).toISOString(),
        }));
      }
      const { path, action } = target(endpoint, request.params['*'], ['discover']);
      const settings = settingsOf(endpoint, request.query);
      if (action === 'discover') return respond(reply, await devices.discover(endpoint, path, settings), path);
      return respond(reply, await devices.read(endpoint, path, settings), path);
    } catch (error) {
      return fail(reply, error);
    }
  });

  app.put<Req>('/api/clients/:endpoint/*', async (request, reply) => {
    const { endpoint } = request.params;
    try {
      if (request.params['*'] === 'composite') return respond(reply, await devices.writeComposite(endpoint, compositeValues(request.body, model), settingsOf(endpoint, request.query)), []);
      const { path, action } = target(endpoint, request.params['*'], ['attributes']);
      const settings = settingsOf(endpoint, request.query);
      if (action === 'attributes') return respond(reply, await devices.writeAttributes(endpoint, path, attributesOf(endpoint, request.query), settings), path);
      return respond(reply, await devices.write(endpoint, path, nodeFromJson(request.body, path, model), settings), path);
    } catch (error) {
      return fail(reply, error);
    }
  });

  app.patch<Req>('/api/clients/:endpoint/*', async (request, reply) => {
    const { endpoint } = request.params;
    try {
      const { path } = target(endpoint, request.params['*'], []);
      return respond(reply, await devices.write(endpoint, path, nodeFromJson(request.body, path, model), { ...settingsOf(endpoint, request.query), partial: true }), path);
    } catch (error) {
      return fail(reply, error);
    }
  });

  app.post<Req>('/api/clients/:endpoint/*', async (request, reply) => {
    const { endpoint } = request.params;
    try {
      if (request.params['*'] === 'composite/read') {
        const paths = compositePaths(request.body);
        return respond(reply, await devices.readComposite(endpoint, paths, settingsOf(endpoint, request.query)), []);
      }
      if (request.params['*'] === 'composite/observe') {
        const paths = compositePaths(request.body);
        return respond(reply, await devices.observeComposite(endpoint, paths, settingsOf(endpoint, request.query)), []);
      }
      const { path, action } = target(endpoint, request.params['*'], ['observe']);
      const settings = settingsOf(endpoint, request.query);
      if (action === 'observe') return respond(reply, await devices.observe(endpoint, path, settings), path);
      if (path.length === 1) {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const id = body['id'];
        if (id !== undefined && (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= 65535)) throw new NodeJsonError('"id" must be an instance id 0-65534');
        const instance = instanceFromJson(body, id ?? 0, path[0], model);
        return respond(reply, await devices.create(endpoint, path, instance.resources, id, settings), path);
      }
      if (path.length === 3) {
        const args = typeof request.body === 'string' ? request.body : '';
        return respond(reply, await devices.execute(endpoint, path, args, settings), path);
      }
      throw new Lwm2mRequestError('bad_request', endpoint, 'POST creates on an object path, executes on a resource path, or observes with /observe', path);
    } catch (error) {
      return fail(reply, error);
    }
  });

  app.delete<Req>('/api/clients/:endpoint/*', async (request, reply) => {
    const { endpoint } = request.params;
    try {
      const byId = /^observations\/([0-9a-f]{2,16})$/.exec(request.params['*']);
      if (byId) {
        const result = await devices.cancelObservationById(endpoint, byId[1] as string, settingsOf(endpoint, request.query));
        if (!result) return reply.code(404).send({ error: `no observation ${byId[1]} of ${endpoint}`, code: 'not_observed' } satisfies ApiError);
        return respond(reply, result, []);
      }
      const { path, action } = target(endpoint, request.params['*'], ['observe']);
      const settings = settingsOf(endpoint, request.query);
      if (action === 'observe') {
        const result = await devices.cancelObservation(endpoint, path, settings);
        if (!result) return reply.code(404).send({ error: `no observation of ${formatPath(path)}`, code: 'not_observed' } satisfies ApiError);
        return respond(reply, result, path);
      }
      return respond(reply, await devices.delete(endpoint, path, settings), path);
    } catch (error) {
      return fail(reply, error);
    }
  });
}

function attributesOf(endpoint: string, query: Record<string, string | undefined>): NotificationAttributes {
  const attributes: Record<string, number | null> = {};
  for (const name of ATTRIBUTE_NAMES) {
    const raw = query[name];
    if (raw === undefined) continue;
    if (raw === '') {
      attributes[name] = null;
      continue;
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Lwm2mRequestError('bad_request', endpoint, `attribute ${name} must be a number, got "${raw}"`);
    attributes[name] = value;
  }
  return attributes;
}

function compositePaths(body: unknown): Lwm2mPath[] {
  const paths = (body as { paths?: unknown } | null)?.paths;
  if (!Array.isArray(paths) || paths.length === 0) throw new NodeJsonError('composite read needs {"paths": ["/3/0/9", …]}');
  return paths.map((p) => {
    const path = typeof p === 'string' ? tryParsePath(p) : undefined;
    if (path === undefined) throw new NodeJsonError(`"${String(p)}" is not an LwM2M path`);
    return path;
  });
}

function compositeValues(body: unknown, model: ModelProvider): Lwm2mRecord[] {
  const values = (body as { values?: unknown } | null)?.values;
  if (!Array.isArray(values) || values.length === 0) throw new NodeJsonError('composite write needs {"values": [{"path": "/3/0/14", "value": …}, …]}');
  return values.map((entry: unknown) => {
    const record = entry as { path?: unknown; value?: unknown; type?: unknown };
    const path = typeof record.path === 'string' ? tryParsePath(record.path) : undefined;
    if (path === undefined || path.length < 3) throw new NodeJsonError(`"${String(record.path)}" is not a resource path`);
    const definitionType = model.getObject(path[0] as number)?.resources.get(path[2] as number)?.type;
    const type = typeof record.type === 'string' ? (record.type as NonNullable<typeof definitionType>) : definitionType;
    return { path, value: valueFromJson(record.value, type, formatPath(path)) };
  });
}
