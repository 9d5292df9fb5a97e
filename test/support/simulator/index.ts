/**
 * An LwM2M client simulator speaking real CoAP over UDP, built on our CoapEndpoint:
 * it registers, answers Device Management (LwM2M Core §6.3) and Information
 * Reporting (§6.4) requests the way Wakaama (or, with `legacyFormats`, Contiki)
 * does, and can go to sleep like a queue-mode device.
 *
 *   const sim = await LwM2mSimulator.start({ endpoint: 'node1', serverPort: hub.coap.port });
 *   await sim.register();
 *   sim.setValue('/3303/0/5700', { type: 'float', value: 22 }); // notifies observers
 *
 * See README.md next to this file for what it does and does not simulate.
 */
import { isIPv4 } from 'node:net';
import type { BlockStats } from '../../../src/coap/block.js';
import { formatCode, Method, methodName, ResponseCode } from '../../../src/coap/codes.js';
import {
  CoapEndpoint,
  CoapTimeoutError,
  type IncomingRequest,
  type OutgoingRequest,
  type OutgoingResponse,
  type ReceivedResponse,
} from '../../../src/coap/endpoint.js';
import { getStringOptions, getUintOption, OptionNumber, stringOption, uintOption, type CoapOption } from '../../../src/coap/options.js';
import type { TransmissionParameters } from '../../../src/coap/parameters.js';
import { ContentFormat, DecodeError, EncodeError } from '../../../src/codecs/codec.js';
import { formatLinkFormat, type Link } from '../../../src/codecs/link-format/index.js';
import { decodeSenmlRecords, encodeSenmlRecords, type SenmlContentFormat } from '../../../src/codecs/senml/records.js';
import type { Lwm2mNode, Lwm2mValue, ObjectInstanceNode } from '../../../src/model/node.js';
import type { ModelProvider } from '../../../src/model/object-model.js';
import { formatPath, parsePath, pathStartsWith, tryParsePath, type Lwm2mPath } from '../../../src/model/path.js';
import { AttributeStore, discoverLinks, parseWriteAttributes } from './attributes.js';
import { loadDefaultState, shippedModel, typedValue } from './defaults.js';
import { codecs, FormatPolicy, type Lwm2mVersion } from './formats.js';
import type { DtlsClientOptions } from '../dtls-client.js';
import { Radio } from './radio.js';
import { ObjectTree, OperationError, type Leaf } from './tree.js';

export type { Lwm2mVersion } from './formats.js';

export interface SimulatorOptions {
  readonly endpoint: string;
  readonly serverPort: number;
  /** Default `::1`; an IPv4 address makes the simulator use IPv4 sockets. */
  readonly serverAddress?: string;
  /** Default `1.1`. */
  readonly lwm2mVersion?: Lwm2mVersion;
  /** Seconds, default 300. */
  readonly lifetime?: number;
  /** Registers with `b=UQ` (1.0) or `Q` (1.1 and later). */
  readonly queueMode?: boolean;
  /**
   * Contiki-style: answers TLV 1542 (JSON 1543 when Accept asked JSON) whatever Accept said,
   * registers with nothing but `ep` (and `lt` when `lifetime` is given) and links without a leading slash.
   */
  readonly legacyFormats?: boolean;
  /** Notifications as CON (default NON). */
  readonly confirmableNotifications?: boolean;
  /** Default: RFC 7252 values with ACK_TIMEOUT 200 ms. */
  readonly transmission?: TransmissionParameters;
  /** Object definitions; default our shipped `objects/`. */
  readonly model?: ModelProvider;
  /**
   * A constrained device's block size (RFC 7959, 16-1024): larger responses and notifications
   * go out in Block2 pieces of this size, larger requests (registration, Send) in Block1 pieces.
   * Default 1024 (only bodies over 1 KiB are split).
   */
  readonly blockSize?: number;
  /** Talk CoAP over DTLS with this PSK (`serverPort` is then the DTLS port): the handshake is done in start(). */
  readonly dtls?: DtlsClientOptions;
}

