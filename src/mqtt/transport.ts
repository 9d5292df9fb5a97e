/**
 * Where the bridge publishes and subscribes: the embedded Aedes broker, or an
 * external broker reached with MQTT.js. The bridge cannot tell them apart.
 */
import { Socket } from 'node:net';
import type { EmbeddedBroker } from './broker.js';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { topicMatches } from './topic-filter.js';

export interface IncomingMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** MQTT 5 request/response (§4.10): where to answer, and what to echo. */
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
}

export interface PublishRequest {
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly retain: boolean;
  readonly correlationData?: Buffer;
  /** Retained state the registration store rebuilds at start (see OutgoingMessage.fromStore). */
  readonly fromStore?: true;
}

export interface MqttTransport {
  /** Fire and forget; a transport that cannot send now buffers (bounded) or drops, and counts. */
  publish(message: PublishRequest): void;
  subscribe(filters: readonly string[], onMessage: (message: IncomingMessage) => void): Promise<void>;
  stats(): { published: number; dropped: number; connected: boolean };
  close(): Promise<void>;
}

/**
 * A Buffer is handed on as it is, not copied: the retained store keeps the same bytes
 * that Aedes retains, so 100 000 retained registrations are held once.
 */
function toBuffer(payload: string | Buffer): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
}

/**
 * Publishes into the embedded broker directly, with no network hop. Aedes writes each delivery
 * in an immediate of its own; the broker's connections gather a turn's writes into one
 * (coalesced-writes.ts), so publishing here at once costs no extra syscalls.
 *
 * A retained message is stored apart (`retain`) and published without the retain flag, which
 * changes nothing for subscribers (MQTT 3.1.1 §3.3.1.3: a message that matches an established
 * subscription goes out with RETAIN 0). Published retained, Aedes stores it first and delivers
 * it one promise later; a message published right after it without retain (a registration's
 * event after its registration) was delivered first, and Aedes then dropped the retained one as a
 * duplicate for every client that had both: it keeps, per client, the highest message number
 * delivered, and numbers messages as they are published. Stored apart, everything is delivered
 * in the order it was published.
 */
export function embeddedTransport(broker: Pick<EmbeddedBroker, 'aedes' | 'retain'>, logger: Logger, qos: 0 | 1 = 0): MqttTransport {
  const { aedes } = broker;
  let published = 0;
  let dropped = 0;
  const failed = (topic: string) => (error?: Error) => {
    if (error) {
      dropped++;
      logger.warn({ err: error, topic }, 'MQTT publish failed');
    }
  };
  return {
    publish(message) {
      published++;
      const payload = toBuffer(message.payload);
      const done = failed(message.topic);
      if (message.retain) broker.retain(message.topic, payload, qos).catch(done);
      aedes.publish({ cmd: 'publish', topic: message.topic, payload, qos, retain: false, dup: false }, done);
    },
    async subscribe(filters, onMessage) {
      for (const filter of filters) {
        await new Promise<void>((resolve) =>
          aedes.subscribe(
            filter,
            (packet, callback) => {
              // Aedes 1.x speaks MQTT 3.1.1: no response topic or correlation data here.
              onMessage({ topic: packet.topic, payload: Buffer.from(packet.payload) });
              callback();
            },
            () => resolve(),
          ),
        );
      }
    },
    stats: () => ({ published, dropped, connected: true }),
    async close() {},
  };
}

const MIN_RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 30_000;

/**
 * An MQTT 5 client of an external broker. While the broker is unreachable,
 * messages wait in a bounded buffer (the oldest are dropped first, and counted);
 * reconnection backs off from 1 s to 30 s.
 */
export async function externalTransport(
  url: string,
  options: { bufferSize: number; logger: Logger; clientId?: string; qos?: 0 | 1 },
): Promise<MqttTransport> {
  const { logger } = options;
  const clientOptions: IClientOptions = {
    protocolVersion: 5,
    reconnectPeriod: MIN_RECONNECT_MS,
    connectTimeout: 10_000,
    clientId: options.clientId ?? `lwm2m-hub-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    // Our own bounded buffer replaces MQTT.js's unbounded offline queue.
    queueQoSZero: false,
  };
  // Loaded only for an external broker: MQTT.js is a quarter of the start-up time otherwise.
  const { default: mqtt } = await import('mqtt');
  const client: MqttClient = mqtt.connect(url, clientOptions);
  const buffer: PublishRequest[] = [];
  const subscriptions: { filters: readonly string[]; onMessage: (message: IncomingMessage) => void }[] = [];
  let published = 0;
  let dropped = 0;

  const send = (message: PublishRequest) => {
    published++;
    client.publish(
      message.topic,
      Buffer.from(message.payload),
      {
        qos: options.qos ?? 0,
        retain: message.retain,
        ...(message.correlationData ? { properties: { correlationData: message.correlationData } } : {}),
      },
      (error) => {
        if (error) {
          dropped++;
          logger.debug({ err: error, topic: message.topic }, 'MQTT publish failed');
        }
      },
    );
  };

  client.on('connect', () => {
    // Each connection is a new socket; see noDelay in broker.ts for why Nagle's algorithm is off.
    if (client.stream instanceof Socket) client.stream.setNoDelay(true);
    client.options.reconnectPeriod = MIN_RECONNECT_MS;
    logger.info({ url }, 'connected to the MQTT broker');
    for (const message of buffer.splice(0)) send(message);
  });
  client.on('offline', () => {
    client.options.reconnectPeriod = Math.min((client.options.reconnectPeriod ?? MIN_RECONNECT_MS) * 2, MAX_RECONNECT_MS);
    logger.warn({ url, retryInMs: client.options.reconnectPeriod }, 'MQTT broker unreachable; buffering');
  });
  client.on('error', (error) => logger.warn({ err: error, url }, 'MQTT client error'));
  client.on('message', (topic, payload, packet) => {
    const properties = packet.properties;
    const message: IncomingMessage = {
      topic,
      payload,
      ...(properties?.responseTopic ? { responseTopic: properties.responseTopic } : {}),
      ...(properties?.correlationData ? { correlationData: properties.correlationData } : {}),
    };
    for (const subscription of subscriptions) {
      if (subscription.filters.some((filter) => topicMatches(filter, topic))) subscription.onMessage(message);
    }
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => reject(new Error(`cannot connect to MQTT broker ${url}: ${error.message}`));
    client.once('connect', () => {
      client.off('error', fail);
      resolve();
    });
    client.once('error', fail);
  });

  return {
    publish(message) {
      if (client.connected) {
        send(message);
        return;
      }
      buffer.push(message);
      if (buffer.length > options.bufferSize) {
        buffer.shift();
        dropped++;
      }
    },
    async subscribe(filters, onMessage) {
      subscriptions.push({ filters, onMessage });
      // MQTT 5 No Local (§3.8.3.1): do not hand us back what we publish ourselves.
      await client.subscribeAsync(filters.slice(), { qos: 1, nl: true });
    },
    stats: () => ({ published, dropped, connected: client.connected }),
    async close() {
      await client.endAsync();
    },
  };
}
