/**
 * The server side of the LwM2M Device Management and Information Reporting
 * interfaces (Core §6.3, §6.4; Transport §6.4): one typed entry point used by
 * REST, MQTT and tests. Requests go to the registration's address and port from
 * the listening socket, through queue mode when the client sleeps.
 */
import type { Logger } from 'pino';
import { formatCode, isSuccessCode, Method } from '../coap/codes.js';
import { CoapBlockError, CoapResetError, CoapTimeoutError, type OutgoingRequest, type ReceivedResponse } from '../coap/endpoint.js';
import { getStringOptions, getUintOption, OptionNumber, uintOption, type CoapOption } from '../coap/options.js';
import type { Peer } from '../coap/peer.js';
import { ContentFormat, EncodeError } from '../codecs/codec.js';
import { parseLinkFormat, type Link } from '../codecs/link-format/index.js';
import type { CodecRegistry } from '../codecs/registry.js';
import { decodeSenmlRecords, encodeSenmlPaths, encodeSenmlRecords, type Lwm2mRecord, type SenmlContentFormat } from '../codecs/senml/records.js';
import type { EventBus } from '../events.js';
import type { Lwm2mNode, ObjectInstanceNode, ResourceNode } from '../model/node.js';
import type { ModelProvider } from '../model/object-model.js';
import { formatPath, tryParsePath, type Lwm2mPath } from '../model/path.js';
import type { RegistrationStore } from '../store/registration-store.js';
import { isTreeFormat, preferredFormat } from './content-format.js';
import { Lwm2mRequestError } from './errors.js';
import { takeInOrder, type Observation, type ObservationService } from './observation/observation-service.js';
import type { PresenceService } from './queue/presence-service.js';
import { registrationPeer, type Registration } from './registration/registration.js';
import { defaultFormatFor } from './response-format.js';

/** What the LwM2M layer needs from CoAP: send a request from the listening socket. */
export interface CoapRequester {
  request(peer: Peer, request: OutgoingRequest, options?: { timeoutMs?: number }): Promise<ReceivedResponse>;
  newToken(peer: Peer): Buffer;
}

export interface Lwm2mResponse {
  /** CoAP response code, `2.05`. */
  readonly code: string;
  readonly success: boolean;
  readonly contentFormat?: number;
  readonly node?: Lwm2mNode;
  /** Discover answers. */
  readonly links?: readonly Link[];
  /** Composite read answers. */
  readonly records?: readonly Lwm2mRecord[];
  /** Create answers: the new instance's path. */
  readonly location?: string;
  /** The diagnostic payload of an error response. */
  readonly diagnostic?: string;
  /** Observe answers. */
  readonly observationId?: string;
}

export interface RequestSettings {
  /** Force a content format instead of negotiating one. */
  readonly format?: number;
  readonly timeoutMs?: number;
}

/** Notification attributes (LwM2M Core §5.1.2); `null` removes one. */
export interface NotificationAttributes {
  readonly pmin?: number | null;
  readonly pmax?: number | null;
  readonly gt?: number | null;
  readonly lt?: number | null;
  readonly st?: number | null;
  readonly epmin?: number | null;
  readonly epmax?: number | null;
}

export const ATTRIBUTE_NAMES = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax'] as const;

export interface DeviceApiOptions {
  readonly coap: CoapRequester;
  readonly store: RegistrationStore;
  readonly codecs: CodecRegistry;
  readonly model: ModelProvider;
  readonly observations: ObservationService;
  readonly presence: PresenceService;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class DeviceApi {
  /** The tree format each endpoint last answered with: old clients answer 1542/1543 whatever we ask. */
  private readonly lastFormat = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: DeviceApiOptions) {
    this.now = options.now ?? Date.now;
    options.events.on('registered', ({ registration }) => this.lastFormat.delete(registration.endpoint));
  }

  /** LwM2M Core §6.3.1 Read. */
  async read(endpoint: string, path: Lwm2mPath, settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const registration = await this.registration(endpoint);
    const accept = settings.format ?? this.formatFor(registration);
    const response = await this.send(registration, path, { method: Method.GET, options: [uintOption(OptionNumber.ACCEPT, accept)] }, settings);
    const result = this.withContent(registration, path, response, accept);
    if (result.node) this.options.events.emit('read', { registration, path, node: result.node, time: this.now() });
    return result;
  }

