/**
 * The whole product wired together:
 * CoAP socket → LwM2M dispatcher → registration store + event bus → REST / MQTT.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CoapEndpoint } from './coap/endpoint.js';
import { DtlsServer } from './coap/dtls/server.js';
import type { HubConfig } from './config.js';
import { EventBus } from './events.js';
import { createHttpServer } from './http/server.js';
import { readHttpTls } from './http/auth.js';
import { defaultCodecRegistry } from './codecs/registry.js';
import { DeviceApi } from './lwm2m/device-api.js';
import { createLwm2mDispatcher } from './lwm2m/dispatcher.js';
import { ObservationService } from './lwm2m/observation/observation-service.js';
import { PresenceService } from './lwm2m/queue/presence-service.js';
import { SendHandler } from './lwm2m/send/send-handler.js';
import { RegistrationHandler } from './lwm2m/registration/registration-handler.js';
import { RegistrationPolicy } from './lwm2m/security/registration-policy.js';
import { applySecurityFile, readSecurityFile, type SecurityFileEntry } from './lwm2m/security/security-file.js';
import { createDefaultRegistry, findPackageRoot, type ObjectRegistry } from './model/object-registry.js';
import { startAutoObserve } from './lwm2m/observation/auto-observe.js';
import { MqttBridge } from './mqtt/bridge.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/broker.js';
import { createDefaultLayout } from './mqtt/default-layout.js';
import { createEmqxLayout } from './mqtt/emqx-layout.js';
import type { TopicLayout } from './mqtt/layout.js';
import { withPersistentRetained } from './mqtt/retained-store.js';
import { embeddedTransport, externalTransport, type MqttTransport } from './mqtt/transport.js';
import { FileRegistrationStore } from './store/file-store.js';
import { MemoryRegistrationStore } from './store/memory-store.js';
import { FileObservationStore, MemoryObservationStore, type ObservationStore } from './store/observation-store.js';
import type { RegistrationStore } from './store/registration-store.js';
import { openSecurityStore, pskLookup, type SecurityStore } from './store/security-store.js';

export interface ListenAddress {
  readonly address: string;
  readonly port: number;
}

export interface Hub {
  readonly store: RegistrationStore;
  /** PSK entries by endpoint (`pskLookup(securityStore)` is what the DTLS server asks). */
  readonly securityStore: SecurityStore;
  readonly objects: ObjectRegistry;
  readonly devices: DeviceApi;
  readonly observations: ObservationService;
  readonly events: EventBus;
  readonly coap: ListenAddress;
  /** The CoAP over DTLS listener; undefined with `--coaps-port off`. */
  readonly coaps: ListenAddress | undefined;
  readonly http: ListenAddress;
  /** The embedded broker's listener; undefined with an external broker (--mqtt-url). */
  readonly mqtt: ListenAddress | undefined;
  readonly mqttTransport: MqttTransport;
  /** `METHOD /path` of every REST route. */
  readonly httpRoutes: readonly string[];
  /** Stops listening, flushes the store, closes the broker. Safe to call twice. */
  stop(): Promise<void>;
}

const STOP_DRAIN_MS = 1000;