/** One request the simulator received from the server. */
export interface ReceivedRequest {
  /** `GET`, `PUT`, `POST`, `DELETE`, `FETCH`, `iPATCH`. */
  readonly method: string;
  /** `/3/0/9` as the Uri-Path said it. */
  readonly path: string;
  readonly contentFormat?: number;
  readonly accept?: number;
  readonly observe?: number;
  readonly uriQuery: readonly string[];
}

export interface ObservationInfo {
  readonly path: string;
  readonly format: number;
}

export const FAST_TRANSMISSION: TransmissionParameters = { ackTimeoutMs: 200, ackRandomFactor: 1.5, maxRetransmit: 4 };

interface Observation {
  readonly key: string;
  readonly token: Buffer;
  readonly path: Lwm2mPath;
  readonly format: number;
  timer: NodeJS.Timeout | undefined;
  /** A change happened while the radio was off: notify on wake. */
  missed: boolean;
}

/** RFC 7641 §4.4: the Observe sequence number is 24 bits. */
const OBSERVE_SEQUENCE_MASK = 0xffffff;
/** RFC 7641 §2: Observe 0 registers, 1 deregisters. */
const OBSERVE_REGISTER = 0;
const OBSERVE_DEREGISTER = 1;
/** Core §6.2.1: the Security object is never announced in a registration. */
const SECURITY_OBJECT = 0;
const SERVER_LIFETIME: Lwm2mPath = [1, 0, 1];
const SERVER_DEFAULT_PMAX: Lwm2mPath = [1, 0, 3];

export class LwM2mSimulator {
  /** Executes received, in order; `args` is the payload as text (Core §5.4.x argument list). */
  readonly executed: { path: string; args: string }[] = [];
  /** Every request received from the server (none while asleep: the radio never heard them). */
  readonly requests: ReceivedRequest[] = [];

  readonly #options: SimulatorOptions;
  readonly #version: Lwm2mVersion;
  readonly #formats: FormatPolicy;
  readonly #tree: ObjectTree;
  readonly #attributes = new AttributeStore();
  readonly #endpoint: CoapEndpoint;
  readonly #radio: Radio;
  readonly #observations = new Map<string, Observation>();
  #location: string | undefined;
  #sequence = 0;
  #stopped = false;

  private constructor(options: SimulatorOptions, model: ModelProvider, endpoint: CoapEndpoint, radio: Radio) {
    this.#options = options;
    this.#version = options.lwm2mVersion ?? '1.1';
    this.#formats = new FormatPolicy(this.#version, options.legacyFormats ?? false);
    this.#tree = new ObjectTree(model);
    this.#endpoint = endpoint;
    this.#radio = radio;
    const queue1_0 = options.queueMode === true && (this.#version === '1.0' || options.legacyFormats === true);
    loadDefaultState(this.#tree, { endpoint: options.endpoint, lifetime: this.#lifetime, binding: queue1_0 ? 'UQ' : 'U' });
    endpoint.onRequest = (request) => this.#handle(request);
  }

  /** Binds the client's sockets; does not register yet. */
  static async start(options: SimulatorOptions): Promise<LwM2mSimulator> {
    const model = options.model ?? (await shippedModel());
    const serverAddress = options.serverAddress ?? '::1';
    const loopback = isIPv4(serverAddress) ? '127.0.0.1' : '::1';
    const endpoint = await CoapEndpoint.bind({
      host: loopback,
      port: 0,
      transmission: options.transmission ?? FAST_TRANSMISSION,
      ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}),
    });
    try {
      const radio = await Radio.open(
        { address: serverAddress, port: options.serverPort },
        { address: loopback, port: endpoint.address().port },
        options.dtls,
      );
      return new LwM2mSimulator(options, model, endpoint, radio);
    } catch (error) {
      await endpoint.close();
      throw error;
    }
  }

  /** Block-wise transfer counters of the client's endpoint (RFC 7959): blocks served, requests sent in blocks. */
  blockStats(): BlockStats {
    return this.#endpoint.blockStats();
  }

  /** The UDP port the server sees the client on. */
  get port(): number {
    return this.#radio.port;
  }

  /** Location-Path of the registration (`rd/abc`), once registered. */
  get location(): string | undefined {
    return this.#location;
  }

