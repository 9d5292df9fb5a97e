/**
 * The embedded MQTT broker: Aedes on a TCP listener, and optionally on MQTT
 * over WebSocket and MQTT over TLS listeners, with the users and topic ACL of
 * `--mqtt-auth` (see ./auth.ts). The topic mapping of registrations and values
 * is the MQTT bridge's business, not the broker's.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import aedesPersistence, { type Packet as AedesPacket } from 'aedes-persistence';
import type { Logger } from 'pino';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { coalesceWebSocketWrites, coalesceWrites } from './coalesced-writes.js';
import { authenticateUser, mayPublish, maySubscribe, parseMqttAuth, type MqttUser, type MqttUsers } from './auth.js';

/**
 * Aedes's in-memory persistence as Aedes 1.x uses it: by promises. (The package's declarations
 * give only the callback form, which waits for a `ready` event that Aedes 1.x never causes, and
 * call the factory `default`, where the CommonJS module is the factory itself.)
 */
interface MemoryPersistence {
  storeRetained(packet: AedesPacket): Promise<void>;
}
const aedesMemoryPersistence = aedesPersistence as unknown as () => MemoryPersistence;

export interface ListenerAddress {
  address: string;
  port: number;
}

/**
 * What keeps a slow or frozen subscriber from growing the broker's memory.
 *
 * Aedes delivers a message to all its subscribers before the message frees its
 * slot; a subscriber whose socket does not drain holds the slot. So at most
 * `concurrency` messages are in flight (each also sits in the kernel/socket
 * buffer of the slow client), and `drainTimeoutMs` bounds how long a frozen
 * subscriber may hold them: it is then disconnected and its pending messages
 * are dropped (counted in stats()). Client publishers are paced by this too:
 * Aedes reads a client's next packets only once its last publish was handed
 * over. `queueLimit` bounds the packets a client may send before its CONNECT
 * is accepted (queued while the password is checked); past it the client is
 * disconnected and the packets dropped.
 */
export interface BrokerLimits {
  /** Messages in flight at once (Aedes `concurrency`, its default is 100). */
  readonly concurrency: number;
  /** Packets queued per client before CONNACK (Aedes `queueLimit`, default 42). */
  readonly queueLimit: number;
  /** A subscriber whose socket does not drain within this is disconnected (Aedes `drainTimeout`, default 60 s). */
  readonly drainTimeoutMs: number;
}

/**
 * LwM2M values are small (a few hundred bytes), so 256 slots are well under a
 * megabyte of payload, and give a burst of notifications room before a
 * stalled subscriber holds up the others. 10 s (the low end of what Aedes
 * recommends) is long for a healthy client on any network, and short enough
 * that one frozen client does not stop delivery to the others for a minute.
 * 64 leaves room for a client that pipelines its SUBSCRIBEs after CONNECT
 * while an scrypt password is verified.
 */
export const DEFAULT_BROKER_LIMITS: BrokerLimits = { concurrency: 256, queueLimit: 64, drainTimeoutMs: 10_000 };

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** TCP port for MQTT (0: any free port). */
  readonly port: number;
  readonly logger: Logger;
  /** MQTT over WebSocket port; no WebSocket listener when undefined. */
  readonly wsPort?: number;
  /** MQTT over TLS port (default 8883); the TLS listener runs only when both tlsCert and tlsKey are given. */
  readonly tlsPort?: number;
  /** PEM certificate (chain) file of the TLS listener. */
  readonly tlsCert?: string;
  /** PEM private key file of the TLS listener. */
  readonly tlsKey?: string;
  /** `--mqtt-auth`: `user:password[:endpoint]` entries separated by commas, or `@file`; anonymous access when undefined. */
  readonly auth?: string;
  /** First topic level (`--mqtt-prefix`): device-scoped users are confined to `{prefix}/{endpoint}/#`. Default `lwm2m`. */
  readonly prefix?: string;
  /** Back-pressure limits; DEFAULT_BROKER_LIMITS for the ones not given. */
  readonly limits?: Partial<BrokerLimits>;
}

