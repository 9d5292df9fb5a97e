/**
 * The DTLS load generator, in a worker thread so that it does not share the hub's event
 * loop. Each client has its own socket (its own source port) and PSK identity
 * `{prefix}{i}-id` with key `{prefix}{i}-key`, bound to endpoint `{prefix}{i}`.
 *   handshake: full handshakes (cookie exchange included) one after the other, each ended by close_notify
 *   register:  one handshake, then POST /rd?ep=… and DELETE /rd/{id} over the session, in a loop
 *   notify:    simulated LwM2M clients (over DTLS or plain UDP) that notify in rounds on command
 */
import { createSocket, type Socket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { Method } from '../src/coap/codes.js';
import { decodeMessage } from '../src/coap/message.js';
import { getStringOptions, OptionNumber } from '../src/coap/options.js';
import { DtlsClientConnection } from '../test/support/dtls-client.js';
import { LwM2mSimulator } from '../test/support/simulator/index.js';
import { oneAtATime, request } from './exchange.js';
import { LatencySamples, type LatencySummary } from './stats.js';

export interface DtlsWorkerData {
  readonly scenario: 'handshake' | 'register' | 'notify';
  readonly host: string;
  readonly port: number;
  readonly clients: number;
  readonly durationMs: number;
  readonly prefix: string;
  /** notify: talk DTLS (else plain CoAP to `port`). */
  readonly dtls?: boolean;
}

export interface DtlsWorkerResult {
  readonly completed: number;
  readonly failures: number;
  readonly latency: LatencySummary;
  readonly elapsedMs: number;
}

export type NotifyCommand = { type: 'round'; value: number } | { type: 'stop' };
export type NotifyEvent = { type: 'ready' } | { type: 'round-sent' } | { type: 'stopped' };

export function credentialsOf(prefix: string, index: number): { endpoint: string; identity: string; key: Buffer } {
  return { endpoint: `${prefix}${index}`, identity: `${prefix}${index}-id`, key: Buffer.from(`${prefix}${index}-key`) };
}

async function openSocket(host: string): Promise<Socket> {
  const ipv4 = !host.includes(':');
  const socket = createSocket(ipv4 ? 'udp4' : 'udp6');
  await new Promise<void>((resolve) => socket.bind(0, ipv4 ? '127.0.0.1' : '::1', resolve));
  socket.on('error', () => undefined);
  return socket;
}

/** One handshake on `socket`; the connection it made, or undefined when it failed. */
async function handshake(socket: Socket, data: DtlsWorkerData, index: number): Promise<DtlsClientConnection | undefined> {
  const { identity, key } = credentialsOf(data.prefix, index);
  const connection = new DtlsClientConnection({ identity, key, retransmitMs: 1000 }, (datagram) =>
    socket.send(datagram, data.port, data.host),
  );
  socket.removeAllListeners('message');
  socket.on('message', (datagram) => connection.receive(datagram));
  connection.start();
  try {
    await connection.connected;
    return connection;
  } catch {
    return undefined;
  }
}

type Tally = { completed: number; failures: number; latencies: LatencySamples };

/** Repeats `attempt` until `deadline`, counting each success with its latency and each failure. */
async function untilDeadline(deadline: number, tally: Tally, attempt: () => Promise<boolean>): Promise<void> {
  while (performance.now() < deadline) {
    const started = performance.now();
    if (!(await attempt())) {
      tally.failures++;
      continue;
    }
    tally.completed++;
    tally.latencies.add(performance.now() - started);
  }
}

async function handshakeLoop(data: DtlsWorkerData, index: number, deadline: number, tally: Tally): Promise<void> {
  const socket = await openSocket(data.host);
  await untilDeadline(deadline, tally, async () => {
    const connection = await handshake(socket, data, index);
    connection?.close();
    return connection !== undefined;
  });
  socket.close();
}

async function registerLoop(data: DtlsWorkerData, index: number, deadline: number, tally: Tally): Promise<void> {
  const socket = await openSocket(data.host);
  const connection = await handshake(socket, data, index);
  if (!connection) {
    tally.failures++;
    socket.close();
    return;
  }
  let messageId = (index * 7919) & 0xffff;
  const { exchange: send, receive } = oneAtATime((bytes) => connection.send(bytes));
  connection.onData = receive;
  const exchange = (method: number, uriPath: string[], uriQuery: string[], payload: string): Promise<Buffer | undefined> => {
    messageId = (messageId + 1) & 0xffff;
    return send(request(messageId, method, uriPath, uriQuery, payload));
  };
  const { endpoint } = credentialsOf(data.prefix, index);
  await untilDeadline(deadline, tally, async () => {
    const created = await exchange(Method.POST, ['rd'], [`ep=${endpoint}`, 'lt=300', 'b=U'], '</1/0>,</3/0>,</3303/0>');
    const decoded = created ? decodeMessage(created) : undefined;
    const location = decoded?.ok ? getStringOptions(decoded.message.options, OptionNumber.LOCATION_PATH) : [];
    return location.length === 2 && (await exchange(Method.DELETE, location, [], '')) !== undefined;
  });
  connection.close();
  socket.close();
}

async function notifyClients(data: DtlsWorkerData): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const sims: LwM2mSimulator[] = [];
  for (let i = 0; i < data.clients; i++) {
    const { endpoint, identity, key } = credentialsOf(data.prefix, i);
    const sim = await LwM2mSimulator.start({
      endpoint,
      serverPort: data.port,
      serverAddress: data.host,
      lwm2mVersion: '1.1',
      ...(data.dtls ? { dtls: { identity, key, retransmitMs: 1000 } } : {}),
    });
    sims.push(sim);
    await sim.register();
  }
  port.postMessage({ type: 'ready' } satisfies NotifyEvent);
  port.on('message', (command: NotifyCommand) => {
    if (command.type === 'round') {
      for (const sim of sims) sim.setValue('/3303/0/5700', { type: 'float', value: command.value });
      port.postMessage({ type: 'round-sent' } satisfies NotifyEvent);
    } else {
      void Promise.all(sims.map((s) => s.stop())).then(() => port.postMessage({ type: 'stopped' } satisfies NotifyEvent));
    }
  });
}

async function main(): Promise<void> {
  const data = workerData as DtlsWorkerData;
  if (data.scenario === 'notify') return notifyClients(data);
  const tally: Tally = { completed: 0, failures: 0, latencies: new LatencySamples() };
  const started = performance.now();
  const deadline = started + data.durationMs;
  const loop = data.scenario === 'handshake' ? handshakeLoop : registerLoop;
  await Promise.all(Array.from({ length: data.clients }, (_, i) => loop(data, i, deadline, tally)));
  const { latencies, ...counts } = tally;
  parentPort?.postMessage({ ...counts, latency: latencies.summary(), elapsedMs: performance.now() - started } satisfies DtlsWorkerResult);
}

// bench/dtls.ts imports this module for credentialsOf and the types: only a worker runs the generator.
if (parentPort) void main();
