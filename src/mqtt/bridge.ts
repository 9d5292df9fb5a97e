/**
 * The MQTT bridge: hub events out to topics, device commands in from topics.
 * The layout decides topics and JSON; the transport decides which broker.
 */
import type { Logger } from 'pino';
import type { EventBus, HubEventName } from '../events.js';
import { FORMAT_NAMES } from '../lwm2m/content-format.js';
import type { DeviceApi, Lwm2mResponse, NotificationAttributes, RequestSettings } from '../lwm2m/device-api.js';
import { Lwm2mRequestError } from '../lwm2m/errors.js';
import { instanceFromJson, nodeFromJson, NodeJsonError } from '../http/node-json.js';
import type { Registration } from '../lwm2m/registration/registration.js';
import type { ModelProvider } from '../model/object-model.js';
import { parsePath, type Lwm2mPath } from '../model/path.js';
import type { CommandOutcome, DeviceCommand, OutgoingMessage, RegistrationEventName, TopicLayout } from './layout.js';
import type { IncomingMessage, MqttTransport } from './transport.js';

export interface MqttBridgeOptions {
  readonly transport: MqttTransport;
  readonly layout: TopicLayout;
  readonly events: EventBus;
  readonly devices: DeviceApi;
  readonly model: ModelProvider;
  readonly logger: Logger;
  readonly now?: () => number;
  /**
   * The stored registrations, when the broker forgot their retained state (the embedded
   * broker after a restart): the bridge republishes it in the background at start.
   */
  readonly stored?: () => AsyncIterable<Registration>;
}

/** Registrations republished between two yields to the event loop, so that CoAP is served meanwhile. */
const REPUBLISH_SLICE = 1000;

const REGISTRATION_EVENTS: readonly RegistrationEventName[] = ['registered', 'updated', 'deregistered', 'expired', 'awake', 'sleeping'];