  /** LwM2M Core §6.3.3 Write: replace (PUT) or partial update (POST, instances only). */
  async write(endpoint: string, path: Lwm2mPath, node: Lwm2mNode, settings: RequestSettings & { partial?: boolean } = {}): Promise<Lwm2mResponse> {
    if (path.length < 2) throw new Lwm2mRequestError('bad_request', endpoint, 'write needs an object instance, resource or resource instance path', path);
    const registration = await this.registration(endpoint);
    const format = settings.format ?? this.formatFor(registration);
    const payload = this.encode(endpoint, format, node, path);
    const response = await this.send(
      registration,
      path,
      { method: settings.partial ? Method.POST : Method.PUT, options: [uintOption(OptionNumber.CONTENT_FORMAT, format)], payload },
      settings,
    );
    return this.plain(response);
  }

  /** LwM2M Core §6.3.5 Execute, with optional arguments (`0='v',1`). */
  async execute(endpoint: string, path: Lwm2mPath, args = '', settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    if (path.length !== 3) throw new Lwm2mRequestError('bad_request', endpoint, 'execute needs a resource path', path);
    const registration = await this.registration(endpoint);
    const request: OutgoingRequest =
      args === ''
        ? { method: Method.POST }
        : { method: Method.POST, options: [uintOption(OptionNumber.CONTENT_FORMAT, ContentFormat.TEXT)], payload: Buffer.from(args, 'utf8') };
    return this.plain(await this.send(registration, path, request, settings));
  }

  /**
   * LwM2M Core §6.3.6 Create: POST on the object; the new instance's path comes back in Location-Path.
   * Without an instance id, the lowest id the registration does not list is used: the payload then
   * names it, which every client understands, where leaving it out is read differently by different ones.
   */
  async create(endpoint: string, objectPath: Lwm2mPath, resources: readonly ResourceNode[], instanceId?: number, settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const objectId = objectPath[0];
    if (objectPath.length !== 1 || objectId === undefined) throw new Lwm2mRequestError('bad_request', endpoint, 'create needs an object path', objectPath);
    const registration = await this.registration(endpoint);
    const id = instanceId ?? firstFreeInstance(registration, objectId);
    const format = settings.format ?? this.formatFor(registration);
    const instance: ObjectInstanceNode = { kind: 'instance', id, resources };
    const payload = this.encode(endpoint, format, { kind: 'object', id: objectId, instances: [instance] }, objectPath);
    const response = await this.send(registration, objectPath, { method: Method.POST, options: [uintOption(OptionNumber.CONTENT_FORMAT, format)], payload }, settings);
    const location = getStringOptions(response.options, OptionNumber.LOCATION_PATH);
    const result = this.plain(response);
    if (!result.success) return result;
    return { ...result, location: location.length > 0 ? '/' + location.join('/') : formatPath([objectId, id]) };
  }

  /** LwM2M Core §6.3.7 Delete. */
  async delete(endpoint: string, path: Lwm2mPath, settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    if (path.length !== 2) throw new Lwm2mRequestError('bad_request', endpoint, 'delete needs an object instance path', path);
    const registration = await this.registration(endpoint);
    return this.plain(await this.send(registration, path, { method: Method.DELETE }, settings));
  }

  /** LwM2M Core §6.3.2 Discover: GET with Accept link-format. */
  async discover(endpoint: string, path: Lwm2mPath, settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const registration = await this.registration(endpoint);
    const response = await this.send(registration, path, { method: Method.GET, options: [uintOption(OptionNumber.ACCEPT, ContentFormat.LINK)] }, settings);
    const result = this.plain(response);
    if (!result.success) return result;
    try {
      return { ...result, contentFormat: ContentFormat.LINK, links: parseLinkFormat(response.payload.toString('utf8')) };
    } catch (error) {
      throw this.decodeFailure(registration, path, response, ContentFormat.LINK, (error as Error).message);
    }
  }