export const VERSION: string = (JSON.parse(readFileSync(path.join(findPackageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

export async function startHub(config: HubConfig, logger: Logger): Promise<Hub> {
  const events = new EventBus(logger);
  // A broken definition file is reported and skipped: the hub still starts (unknown objects stay untyped).
  const objects = await createDefaultRegistry(config.objectsDir ? [config.objectsDir] : [], ({ file, reason }) =>
    logger.warn({ file, reason }, 'object definition skipped'),
  );
  // Files that can be wrong are read before any store opens: a bad one changes nothing.
  const securityFile = config.securityFile === undefined ? undefined : await readSecurityFile(config.securityFile);
  const httpTls = await readHttpTls(config.httpTlsCert, config.httpTlsKey);
  const { store, observationStore } = await openStores(config, logger);
  const securityStore = await openSecurity(config, securityFile, logger).catch(async (error: unknown) => {
    await Promise.all([store.close(), observationStore.close()]);
    throw error;
  });
  const policy = new RegistrationPolicy({ securityStore, allowUnsecured: config.allowUnsecured });
  const registrations = new RegistrationHandler({ store, events, logger, expiryGraceMs: config.expiryGrace * 1000, policy });
  await registrations.start();

  const coap = await CoapEndpoint.bind({
    host: config.coapHost,
    port: config.coapPort,
    logger,
    // Bound now so that a port in use fails before anything else starts; served once all is wired.
    holdUntilOpen: true,
    // RFC 7959: block size for our requests and early negotiation, and the largest reassembled body.
    ...(config.coapBlockSize !== undefined ? { blockSize: config.coapBlockSize } : {}),
    maxBodyBytes: config.coapMaxBody,
    transmission: {
      ackTimeoutMs: config.coapAckTimeout * 1000,
      ackRandomFactor: config.coapAckRandomFactor,
      maxRetransmit: config.coapMaxRetransmit,
    },
  });
  if (config.coapsPort !== undefined) {
    // RFC 7252 §9.1 coaps:// on its own port and the same address; requests to its peers leave from it.
    const dtls = await DtlsServer.bind({ host: config.coapHost, port: config.coapsPort, logger, pskForIdentity: pskLookup(securityStore) }).catch(
      async (error: unknown) => {
        await coap.close();
        throw error;
      },
    );
    coap.attachSecureTransport(dtls);
  }
  const codecs = defaultCodecRegistry;
  const observations = new ObservationService({ store, events, codecs, model: objects, logger, persistence: observationStore });
  const restored = await observations.restore();
  if (restored > 0 || (await store.count()) > 0) logger.info({ registrations: await store.count(), observations: restored }, 'state restored');
  const presence = new PresenceService({ events, logger, awakeWindowMs: config.queueAwakeTime * 1000, queueSize: config.queueSize });
  const devices = new DeviceApi({ coap, store, codecs, model: objects, observations, presence, events, logger });
  const sends = new SendHandler({ store, events, model: objects, logger });
  coap.onRequest = createLwm2mDispatcher(registrations, sends, logger);
  coap.onUnmatchedResponse = observations.handleNotification;
  coap.resolveObserveRequest = observations.requestFor;

  // What is running, in the order it stops: listeners first (no new work), then the
  // LwM2M services, the MQTT bridge, the broker it publishes into, and the store last.
  const running: { coap: CoapEndpoint; http?: FastifyInstance; bridge?: MqttBridge; stopAutoObserve?: () => void; transport?: MqttTransport; broker?: EmbeddedBroker } = { coap };
  const stopAll = async () => {
    const steps: [string, () => unknown][] = [
      // In-flight exchanges get a bounded second to finish; the CLI exits within 2 s regardless.
      ['CoAP listener', () => running.coap.close(STOP_DRAIN_MS)],
      ['REST listener', () => running.http?.close()],
      ['LwM2M services', () => (registrations.stop(), presence.stop())],
      ['MQTT bridge', () => (running.stopAutoObserve?.(), running.bridge?.stop(), running.transport?.close())],
      ['MQTT broker', () => running.broker?.close()],
      ['store', () => Promise.all([store.close(), observationStore.close(), securityStore.close()])],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        logger.warn({ err: error, step: name }, 'error while stopping');
      }
    }
  };

  try {
    if (config.mqttUrl) {
      running.transport = await externalTransport(config.mqttUrl, { bufferSize: config.mqttBuffer, logger, qos: config.mqttQos });
    } else {
      running.broker = await startEmbeddedBroker({
        host: config.mqttHost,
        port: config.mqttPort,
        logger,
        wsPort: config.mqttWsPort,
        tlsPort: config.mqttTlsPort,
        tlsCert: config.mqttTlsCert,
        tlsKey: config.mqttTlsKey,
        auth: config.mqttAuth,
        prefix: config.mqttPrefix,
      });
      running.transport = embeddedTransport(running.broker, logger, config.mqttQos);
      // The embedded broker forgets retained messages on restart; with a data directory we do not.
      if (config.dataDir) running.transport = await withPersistentRetained(running.transport, config.dataDir, logger);
    }
    const layout: TopicLayout =
      config.mqttCompat === 'emqx' ? createEmqxLayout() : createDefaultLayout({ prefix: config.mqttPrefix, names: config.mqttNames });
    // The embedded broker starts empty: the stored registrations' retained state is republished.
    const stored = running.broker ? () => store.list() : undefined;
    running.bridge = new MqttBridge({ transport: running.transport, layout, events, devices, model: objects, logger, stored });
    await running.bridge.start();
    running.stopAutoObserve = startAutoObserve({ paths: config.autoObserve, events, devices, model: objects, logger });

    const transport = running.transport;
    const broker = running.broker;
    const mqttStats = () => {
      const bridge = transport.stats();
      const embedded = broker?.stats();
      return { connected: bridge.connected, published: bridge.published, dropped: bridge.dropped, ...(embedded ? { brokerClients: embedded.clients, brokerDropped: embedded.droppedMessages } : {}) };
    };
    const httpAccess = { securityStore, auth: { basic: config.httpAuth, token: config.httpToken }, ...(httpTls ? { tls: httpTls } : {}) };
    running.http = createHttpServer({ store, objects, devices, observations, events, logger, version: VERSION, eventBuffer: config.eventBuffer, mqttStats, topicLayout: layout, presence, ...httpAccess });
    if (!config.httpAuth && !config.httpToken) logger.warn('REST API and web page accept requests without credentials (no --http-auth or --http-token)');
    await running.http.listen({ host: config.httpHost, port: config.httpPort });

    const httpAddress = running.http.server.address() as AddressInfo;
    const hub: Hub = {
      store,
      securityStore,
      objects,
      devices,
      observations,
      events,
      coap: coap.address(),
      coaps: coap.secureAddress(),
      http: { address: httpAddress.address, port: httpAddress.port },
      mqtt: running.broker?.address(),
      mqttTransport: running.transport,
      httpRoutes: running.http.apiRoutes,
      stop: once(stopAll),
    };
    coap.open();
    logger.info(
      { coap: hub.coap, coaps: hub.coaps, http: hub.http, mqtt: hub.mqtt ?? config.mqttUrl, mqttWs: running.broker?.wsAddress(), mqttTls: running.broker?.tlsAddress(), version: VERSION },
      'lwm2m-hub started',
    );
    return hub;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** `--store file` (the default with `--data-dir`) keeps registrations and observations across restarts. */
function storeKind(config: HubConfig): 'memory' | 'file' | 'redis' {
  return config.store ?? (config.dataDir ? 'file' : 'memory');
}

async function openStores(config: HubConfig, logger: Logger): Promise<{ store: RegistrationStore; observationStore: ObservationStore }> {
  const kind = storeKind(config);
  if (kind === 'memory') return { store: new MemoryRegistrationStore(), observationStore: new MemoryObservationStore() };
  if (kind === 'redis') {
    if (!config.redisUrl) throw new Error('--store redis needs --redis-url');
    // Loaded only for --store redis (ioredis is a tenth of the start-up time otherwise).
    const { openRedisStores } = await import('./store/redis-store.js');
    return openRedisStores(config.redisUrl, { logger });
  }
  if (!config.dataDir) throw new Error('--store file needs --data-dir');
  const store = await FileRegistrationStore.open(config.dataDir, { logger });
  try {
    return { store, observationStore: await FileObservationStore.open(config.dataDir, { logger }) };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** PSK entries live beside the registrations (same kind of store); `--security-file` entries are put in at start. */
async function openSecurity(config: HubConfig, fileEntries: readonly SecurityFileEntry[] | undefined, logger: Logger): Promise<SecurityStore> {
  const securityStore = await openSecurityStore(storeKind(config), { dataDir: config.dataDir, redisUrl: config.redisUrl, logger });
  try {
    if (fileEntries && config.securityFile !== undefined) await applySecurityFile(fileEntries, securityStore, config.securityFile, logger);
    return securityStore;
  } catch (error) {
    await securityStore.close();
    throw error;
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => (promise ??= fn());
}