export class MqttBridge {
  private readonly offs: (() => void)[] = [];
  private readonly now: () => number;
  /** Endpoints with a registration event since start: the republishing must not overwrite their newer state. */
  private touched: Set<string> | undefined;
  private republishing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: MqttBridgeOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    const { events, layout, model } = this.options;
    if (this.options.stored && layout.storedState) this.touched = new Set();
    for (const name of REGISTRATION_EVENTS) {
      this.offs.push(
        events.on(name as HubEventName & RegistrationEventName, (event) => {
          this.touched?.add(event.registration.endpoint);
          this.publishAll(layout.registrationEvent(name, event.registration, this.now()));
        }),
      );
    }
    this.offs.push(
      events.on('notification', (e) => this.publishAll(layout.values(e.registration, 'notify', e.path, e.node, e.time, model, e.observationId))),
      events.on('read', (e) => this.publishAll(layout.values(e.registration, 'read', e.path, e.node, e.time, model))),
      events.on('send', (e) => this.publishAll(layout.sent(e.registration, e.records, e.time, model))),
    );
    await this.options.transport.subscribe(layout.commandFilters(), (message) => void this.handleCommand(message));
    if (this.touched) {
      this.republishing = this.republishStored().catch((error: unknown) => this.options.logger.error({ err: error }, 'cannot republish the stored registrations to MQTT'));
    }
  }

  /** Resolves once the stored registrations are back on the broker (tests, benches). */
  async settled(): Promise<void> {
    await this.republishing;
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
  }

  private async republishStored(): Promise<void> {
    const { stored, layout, logger } = this.options;
    if (!stored || !layout.storedState) return;
    let count = 0;
    for await (const registration of stored()) {
      if (this.stopped) return;
      if (!this.touched?.has(registration.endpoint)) this.publishAll(layout.storedState(registration));
      if (++count % REPUBLISH_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.touched = undefined;
    if (count > 0) logger.info({ registrations: count }, 'stored registrations republished to MQTT');
  }

  private publishAll(messages: readonly OutgoingMessage[]): void {
    for (const message of messages) this.options.transport.publish(message);
  }

  /** Every command gets a reply, errors included: bad JSON, unknown op or endpoint never go unanswered. */
  private async handleCommand(message: IncomingMessage): Promise<void> {
    const { layout, logger, model } = this.options;
    const parsed = layout.parseCommand(message.topic, message.payload);
    if (!parsed.ok) {
      logger.info({ topic: message.topic, error: parsed.error }, 'bad MQTT command');
      if (parsed.endpoint !== undefined) this.reply(message, layout.reply(parsed.endpoint, undefined, parsed.id, { ok: false, error: parsed.error, code: 'bad_request' }, model));
      return;
    }
    const { endpoint, command } = parsed;
    let outcome: CommandOutcome;
    try {
      outcome = { ok: true, response: await this.execute(endpoint, command) };
    } catch (error) {
      if (error instanceof Lwm2mRequestError) outcome = { ok: false, error, code: error.kind };
      else if (error instanceof NodeJsonError) outcome = { ok: false, error, code: 'bad_request' };
      else {
        logger.error({ err: error, endpoint, op: command.op, path: command.path }, 'MQTT command failed');
        outcome = { ok: false, error: error as Error, code: 'internal' };
      }
    }
    this.reply(message, layout.reply(endpoint, command, command.id, outcome, model));
  }

  /** MQTT 5 §4.10: answer on the Response Topic with the Correlation Data when the request gave them. */
  private reply(request: IncomingMessage, reply: OutgoingMessage): void {
    if (request.responseTopic) {
      this.options.transport.publish({
        topic: request.responseTopic,
        payload: reply.payload,
        retain: false,
        ...(request.correlationData ? { correlationData: request.correlationData } : {}),
      });
      return;
    }
    this.options.transport.publish(reply);
  }

  private async execute(endpoint: string, command: DeviceCommand): Promise<Lwm2mResponse> {
    const { devices, model } = this.options;
    const path = pathOf(endpoint, command.path);
    const settings = settingsOf(endpoint, command.format);
    switch (command.op) {
      case 'read':
        return devices.read(endpoint, path, settings);
      case 'discover':
        return devices.discover(endpoint, path, settings);
      case 'write': {
        // A bare value is the value of the resource at `path`.
        const body = typeof command.value === 'object' && command.value !== null && !Array.isArray(command.value) ? command.value : { value: command.value };
        return devices.write(endpoint, path, nodeFromJson(body, path, model), { ...settings, ...(command.partial ? { partial: true } : {}) });
      }
      case 'execute':
        return devices.execute(endpoint, path, command.value === undefined ? '' : String(command.value), settings);
      case 'create': {
        const body = (typeof command.value === 'object' && command.value !== null ? command.value : {}) as Record<string, unknown>;
        const id = typeof body['id'] === 'number' ? body['id'] : undefined;
        return devices.create(endpoint, path, instanceFromJson(body, id ?? 0, path[0] as number, model).resources, id, settings);
      }
      case 'delete':
        return devices.delete(endpoint, path, settings);
      case 'write-attributes':
        return devices.writeAttributes(endpoint, path, (command.attributes ?? {}) as NotificationAttributes, settings);
      case 'observe':
        return devices.observe(endpoint, path, settings);
      case 'cancel': {
        const result = await devices.cancelObservation(endpoint, path, settings);
        if (!result) throw new Lwm2mRequestError('bad_request', endpoint, 'no observation of this path', path);
        return result;
      }
    }
  }
}

function pathOf(endpoint: string, text: string): Lwm2mPath {
  try {
    return parsePath(text);
  } catch (error) {
    throw new Lwm2mRequestError('bad_request', endpoint, (error as Error).message);
  }
}

function settingsOf(endpoint: string, format: string | number | undefined): RequestSettings {
  if (format === undefined) return {};
  const code = typeof format === 'number' ? format : (FORMAT_NAMES[format] ?? (/^\d+$/.test(format) ? Number(format) : undefined));
  if (code === undefined) throw new Lwm2mRequestError('bad_request', endpoint, `unknown format "${format}" (one of ${Object.keys(FORMAT_NAMES).join(', ')})`);
  return { format: code };
}
