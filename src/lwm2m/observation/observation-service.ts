/**
 * Observations of device resources (RFC 7641, LwM2M Core §6.4): which token
 * observes which path of which registration, and what to do with a notification.
 */
import type { Logger } from 'pino';
import { formatCode, isSuccessCode, Method } from '../../coap/codes.js';
import type { OutgoingRequest, ReceivedResponse } from '../../coap/endpoint.js';
import { getUintOption, OptionNumber, uintOption } from '../../coap/options.js';
import { formatPeer, type Peer } from '../../coap/peer.js';
import { ContentFormat, DecodeError } from '../../codecs/codec.js';
import type { CodecRegistry } from '../../codecs/registry.js';
import { decodeSenmlRecords, encodeSenmlPaths } from '../../codecs/senml/records.js';
import type { EventBus } from '../../events.js';
import type { Lwm2mNode } from '../../model/node.js';
import type { ModelProvider } from '../../model/object-model.js';
import { formatPath, pathsEqual, type Lwm2mPath } from '../../model/path.js';
import type { ObservationStore } from '../../store/observation-store.js';
import type { RegistrationStore } from '../../store/registration-store.js';
import type { Registration } from '../registration/registration.js';
import { defaultFormatFor } from '../response-format.js';

/** Plain data, so that a persistent store can keep it as it is. */
export interface Observation {
  /** The token in hex: unique, and what notifications are matched by. */
  readonly id: string;
  readonly endpoint: string;
  readonly registrationId: string;
  /** The observed path; `[]` for a composite observation, whose paths are in `paths`. */
  readonly path: Lwm2mPath;
  /** LwM2M 1.1 Observe-Composite (Core §6.4.3): the observed paths. */
  readonly paths?: readonly Lwm2mPath[];
  readonly contentFormat: number | undefined;
  readonly createdAt: number;
  /** RFC 7641 §3.4: the Observe value and arrival time of the freshest notification. */
  lastSequence: number | undefined;
  lastReceivedAt: number;
}

/** RFC 7641 §3.4: sequence numbers are 24-bit; a notification is fresh if newer in serial arithmetic or 128 s later. */
const SEQUENCE_HALF = 2 ** 23;
const FRESHNESS_WINDOW_MS = 128_000;

export function isFresher(v1: number | undefined, t1: number, v2: number, t2: number): boolean {
  if (v1 === undefined) return true;
  return (v1 < v2 && v2 - v1 < SEQUENCE_HALF) || (v1 > v2 && v1 - v2 > SEQUENCE_HALF) || t2 > t1 + FRESHNESS_WINDOW_MS;
}

/** Takes a notification (or the Observe response) into the observation's order if it is fresher; false when it is not. */
export function takeInOrder(observation: Observation, sequence: number, receivedAt: number): boolean {
  if (!isFresher(observation.lastSequence, observation.lastReceivedAt, sequence, receivedAt)) return false;
  observation.lastSequence = sequence;
  observation.lastReceivedAt = receivedAt;
  return true;
}