  /** LwM2M Core §6.3.4 Write-Attributes: PUT with the attributes as Uri-Query and no payload. */
  async writeAttributes(endpoint: string, path: Lwm2mPath, attributes: NotificationAttributes, settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const query: string[] = [];
    for (const name of ATTRIBUTE_NAMES) {
      const value = attributes[name];
      if (value === undefined) continue;
      query.push(value === null ? name : `${name}=${value}`);
    }
    if (query.length === 0) throw new Lwm2mRequestError('bad_request', endpoint, 'no attribute to write', path);
    const registration = await this.registration(endpoint);
    return this.plain(await this.send(registration, path, { method: Method.PUT, uriQuery: query }, settings));
  }

  /** LwM2M Core §6.4.1 Observe (RFC 7641): GET with Observe=0; notifications arrive as `notification` events. */
  async observe(endpoint: string, path: Lwm2mPath, settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const registration = await this.registration(endpoint);
    const existing = this.options.observations.find(endpoint, path);
    if (existing) this.options.observations.remove(existing.id, 'replaced by a new observation', registration);
    const accept = settings.format ?? this.formatFor(registration);
    const { observation, persisted, response } = await this.startObservation(
      registration,
      path,
      undefined,
      accept,
      { method: Method.GET, options: [uintOption(OptionNumber.OBSERVE, 0), uintOption(OptionNumber.ACCEPT, accept)] },
      settings,
    );
    const result = this.withContent(registration, path, response, accept);
    const sequence = getUintOption(response.options, OptionNumber.OBSERVE);
    if (!result.success || sequence === undefined) {
      // RFC 7641 §3.1: a response without Observe means the server did not add us as an observer.
      this.options.observations.remove(observation.id, 'device did not accept the observation');
      return result;
    }
    const receivedAt = this.firstInOrder(observation, sequence);
    // Published and answered once a restart would keep it.
    await persisted;
    this.options.observations.publish(registration, observation, response, receivedAt);
    return { ...result, observationId: observation.id };
  }

  /**
   * Ends an observation. Proactive (default): GET with Observe=1 and the observation's
   * token (RFC 7641 §3.6); otherwise forgotten locally, and the next notification is reset.
   */
  async cancelObservation(endpoint: string, path: Lwm2mPath, settings: RequestSettings & { proactive?: boolean } = {}): Promise<Lwm2mResponse | undefined> {
    const registration = await this.registration(endpoint);
    const observation = this.options.observations.find(endpoint, path);
    if (!observation) return undefined;
    this.options.observations.remove(observation.id, 'cancelled', registration);
    if (settings.proactive === false) return { code: '2.05', success: true };
    const token = Buffer.from(observation.id, 'hex');
    const options: CoapOption[] = [uintOption(OptionNumber.OBSERVE, 1)];
    if (observation.contentFormat !== undefined) options.push(uintOption(OptionNumber.ACCEPT, observation.contentFormat));
    const response = await this.send(registration, path, { method: Method.GET, token, options }, settings);
    return this.plain(response);
  }

  /** LwM2M 1.1 Core §6.4.3 Observe-Composite: FETCH with Observe=0 and the SenML list of paths. */
  async observeComposite(endpoint: string, paths: readonly Lwm2mPath[], settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const registration = await this.registration(endpoint);
    const format = senmlFormat(settings.format);
    const { observation, persisted, response } = await this.startObservation(
      registration,
      [],
      paths,
      format,
      {
        method: Method.FETCH,
        options: [uintOption(OptionNumber.OBSERVE, 0), uintOption(OptionNumber.CONTENT_FORMAT, format), uintOption(OptionNumber.ACCEPT, format)],
        payload: Buffer.from(encodeSenmlPaths(paths, format)),
      },
      settings,
    );
    const result = this.plain(response);
    const sequence = getUintOption(response.options, OptionNumber.OBSERVE);
    if (!result.success || sequence === undefined) {
      this.options.observations.remove(observation.id, 'device did not accept the observation');
      return result;
    }
    const receivedAt = this.firstInOrder(observation, sequence);
    await persisted;
    this.options.observations.publish(registration, observation, response, receivedAt);
    return { ...result, contentFormat: response.contentFormat ?? format, observationId: observation.id };
  }