  /** Live observations by token (hex). */
  get observations(): ReadonlyMap<string, ObservationInfo> {
    return new Map([...this.#observations].map(([key, o]) => [key, { path: formatPath(o.path), format: o.format }]));
  }

  // ---- client-initiated operations (Core §6.2, §6.4.x Send) ---------------------------------

  /** Register (Core §6.2.1): POST /rd with the object links. */
  async register(): Promise<{ code: string; location: string }> {
    const response = await this.#request({
      method: Method.POST,
      uriPath: ['rd'],
      uriQuery: this.#registerQuery(),
      options: [uintOption(OptionNumber.CONTENT_FORMAT, ContentFormat.LINK)],
      payload: Buffer.from(this.#objectLinks()),
    });
    const location = getStringOptions(response.options, OptionNumber.LOCATION_PATH).join('/');
    if (response.code === ResponseCode.CREATED) this.#location = location;
    return { code: formatCode(response.code), location };
  }

  /** Update (Core §6.2.2): POST to the registration location, with `lt` and the links when asked. */
  async update(params: { lifetime?: number; withLinks?: boolean } = {}): Promise<string> {
    const location = this.#requireLocation('update');
    if (params.lifetime !== undefined) this.#setPath(SERVER_LIFETIME, typedValue(this.#tree.resourceModel(1, 1)?.type, params.lifetime));
    const links = params.withLinks === true;
    const response = await this.#request({
      method: Method.POST,
      uriPath: location.split('/'),
      uriQuery: params.lifetime !== undefined ? [`lt=${params.lifetime}`] : [],
      ...(links ? { options: [uintOption(OptionNumber.CONTENT_FORMAT, ContentFormat.LINK)], payload: Buffer.from(this.#objectLinks()) } : {}),
    });
    return formatCode(response.code);
  }

  /** De-register (Core §6.2.3): DELETE the registration location; observations end with it. */
  async deregister(): Promise<string> {
    const location = this.#requireLocation('deregister');
    const response = await this.#request({ method: Method.DELETE, uriPath: location.split('/') });
    if (response.code === ResponseCode.DELETED) {
      this.#location = undefined;
      for (const key of [...this.#observations.keys()]) this.#cancel(key);
    }
    return formatCode(response.code);
  }

  /** Send (LwM2M 1.1 Core §6.4.x, Transport §6.5): POST /dp with the values under `paths` in SenML CBOR. */
  async send(paths: string[]): Promise<string> {
    const leaves = paths.flatMap((path) => this.#tree.leaves(parsePath(path)));
    const response = await this.#request({
      method: Method.POST,
      uriPath: ['dp'],
      options: [uintOption(OptionNumber.CONTENT_FORMAT, ContentFormat.SENML_CBOR)],
      payload: Buffer.from(encodeSenmlRecords(leaves, ContentFormat.SENML_CBOR)),
    });
    return formatCode(response.code);
  }

  // ---- device state ----------------------------------------------------------------------------

  /**
   * Sets a resource (`/3303/0/5700`) or resource instance (`/3/0/7/1`) value, creating the
   * instance if needed, and notifies observers of that path, of an ancestor or of a descendant.
   */
  setValue(path: string, value: Lwm2mValue): void {
    this.#setPath(parsePath(path), value);
  }

  getValue(path: string): Lwm2mValue | undefined {
    return this.#tree.getValue(parsePath(path));
  }

  /** The attributes Write-Attributes set on exactly this path. */
  attributes(path: string): Record<string, string> {
    return this.#attributes.get(parsePath(path));
  }

  // ---- radio -------------------------------------------------------------------------------------

  /** Radio off: requests from the server get no answer at all (no ACK); notifications wait for wake(). */
  sleep(): void {
    this.#radio.off = true;
  }

  /** Radio on: answers again and sends the notifications missed while asleep. Call update() next, as a device does. */
  wake(): void {
    this.#radio.off = false;
    for (const observation of [...this.#observations.values()]) if (observation.missed) this.#notify(observation);
  }

  /** Datagrams carrying requests (retransmissions included) or pings the server sent while the radio was off. */
  get lostWhileAsleep(): number {
    return this.#radio.lost;
  }

  /** Same switch as sleep()/wake(), for timeout tests. */
  get unresponsive(): boolean {
    return this.#radio.off;
  }

  set unresponsive(value: boolean) {
    if (value) this.sleep();
    else this.wake();
  }

  /** Closes the sockets (without de-registering). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const observation of this.#observations.values()) clearTimeout(observation.timer);
    this.#observations.clear();
    await this.#endpoint.close();
    await this.#radio.close();
  }

  // ---- registration payload ------------------------------------------------------------------

  get #lifetime(): number {
    return this.#options.lifetime ?? 300;
  }

  #registerQuery(): string[] {
    const query = [`ep=${this.#options.endpoint}`];
    const queue = this.#options.queueMode === true;
    if (this.#formats.legacy) {
      if (this.#options.lifetime !== undefined) query.push(`lt=${this.#options.lifetime}`);
      if (queue) query.push('b=UQ');
      return query;
    }
    query.push(`lt=${this.#lifetime}`, `lwm2m=${this.#version}`);
    // Transport 1.1 §6.2.1.1: queue mode is the `Q` parameter; 1.0 wrote it into the binding.
    if (this.#version === '1.0') query.push(queue ? 'b=UQ' : 'b=U');
    else query.push('b=U', ...(queue ? ['Q'] : []));
    return query;
  }

  /** `</>;rt="oma.lwm2m";ct=…,</1/0>,</3>;ver=1.2,</3/0>,</3303/0>` (Core §6.2.1); Contiki: `<1/0>,<3/0>,…`. */
  #objectLinks(): string {
    const legacy = this.#formats.legacy;
    const links: Link[] = [];
    for (const objectId of this.#tree.objectIds()) {
      if (objectId === SECURITY_OBJECT) continue;
      const prefix = legacy ? '' : '/';
      const version = this.#tree.model.getObject(objectId)?.version;
      const instances = this.#tree.instanceIds(objectId);
      const announceVersion = !legacy && this.#version !== '1.0' && version !== undefined && version !== '1.0';
      if (announceVersion) links.push({ uri: `${prefix}${objectId}`, attributes: { ver: version } });
      else if (instances.length === 0) links.push({ uri: `${prefix}${objectId}`, attributes: {} });
      for (const instanceId of instances) links.push({ uri: `${prefix}${objectId}/${instanceId}`, attributes: {} });
    }
    if (legacy) return formatLinkFormat(links);
    const formats = this.#formats.announced();
    // As Wakaama and Leshan write it: rt quoted, ct quoted when it lists several formats.
    const ct = formats.length === 1 ? String(formats[0]) : `"${formats.join(' ')}"`;
    return [`</>;rt="oma.lwm2m";ct=${ct}`, formatLinkFormat(links)].join(',');
  }

  #requireLocation(operation: string): string {
    if (this.#location === undefined) throw new Error(`cannot ${operation}: ${this.#options.endpoint} is not registered`);
    return this.#location;
  }

  #request(request: OutgoingRequest): Promise<ReceivedResponse> {
    return this.#endpoint.request(this.#radio.serverLink, request);
  }

  // ---- server-initiated operations (Core §6.3, §6.4) ------------------------------------------

  #handle(request: IncomingRequest): OutgoingResponse {
    const accept = getUintOption(request.options, OptionNumber.ACCEPT);
    const observe = getUintOption(request.options, OptionNumber.OBSERVE);
    const pathText = '/' + request.uriPath.join('/');
    this.requests.push({
      method: methodName(request.method),
      path: pathText,
      contentFormat: request.contentFormat,
      accept,
      observe,
      uriQuery: request.uriQuery,
    });
    const path = tryParsePath(pathText);
    if (path === undefined) return { code: ResponseCode.NOT_FOUND, payload: `${pathText} is no LwM2M path` };
    try {
      switch (request.method) {
        case Method.GET:
          return this.#get(request, path, accept, observe);
        case Method.PUT:
          return this.#put(request, path);
        case Method.POST:
          return this.#post(request, path);
        case Method.DELETE:
          this.#tree.delete(path);
          this.#attributes.deleteUnder(path);
          this.#changed(path);
          return { code: ResponseCode.DELETED };
        case Method.FETCH:
          return this.#readComposite(request, accept);
        case Method.IPATCH:
          return this.#writeComposite(request);
        default:
          return { code: ResponseCode.METHOD_NOT_ALLOWED };
      }
    } catch (error) {
      if (error instanceof OperationError) return { code: error.code, payload: error.message };
      throw error;
    }
  }

  /** Read, Discover (Accept: link-format), Observe and Cancel Observation. */
  #get(request: IncomingRequest, path: Lwm2mPath, accept: number | undefined, observe: number | undefined): OutgoingResponse {
    if (accept === ContentFormat.LINK) {
      const links = discoverLinks(this.#tree, this.#attributes, path, this.#formats.legacy ? '1.0' : this.#version);
      return { code: ResponseCode.CONTENT, options: [uintOption(OptionNumber.CONTENT_FORMAT, ContentFormat.LINK)], payload: formatLinkFormat(links) };
    }
    const format = this.#formats.responseFormat(accept);
    if (format === undefined) throw new OperationError(ResponseCode.NOT_ACCEPTABLE, `content format ${accept} is not supported`);
    const payload = this.#encode(format, path);
    const options: CoapOption[] = [uintOption(OptionNumber.CONTENT_FORMAT, format)];
    const key = request.token.toString('hex');
    if (observe === OBSERVE_REGISTER) {
      this.#cancel(key); // RFC 7641 §4.1: the same token again replaces the entry
      const observation: Observation = { key, token: request.token, path, format, timer: undefined, missed: false };
      this.#observations.set(key, observation);
      this.#schedulePmax(observation);
      options.push(uintOption(OptionNumber.OBSERVE, this.#nextSequence()));
    } else if (observe === OBSERVE_DEREGISTER) {
      this.#cancel(key);
    }
    return { code: ResponseCode.CONTENT, options, payload };
  }

  /** Write (replace) with a payload; Write-Attributes without one. */
  #put(request: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    if (request.payload.length === 0) {
      if (request.uriQuery.length === 0) throw new OperationError(ResponseCode.BAD_REQUEST, 'PUT without payload nor attributes');
      if (path.length === 0) throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, 'no Write-Attributes on the root path');
      if (!this.#tree.has(path)) throw new OperationError(ResponseCode.NOT_FOUND, `${formatPath(path)} not found`);
      this.#attributes.apply(path, parseWriteAttributes(request.uriQuery, path));
      for (const observation of this.#observations.values()) this.#schedulePmax(observation);
      return { code: ResponseCode.CHANGED };
    }
    this.#tree.write(path, this.#decode(request, path), 'replace');
    this.#changed(path);
    return { code: ResponseCode.CHANGED };
  }

  /** Create on an object, Write (partial update) on an instance or multiple resource, Execute on a resource. */
  #post(request: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    const [objectId, instanceId, resourceId] = path;
    if (objectId === undefined) throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, 'no POST on the root path');
    if (instanceId === undefined) return this.#create(request, objectId);
    // LwM2M 1.1: a POST with payload on a multiple resource adds or replaces resource instances.
    const multipleResource = resourceId !== undefined && path.length === 3 && this.#tree.resource(objectId, instanceId, resourceId)?.kind === 'multiple';
    if (resourceId === undefined || (multipleResource && request.payload.length > 0)) {
      if (request.payload.length === 0) throw new OperationError(ResponseCode.BAD_REQUEST, 'partial update without payload');
      this.#tree.write(path, this.#decode(request, path), 'update');
      this.#changed(path);
      return { code: ResponseCode.CHANGED };
    }
    this.#tree.checkExecutable(path);
    this.executed.push({ path: formatPath(path), args: request.payload.toString('utf8') });
    return { code: ResponseCode.CHANGED };
  }

  /**
   * Create (Core §6.3.4): the payload names the new instance (object instance TLV, SenML names)
   * or holds bare resources, for which the client picks the first free instance id.
   */
  #create(request: IncomingRequest, objectId: number): OutgoingResponse {
    if (!this.#tree.has([objectId])) throw new OperationError(ResponseCode.NOT_FOUND, `object ${objectId} is not supported`);
    let instance: ObjectInstanceNode;
    const freeId = this.#tree.nextInstanceId(objectId);
    if (request.payload.length === 0) {
      instance = { kind: 'instance', id: freeId, resources: [] };
    } else {
      let named: Lwm2mNode | undefined;
      try {
        named = this.#decode(request, [objectId]);
      } catch (error) {
        if (!(error instanceof OperationError) || error.code !== ResponseCode.BAD_REQUEST) throw error;
      }
      if (named?.kind === 'object') {
        if (named.instances.length !== 1) throw new OperationError(ResponseCode.BAD_REQUEST, 'Create carries one object instance');
        instance = named.instances[0] as ObjectInstanceNode;
      } else {
        const bare = this.#decode(request, [objectId, freeId]);
        if (bare.kind !== 'instance') throw new OperationError(ResponseCode.BAD_REQUEST, 'Create needs an object instance');
        instance = bare;
      }
    }
    this.#tree.create(objectId, instance);
    this.#changed([objectId, instance.id]);
    return {
      code: ResponseCode.CREATED,
      options: [stringOption(OptionNumber.LOCATION_PATH, String(objectId)), stringOption(OptionNumber.LOCATION_PATH, String(instance.id))],
    };
  }

  /** Read-Composite (1.1 Core §6.3.x, FETCH with SenML names): the values of every path found. */
  #readComposite(request: IncomingRequest, accept: number | undefined): OutgoingResponse {
    const requestFormat = this.#compositeFormat(request);
    const responseFormat = accept ?? requestFormat;
    if (responseFormat !== ContentFormat.SENML_JSON && responseFormat !== ContentFormat.SENML_CBOR) {
      throw new OperationError(ResponseCode.NOT_ACCEPTABLE, `Read-Composite answers in SenML, not ${responseFormat}`);
    }
    const leaves: Leaf[] = [];
    for (const { path } of this.#decodeRecords(request, requestFormat)) {
      const targets: Lwm2mPath[] = path.length === 0 ? this.#tree.objectIds().map((id): Lwm2mPath => [id]) : [path];
      for (const target of targets) {
        if (!this.#tree.has(target)) continue; // absent paths are left out of the answer
        leaves.push(...this.#tree.leaves(target));
      }
    }
    if (leaves.length === 0) throw new OperationError(ResponseCode.NOT_FOUND, 'none of the paths exists');
    return {
      code: ResponseCode.CONTENT,
      options: [uintOption(OptionNumber.CONTENT_FORMAT, responseFormat)],
      payload: Buffer.from(encodeSenmlRecords(leaves, responseFormat)),
    };
  }

  /** Write-Composite (1.1 Core §6.3.x, iPATCH with SenML values): all or nothing. */
  #writeComposite(request: IncomingRequest): OutgoingResponse {
    const records = this.#decodeRecords(request, this.#compositeFormat(request));
    if (records.some((record) => record.value.type === 'none')) throw new OperationError(ResponseCode.BAD_REQUEST, 'Write-Composite record without value');
    this.#tree.writeComposite(records);
    for (const { path } of records) this.#changed(path);
    return { code: ResponseCode.CHANGED };
  }

  #compositeFormat(request: IncomingRequest): SenmlContentFormat {
    if (!this.#formats.composite) throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `LwM2M ${this.#version} has no composite operations`);
    const format = request.contentFormat;
    if (format !== ContentFormat.SENML_JSON && format !== ContentFormat.SENML_CBOR) {
      throw new OperationError(ResponseCode.UNSUPPORTED_CONTENT_FORMAT, `composite operations take SenML, not ${format ?? 'no Content-Format'}`);
    }
    return format;
  }

  #decodeRecords(request: IncomingRequest, format: SenmlContentFormat): Leaf[] {
    try {
      return decodeSenmlRecords(request.payload, format, this.#tree.model);
    } catch (error) {
      if (error instanceof DecodeError) throw new OperationError(ResponseCode.BAD_REQUEST, error.message);
      throw error;
    }
  }

  #decode(request: IncomingRequest, path: Lwm2mPath): Lwm2mNode {
    const format = request.contentFormat;
    if (format === undefined) throw new OperationError(ResponseCode.BAD_REQUEST, 'payload without Content-Format');
    if (!this.#formats.canDecode(format)) throw new OperationError(ResponseCode.UNSUPPORTED_CONTENT_FORMAT, `content format ${format} is not supported`);
    const result = codecs.decode(format, request.payload, path, this.#tree.model);
    if (!result.ok) throw new OperationError(ResponseCode.BAD_REQUEST, result.error.message);
    return result.node;
  }

  /** The node at the path in the format: 4.04 / 4.05 from the tree, 4.06 when the format cannot carry it. */
  #encode(format: number, path: Lwm2mPath): Buffer {
    const node = this.#tree.read(path);
    try {
      return Buffer.from(codecs.encode(format, node, path, this.#tree.model));
    } catch (error) {
      if (error instanceof EncodeError) throw new OperationError(ResponseCode.NOT_ACCEPTABLE, error.message);
      throw error;
    }
  }

  // ---- observations (Core §6.4, RFC 7641) -----------------------------------------------------

  #setPath(path: Lwm2mPath, value: Lwm2mValue): void {
    this.#tree.setValue(path, value);
    this.#changed(path);
  }

  /** Notifies the observers of the changed path, of an ancestor (an instance holding it) or of a descendant. */
  #changed(path: Lwm2mPath): void {
    for (const observation of [...this.#observations.values()]) {
      if (pathStartsWith(path, observation.path) || pathStartsWith(observation.path, path)) this.#notify(observation);
    }
  }

  #notify(observation: Observation): void {
    if (this.#stopped) return;
    if (this.#radio.off) {
      observation.missed = true;
      return;
    }
    observation.missed = false;
    let code: number = ResponseCode.CONTENT;
    let options: CoapOption[] = [];
    let payload: Buffer | undefined;
    try {
      payload = this.#encode(observation.format, observation.path);
      options = [uintOption(OptionNumber.OBSERVE, this.#nextSequence()), uintOption(OptionNumber.CONTENT_FORMAT, observation.format)];
      this.#schedulePmax(observation);
    } catch (error) {
      if (!(error instanceof OperationError)) throw error;
      // RFC 7641 §4.2: a non-2.xx notification (the instance was deleted) carries no Observe and ends the observation.
      code = error.code;
      this.#cancel(observation.key);
    }
    const still = (): boolean => this.#observations.get(observation.key) === observation;
    this.#endpoint
      .notify(this.#radio.serverLink, {
        token: observation.token,
        code,
        options,
        ...(payload !== undefined ? { payload } : {}),
        confirmable: this.#options.confirmableNotifications ?? false,
      })
      .then(
        // RFC 7641 §3.6: a Reset means the server forgot the observation.
        (outcome) => {
          if (outcome === 'reset' && still()) this.#cancel(observation.key);
        },
        // RFC 7641 §4.5: a CON notification never acknowledged ends the observation; a closed endpoint ends everything.
        (error: unknown) => {
          if (error instanceof CoapTimeoutError && still()) this.#cancel(observation.key);
        },
      );
  }

  #cancel(key: string): void {
    const observation = this.#observations.get(key);
    if (!observation) return;
    clearTimeout(observation.timer);
    this.#observations.delete(key);
  }

  /** Core §5.1.2 pmax: notify the current value when nothing was sent for that long (pmin is not honoured). */
  #schedulePmax(observation: Observation): void {
    clearTimeout(observation.timer);
    observation.timer = undefined;
    const attribute = this.#attributes.effective(observation.path)['pmax'];
    const fallback = this.#tree.getValue(SERVER_DEFAULT_PMAX);
    const pmax = attribute !== undefined ? Number(attribute) : typeof fallback?.value === 'number' ? fallback.value : 0;
    if (pmax > 0) observation.timer = setTimeout(() => this.#notify(observation), pmax * 1000).unref();
  }

  #nextSequence(): number {
    this.#sequence = (this.#sequence + 1) & OBSERVE_SEQUENCE_MASK;
    return this.#sequence;
  }
}