export interface ObservationServiceOptions {
  readonly store: RegistrationStore;
  /** Where observations outlive a restart; none keeps them in memory only. */
  readonly persistence?: ObservationStore;
  readonly events: EventBus;
  readonly codecs: CodecRegistry;
  readonly model: ModelProvider;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class ObservationService {
  private readonly byToken = new Map<string, Observation>();
  private readonly now: () => number;

  constructor(private readonly options: ObservationServiceOptions) {
    this.now = options.now ?? Date.now;
    const { events } = options;
    // LwM2M Core §6.4.1: observations end with the registration; a new registration of the endpoint starts afresh.
    events.on('deregistered', ({ registration }) => this.removeAllOf(registration, 'deregistered'));
    events.on('expired', ({ registration }) => this.removeAllOf(registration, 'expired'));
    events.on('registered', ({ replaced }) => {
      if (replaced) this.removeAllOf(replaced, 're-registered');
    });
  }

  /** Loads the observations a previous run persisted: their next notifications are recognised again. */
  async restore(): Promise<number> {
    const stored = (await this.options.persistence?.list()) ?? [];
    for (const observation of stored) this.byToken.set(observation.id, { ...observation, lastSequence: undefined, lastReceivedAt: 0 });
    return stored.length;
  }

  /** Live at once; the returned promise settles when it is persisted (errors are logged, not thrown). */
  add(observation: Observation): Promise<void> {
    this.byToken.set(observation.id, observation);
    const { lastSequence: _sequence, lastReceivedAt: _received, ...stored } = observation;
    return this.persist(() => this.options.persistence?.add(stored), observation);
  }

  get(id: string): Observation | undefined {
    return this.byToken.get(id);
  }

  list(endpoint?: string): Observation[] {
    return [...this.byToken.values()].filter((o) => endpoint === undefined || o.endpoint === endpoint);
  }

  find(endpoint: string, path: Lwm2mPath): Observation | undefined {
    return this.list(endpoint).find((o) => pathsEqual(o.path, path));
  }

  remove(id: string, reason: string, registration?: Registration): Observation | undefined {
    const observation = this.byToken.get(id);
    if (!observation) return undefined;
    this.byToken.delete(id);
    void this.persist(() => this.options.persistence?.remove(id), observation);
    if (registration) this.options.events.emit('observationCancelled', { registration, observationId: id, path: observation.path, reason });
    return observation;
  }

  /**
   * The request an observation was made with, rebuilt from what is stored (the endpoint knows
   * only the requests it sent since it started): GET, or FETCH with the SenML paths of a composite.
   */
  requestFor = async (_peer: Peer, token: Buffer): Promise<OutgoingRequest | undefined> => {
    const id = token.toString('hex');
    const observation = this.byToken.get(id) ?? (await this.options.persistence?.get(id));
    if (!observation) return undefined;
    const registration = await this.options.store.getById(observation.registrationId);
    if (!registration) return undefined;
    const uriPath = [...registration.rootPath.split('/').filter((s) => s !== ''), ...observation.path.map(String)];
    const format = observation.contentFormat;
    const accept = format === undefined ? [] : [uintOption(OptionNumber.ACCEPT, format)];
    if (observation.paths) {
      const senml = format === ContentFormat.SENML_JSON ? ContentFormat.SENML_JSON : ContentFormat.SENML_CBOR;
      return {
        method: Method.FETCH,
        uriPath,
        token,
        options: [uintOption(OptionNumber.OBSERVE, 0), uintOption(OptionNumber.CONTENT_FORMAT, senml), ...accept],
        payload: Buffer.from(encodeSenmlPaths(observation.paths, senml)),
      };
    }
    return { method: Method.GET, uriPath, token, options: [uintOption(OptionNumber.OBSERVE, 0), ...accept] };
  };

  /** The endpoint's onUnmatchedResponse: true accepts (ACK) a notification, false rejects it (RST). */
  handleNotification = async (response: ReceivedResponse): Promise<boolean> => {
    const id = response.token.toString('hex');
    let observation = this.byToken.get(id);
    if (!observation) {
      // A shared store may know it: another instance made the observation.
      const stored = await this.options.persistence?.get(id);
      if (stored) {
        observation = { ...stored, lastSequence: undefined, lastReceivedAt: 0 };
        this.byToken.set(id, observation);
      }
    }
    if (!observation) {
      const from = await this.options.store.getByPeer(response.peer);
      this.options.logger.info(
        { endpoint: from?.endpoint, peer: formatPeer(response.peer), token: response.token.toString('hex'), code: formatCode(response.code) },
        'response with an unknown token: reset',
      );
      return false;
    }
    const registration = await this.options.store.getById(observation.registrationId);
    if (!registration) {
      this.remove(observation.id, 'registration gone');
      return false;
    }
    // Built only for the log lines below: the common case, a fresh value, logs nothing.
    const context = () => ({ endpoint: observation.endpoint, path: formatPath(observation.path), code: formatCode(response.code) });
    const sequence = getUintOption(response.options, OptionNumber.OBSERVE);
    // RFC 7641 §3.2: an error response, or a response without Observe, ends the observation.
    if (!isSuccessCode(response.code) || sequence === undefined) {
      this.remove(observation.id, `device answered ${formatCode(response.code)}`, registration);
      this.options.logger.info(context(), 'observation ended by the device');
      return true;
    }
    const receivedAt = this.now();
    if (!takeInOrder(observation, sequence, receivedAt)) {
      this.options.logger.debug({ ...context(), sequence, last: observation.lastSequence }, 'stale notification dropped');
      return true;
    }
    this.publish(registration, observation, response, receivedAt);
    return true;
  };

  /** Decodes a notification (or the observe response) and emits it; a payload that does not decode is logged, not fatal. */
  publish(registration: Registration, observation: Observation, response: ReceivedResponse, time: number): void {
    const format = response.contentFormat ?? observation.contentFormat ?? defaultFormatFor(observation.path);
    if (observation.paths) {
      this.publishComposite(registration, observation, response, format, time);
      return;
    }
    const decoded = this.options.codecs.decode(format, response.payload, observation.path, this.options.model);
    if (!decoded.ok) {
      this.options.logger.warn(
        { endpoint: observation.endpoint, path: formatPath(observation.path), contentFormat: format, reason: decoded.error.message, raw: response.payload.toString('hex') },
        'undecodable notification',
      );
      return;
    }
    this.options.events.emit('notification', {
      registration,
      observationId: observation.id,
      path: observation.path,
      node: decoded.node,
      contentFormat: format,
      time,
    });
  }

  /** A composite notification is a SenML pack: one `notification` event per resource value in it. */
  private publishComposite(registration: Registration, observation: Observation, response: ReceivedResponse, format: number, time: number): void {
    let records;
    try {
      if (format !== ContentFormat.SENML_CBOR && format !== ContentFormat.SENML_JSON) throw new DecodeError(format, 0, 'composite notifications are SenML');
      records = decodeSenmlRecords(response.payload, format, this.options.model, { now: time / 1000 });
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.options.logger.warn(
        { endpoint: observation.endpoint, paths: observation.paths?.map(formatPath), contentFormat: format, reason: error.message, raw: response.payload.toString('hex') },
        'undecodable composite notification',
      );
      return;
    }
    for (const record of records) {
      const [, , resourceId, resourceInstanceId] = record.path;
      if (resourceId === undefined || record.value.type === 'none') continue;
      const node: Lwm2mNode =
        resourceInstanceId === undefined ? { kind: 'resource', id: resourceId, value: record.value } : { kind: 'resourceInstance', id: resourceInstanceId, value: record.value };
      this.options.events.emit('notification', { registration, observationId: observation.id, path: record.path, node, contentFormat: format, time });
    }
  }

  /** Persistence runs beside the exchange: a failure is logged, the observation stays live in memory. */
  private persist(write: () => Promise<void> | undefined, observation: Observation): Promise<void> {
    return Promise.resolve()
      .then(write)
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, endpoint: observation.endpoint, path: formatPath(observation.path) }, 'cannot persist observation'),
      );
  }

  private removeAllOf(registration: Registration, reason: string): void {
    for (const observation of this.byToken.values()) {
      if (observation.registrationId === registration.id) this.remove(observation.id, reason, registration);
    }
  }
}