  /** Ends an observation by its id, proactively: the same request with Observe=1 and the same token (RFC 7641 §3.6). */
  async cancelObservationById(endpoint: string, observationId: string, settings: RequestSettings = {}): Promise<Lwm2mResponse | undefined> {
    const observation = this.options.observations.get(observationId);
    if (!observation || observation.endpoint !== endpoint) return undefined;
    if (!observation.paths) return this.cancelObservation(endpoint, observation.path, settings);
    const registration = await this.registration(endpoint);
    this.options.observations.remove(observation.id, 'cancelled', registration);
    const format = senmlFormat(observation.contentFormat);
    const response = await this.send(
      registration,
      [],
      {
        method: Method.FETCH,
        token: Buffer.from(observation.id, 'hex'),
        options: [uintOption(OptionNumber.OBSERVE, 1), uintOption(OptionNumber.CONTENT_FORMAT, format), uintOption(OptionNumber.ACCEPT, format)],
        payload: Buffer.from(encodeSenmlPaths(observation.paths, format)),
      },
      settings,
    );
    return this.plain(response);
  }

  /** LwM2M 1.1 Core §6.3.8 Read-Composite: FETCH with the SenML list of paths. */
  async readComposite(endpoint: string, paths: readonly Lwm2mPath[], settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const registration = await this.registration(endpoint);
    const format = senmlFormat(settings.format);
    const payload = Buffer.from(encodeSenmlPaths(paths, format));
    const response = await this.send(
      registration,
      [],
      { method: Method.FETCH, options: [uintOption(OptionNumber.CONTENT_FORMAT, format), uintOption(OptionNumber.ACCEPT, format)], payload },
      settings,
    );
    const result = this.plain(response);
    if (!result.success) return result;
    const responseFormat = response.contentFormat ?? format;
    if (responseFormat !== ContentFormat.SENML_CBOR && responseFormat !== ContentFormat.SENML_JSON) {
      throw this.decodeFailure(registration, [], response, responseFormat, 'composite answer is not SenML');
    }
    try {
      const records = decodeSenmlRecords(response.payload, responseFormat, this.options.model);
      return { ...result, contentFormat: responseFormat, records };
    } catch (error) {
      throw this.decodeFailure(registration, [], response, responseFormat, (error as Error).message);
    }
  }

  /** LwM2M 1.1 Core §6.3.9 Write-Composite: iPATCH with SenML records. */
  async writeComposite(endpoint: string, records: readonly Lwm2mRecord[], settings: RequestSettings = {}): Promise<Lwm2mResponse> {
    const registration = await this.registration(endpoint);
    const format = senmlFormat(settings.format);
    let payload: Buffer;
    try {
      payload = Buffer.from(encodeSenmlRecords(records, format));
    } catch (error) {
      throw new Lwm2mRequestError('bad_request', endpoint, (error as Error).message);
    }
    return this.plain(await this.send(registration, [], { method: Method.IPATCH, options: [uintOption(OptionNumber.CONTENT_FORMAT, format)], payload }, settings));
  }

  /**
   * Registers the observation before its request leaves, so that an early notification is
   * matched, then sends the request with the observation's token; a failed request takes it back.
   */
  private async startObservation(
    registration: Registration,
    path: Lwm2mPath,
    paths: readonly Lwm2mPath[] | undefined,
    contentFormat: number,
    request: Omit<OutgoingRequest, 'token'>,
    settings: RequestSettings,
  ): Promise<{ observation: Observation; persisted: Promise<void>; response: ReceivedResponse }> {
    const token = this.options.coap.newToken(registrationPeer(registration));
    const observation: Observation = {
      id: token.toString('hex'),
      endpoint: registration.endpoint,
      registrationId: registration.id,
      path,
      ...(paths ? { paths } : {}),
      contentFormat,
      createdAt: this.now(),
      lastSequence: undefined,
      lastReceivedAt: 0,
    };
    const persisted = this.options.observations.add(observation);
    try {
      const response = await this.send(registration, path, { ...request, token }, settings);
      return { observation, persisted, response };
    } catch (error) {
      this.options.observations.remove(observation.id, 'observe request failed');
      throw error;
    }
  }

  /**
   * RFC 7641 §3.4: the response to the Observe request is the first notification in order, so
   * that a late copy of it (the endpoint leaves NON copies to this ordering) is not taken as new.
   * A notification already taken meanwhile stays the latest. Returns the time of arrival.
   */
  private firstInOrder(observation: Observation, sequence: number): number {
    const receivedAt = this.now();
    takeInOrder(observation, sequence, receivedAt);
    return receivedAt;
  }