export interface BrokerStats {
  /**
   * Messages Aedes gave up on: deliveries lost with a subscriber disconnected
   * for not draining its socket in time, and one per client disconnected for
   * sending more than queueLimit packets before its CONNACK.
   */
  readonly droppedMessages: number;
  /** Clients connected now. */
  readonly clients: number;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /**
   * Makes `payload` the retained message of `topic` (an empty payload clears it), without
   * delivering it: see embeddedTransport for why the two are apart.
   */
  retain(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  address(): ListenerAddress;
  /** The MQTT over WebSocket listener, when there is one. */
  wsAddress(): ListenerAddress | undefined;
  /** The MQTT over TLS listener, when there is one. */
  tlsAddress(): ListenerAddress | undefined;
  stats(): BrokerStats;
  /** Stops every listener and Aedes, and drops the connections still open. */
  close(): Promise<void>;
}

const DEFAULT_TLS_PORT = 8883;

interface Listener {
  readonly name: string;
  readonly server: Server | HttpServer | TlsServer;
  readonly port: number;
}

function readPemFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { logger } = options;
  const prefix = options.prefix ?? 'lwm2m';
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...options.limits };

  // Everything that can be wrong with the options fails here, before any socket is opened.
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    const [given, missing] = options.tlsCert === undefined ? ['--mqtt-tls-key', '--mqtt-tls-cert'] : ['--mqtt-tls-cert', '--mqtt-tls-key'];
    throw new Error(`${given} is set but ${missing} is missing: the MQTT TLS listener needs both`);
  }
  let tlsServer: TlsServer | undefined;
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) {
    const cert = readPemFile(options.tlsCert, '--mqtt-tls-cert');
    const key = readPemFile(options.tlsKey, '--mqtt-tls-key');
    try {
      tlsServer = createTlsServer({ cert, key, noDelay: true });
    } catch (error) {
      throw new Error(`invalid --mqtt-tls-cert/--mqtt-tls-key (${options.tlsCert}, ${options.tlsKey}): ${(error as Error).message}`);
    }
  }
  const users: MqttUsers | undefined = options.auth === undefined ? undefined : parseMqttAuth(options.auth);

  let droppedMessages = 0;
  const userOf = new WeakMap<Client, MqttUser>();
  // Aedes's own in-memory persistence, made here so that retain() can store into it.
  const persistence = aedesMemoryPersistence();
  const aedesOptions: AedesOptions = {
    persistence,
    concurrency: limits.concurrency,
    queueLimit: limits.queueLimit,
    drainTimeout: limits.drainTimeoutMs,
  };
  if (users !== undefined) {
    aedesOptions.authenticate = (client, username, password, done) => {
      authenticateUser(users, username, password).then(
        (result) => {
          if (result.ok) {
            userOf.set(client, result.user);
            done(null, true);
            return;
          }
          logger.info({ client: client.id, username, reason: result.reason }, 'MQTT client refused');
          done(
            Object.assign(new Error(`MQTT client refused: ${result.reason}`), { returnCode: result.returnCode }) as AuthenticateError,
            false,
          );
        },
        (error: unknown) => {
          logger.error({ err: error, client: client.id }, 'MQTT authentication failed');
          done(Object.assign(new Error('MQTT authentication failed'), { returnCode: 3 }) as AuthenticateError, false); // 3: server unavailable
        },
      );
    };
    aedesOptions.authorizePublish = (client, packet, done) => {
      // No client: a will left by a client of another broker instance; whose it was is unknown, so it is refused.
      const user = client === null ? undefined : userOf.get(client);
      if (user !== undefined && mayPublish(user, packet.topic, prefix)) {
        done(null);
        return;
      }
      logger.warn(
        { client: client?.id, username: user?.username, topic: packet.topic },
        'MQTT publish refused (Aedes disconnects the client)',
      );
      // Aedes closes the connection (MQTT 3.1.1 has no negative PUBACK, §3.3.5).
      done(new Error(`not authorized to publish to ${packet.topic}`));
    };
    aedesOptions.authorizeSubscribe = (client, subscription, done) => {
      const user = userOf.get(client);
      if (user !== undefined && maySubscribe(user, subscription.topic, prefix)) {
        done(null, subscription);
        return;
      }
      logger.warn({ client: client.id, username: user?.username, topic: subscription.topic }, 'MQTT subscription refused');
      // null: SUBACK return code 0x80, Failure (MQTT 3.1.1 §3.9.3); the client stays connected.
      done(null, null);
    };
  }

  // Server objects first (no sockets yet), so that a listener that cannot start leaves nothing behind.
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  // Nagle's algorithm off (TCP_NODELAY): a value published while an earlier segment waits for
  // its ACK would otherwise wait too, and a subscriber that only reads delays that ACK by up to
  // 40 ms on Linux; at 8 000 notifications/s that was the whole of the p99 latency (48 ms; 23 ms
  // without it). Writes are batched per event-loop turn instead (coalesced-writes.ts).
  const tcpServer = createNetServer({ noDelay: true });
  const listeners: Listener[] = [{ name: 'MQTT', server: tcpServer, port: options.port }];
  let wsServer: HttpServer | undefined;
  let wss: WebSocketServer | undefined;
  if (options.wsPort !== undefined) {
    wsServer = createHttpServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('MQTT over WebSocket: upgrade required\n');
    });
    wss = new WebSocketServer({ server: wsServer });
    listeners.push({ name: 'MQTT over WebSocket', server: wsServer, port: options.wsPort });
  }
  if (tlsServer !== undefined) listeners.push({ name: 'MQTT over TLS', server: tlsServer, port: options.tlsPort ?? DEFAULT_TLS_PORT });

  const aedes = await Aedes.createBroker(aedesOptions);
  // Counting drops from Aedes's error events (Aedes 1.x has no drop event):
  // - `Client queue limit reached`: the first packet past queueLimit before
  //   CONNACK (Aedes then closes the client; what it sent after is not seen);
  // - `drain timeout`: one for the socket Aedes destroys, then one per delivery
  //   still waiting for that socket to drain, which are lost with it;
  // - `connection closed`, for a client cut by the drain timeout: one per
  //   message that reached its subscriptions before Aedes removed them.
  // Other `connection closed` errors (a client leaving while a message is on
  // its way) are ordinary disconnects, not back-pressure, and not counted.
  const drainTimedOut = new WeakSet<Client>();
  const onError = (event: string) => (client: Client, error: Error) => {
    if (error.message === 'Client queue limit reached') {
      droppedMessages++;
      logger.debug(
        { client: client.id, queueLimit: limits.queueLimit },
        'MQTT client sent too much before its CONNECT was accepted: disconnected, packet dropped',
      );
      return;
    } else if (error.message === 'drain timeout') {
      if (drainTimedOut.has(client)) {
        droppedMessages++;
      } else {
        drainTimedOut.add(client);
        logger.warn(
          { client: client.id, drainTimeoutMs: limits.drainTimeoutMs },
          'MQTT client too slow: disconnected, its pending messages dropped',
        );
      }
      return;
    } else if (error.message === 'connection closed' && drainTimedOut.has(client)) {
      droppedMessages++;
      return;
    }
    logger.debug({ err: error, client: client.id }, event);
  };
  aedes.on('clientError', onError('MQTT client error'));
  aedes.on('connectionError', onError('MQTT connection error'));

  tcpServer.on('connection', (socket: Socket) => {
    track(socket);
    coalesceWrites(socket);
    aedes.handle(socket);
  });
  if (tlsServer !== undefined) {
    tlsServer.on('connection', track);
    tlsServer.on('secureConnection', (socket) => {
      coalesceWrites(socket);
      aedes.handle(socket);
    });
    tlsServer.on('tlsClientError', (error) => logger.debug({ err: error }, 'MQTT TLS handshake failed'));
  }
  if (wsServer !== undefined && wss !== undefined) {
    wsServer.on('connection', track);
    wss.on('connection', (websocket, request) => {
      const stream = createWebSocketStream(websocket);
      coalesceWebSocketWrites(stream);
      // Errors of the stream are Aedes's once it handles it; this one only covers a failure before.
      stream.on('error', (error) => logger.debug({ err: error }, 'MQTT WebSocket error'));
      aedes.handle(stream, request);
    });
    // ws re-emits the HTTP server's errors here; they are logged (or thrown at start) for the server.
    wss.on('error', (error) => logger.debug({ err: error }, 'MQTT WebSocket server error'));
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // No new connections; then Aedes closes its clients, and whatever is left
      // (a TLS handshake, a CONNECT still being authenticated) is cut.
      const closed = listeners
        .filter((l) => l.server.listening)
        .map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())));
      wss?.close();
      const aedesClosed = new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await aedesClosed;
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    })());

  try {
    for (const listener of listeners) {
      await listen(listener, options.host);
      listener.server.on('error', (error) => logger.error({ err: error }, `${listener.name} listener error`));
    }
  } catch (error) {
    await close();
    throw error;
  }

  if (users === undefined) logger.warn('MQTT broker accepts anonymous clients (no --mqtt-auth)');
  else logger.info({ users: users.users.size, source: users.source }, 'MQTT broker requires a user name and password');

  const addressOf = (server: Server | HttpServer | TlsServer | undefined): ListenerAddress | undefined => {
    const info = server?.address() as AddressInfo | null | undefined;
    return info ? { address: info.address, port: info.port } : undefined;
  };
  return {
    aedes,
    retain: (topic, payload, qos) =>
      persistence.storeRetained({ cmd: 'publish', topic, payload, qos, retain: true, dup: false, brokerId: aedes.id, brokerCounter: 0 }),
    address: () => addressOf(tcpServer) ?? { address: options.host, port: options.port },
    wsAddress: () => addressOf(wsServer),
    tlsAddress: () => addressOf(tlsServer),
    stats: () => ({ droppedMessages, clients: aedes.connectedClients }),
    close,
  };
}

function listen(listener: Listener, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) =>
      reject(new Error(`cannot listen for ${listener.name} on ${host} port ${listener.port}: ${error.message}`));
    listener.server.once('error', onError);
    listener.server.listen({ host, port: listener.port }, () => {
      listener.server.off('error', onError);
      resolve();
    });
  });
}