  private async registration(endpoint: string): Promise<Registration> {
    const registration = await this.options.store.getByEndpoint(endpoint);
    if (!registration) throw new Lwm2mRequestError('not_registered', endpoint, 'no such registered client');
    return registration;
  }

  /** The format to ask for, and to write in: the one the client speaks for trees (TLV is in every 1.0 client). */
  private formatFor(registration: Registration): number {
    return preferredFormat(registration, this.lastFormat.get(registration.endpoint));
  }

  private encode(endpoint: string, format: number, node: Lwm2mNode, path: Lwm2mPath): Buffer {
    try {
      return Buffer.from(this.options.codecs.encode(format, node, path, this.options.model));
    } catch (error) {
      if (error instanceof EncodeError) throw new Lwm2mRequestError('bad_request', endpoint, error.message, path);
      throw error;
    }
  }

  private async send(registration: Registration, path: Lwm2mPath, request: OutgoingRequest, settings: RequestSettings): Promise<ReceivedResponse> {
    const root = registration.rootPath.split('/').filter((s) => s !== '');
    const full: OutgoingRequest = { ...request, uriPath: [...root, ...path.map(String)] };
    return this.options.presence.schedule(registration, async () => {
      // The registration may have moved (update from a new address) while the request waited.
      const current = (await this.options.store.getById(registration.id)) ?? registration;
      try {
        const response = await this.options.coap.request(registrationPeer(current), full, settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {});
        this.options.presence.markAwake(current);
        return response;
      } catch (error) {
        if (error instanceof CoapTimeoutError) {
          this.options.presence.markSleeping(current);
          throw new Lwm2mRequestError('timeout', current.endpoint, `no answer (${error.message})`, path);
        }
        if (error instanceof CoapResetError) throw new Lwm2mRequestError('reset', current.endpoint, 'the client rejected the request with a Reset', path);
        if (error instanceof CoapBlockError) throw new Lwm2mRequestError('block_transfer', current.endpoint, `block-wise transfer failed: ${error.message}`, path);
        throw error;
      }
    });
  }

  private plain(response: ReceivedResponse): Lwm2mResponse {
    const success = isSuccessCode(response.code);
    return {
      code: formatCode(response.code),
      success,
      ...(!success && response.payload.length > 0 ? { diagnostic: response.payload.toString('utf8') } : {}),
    };
  }

  private withContent(registration: Registration, path: Lwm2mPath, response: ReceivedResponse, asked: number): Lwm2mResponse {
    const result = this.plain(response);
    if (!result.success || response.payload.length === 0) return result;
    const format = response.contentFormat ?? (isTreeFormat(asked) && path.length < 3 ? asked : defaultFormatFor(path));
    const decoded = this.options.codecs.decode(format, response.payload, path, this.options.model);
    if (!decoded.ok) throw this.decodeFailure(registration, path, response, format, decoded.error.message);
    if (isTreeFormat(format)) this.lastFormat.set(registration.endpoint, format);
    return { ...result, contentFormat: format, node: decoded.node };
  }

  private decodeFailure(registration: Registration, path: Lwm2mPath, response: ReceivedResponse, format: number, reason: string): Lwm2mRequestError {
    this.options.logger.warn(
      { endpoint: registration.endpoint, path: formatPath(path), code: formatCode(response.code), contentFormat: format, reason, raw: response.payload.toString('hex') },
      'undecodable response',
    );
    return new Lwm2mRequestError('decode_error', registration.endpoint, `cannot decode the answer (content format ${format}): ${reason}`, path, response.payload, format);
  }
}

function firstFreeInstance(registration: Registration, objectId: number): number {
  const taken = new Set(registration.objectLinks.filter((l) => l.path[0] === objectId && l.path.length === 2).map((l) => l.path[1]));
  let id = 0;
  while (taken.has(id)) id++;
  return id;
}

function senmlFormat(format: number | undefined): SenmlContentFormat {
  return format === ContentFormat.SENML_JSON ? ContentFormat.SENML_JSON : ContentFormat.SENML_CBOR;
}

/** `/3/0/1` → [3, 0, 1]; a bad path is a bad request. */
export function pathOrThrow(endpoint: string, text: string): Lwm2mPath {
  const path = tryParsePath(text);
  if (path === undefined) throw new Lwm2mRequestError('bad_request', endpoint, `"${text}" is not an LwM2M path`);
  return path;
}
