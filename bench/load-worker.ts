/**
 * The load generator: N LwM2M clients over real UDP, each with its own socket
 * (its own source port, as real clients have), in a worker thread so that the
 * generator does not share the server's event loop. Datagrams are prebuilt CoAP
 * messages; each client keeps one exchange outstanding.
 *   register: POST /rd?ep=… then DELETE /rd/{id}, in a loop → pairs
 *   echo:     the same POST to a server that answers each datagram with itself → exchanges
 */
import { createSocket, type Socket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { Method } from '../src/coap/codes.js';
import { decodeMessage } from '../src/coap/message.js';
import { getStringOptions, OptionNumber } from '../src/coap/options.js';
import { oneAtATime, request } from './exchange.js';
import { LatencySamples, type LatencySummary } from './stats.js';

export interface LoadWorkerData {
  /** bulk: each client registers `perClient` distinct endpoints once (long lifetime) and stops. */
  readonly scenario: 'register' | 'echo' | 'bulk' | 'update';
  readonly perClient?: number;
  /** update: keep-alive updates per second across all clients (each client paces itself). */
  readonly rate?: number;
  readonly host: string;
  readonly port: number;
  readonly clients: number;
  readonly durationMs: number;
  readonly prefix: string;
}

export interface LoadWorkerResult {
  readonly completed: number;
  readonly retransmissions: number;
  readonly failures: number;
  /** Summarised here: a round's samples, posted to the main thread, would be collected there by the server's heap. */
  readonly latency: LatencySummary;
  readonly elapsedMs: number;
}

async function runClient(
  socket: Socket,
  index: number,
  data: LoadWorkerData,
  deadline: number,
  result: { completed: number; retransmissions: number; failures: number; latencies: LatencySamples },
): Promise<void> {
  let messageId = (index * 7919) & 0xffff;
  const { exchange, receive } = oneAtATime(
    (bytes) => socket.send(bytes, data.port, data.host),
    () => result.retransmissions++,
  );
  socket.on('message', receive);
  if (data.scenario === 'bulk') {
    for (let n = 0; n < (data.perClient ?? 1); n++) {
      const t0 = performance.now();
      messageId = (messageId + 1) & 0xffff;
      const reply = await exchange(
        request(messageId, Method.POST, ['rd'], [`ep=${data.prefix}${index}-${n}`, 'lt=864000', 'lwm2m=1.1'], '</1/0>,</3/0>,</3303/0>'),
      );
      if (!reply) result.failures++;
      else {
        result.completed++;
        result.latencies.add(performance.now() - t0);
      }
    }
    return;
  }
  if (data.scenario === 'update') {
    messageId = (messageId + 1) & 0xffff;
    const registered = await exchange(
      request(messageId, Method.POST, ['rd'], [`ep=${data.prefix}${index}`, 'lt=86400', 'lwm2m=1.1'], '</1/0>,</3/0>'),
    );
    const decoded = registered ? decodeMessage(registered) : undefined;
    const location = decoded?.ok ? getStringOptions(decoded.message.options, OptionNumber.LOCATION_PATH) : [];
    if (location.length !== 2) {
      result.failures++;
      return;
    }
    const intervalMs = (1000 * data.clients) / (data.rate ?? 1000);
    // Spread the clients over one interval so that the updates do not come in lockstep.
    let next = performance.now() + (intervalMs * index) / data.clients;
    while (next < deadline) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const t0 = performance.now();
      messageId = (messageId + 1) & 0xffff;
      // LwM2M Core §6.2.2: an update without parameters is a keep-alive.
      if (await exchange(request(messageId, Method.POST, location, [], ''))) {
        result.completed++;
        result.latencies.add(performance.now() - t0);
      } else result.failures++;
      next += intervalMs;
    }
    return;
  }
  const query = [`ep=${data.prefix}${index}`, 'lt=86400', 'b=U', 'lwm2m=1.1'];
  while (performance.now() < deadline) {
    const t0 = performance.now();
    messageId = (messageId + 1) & 0xffff;
    const reply = await exchange(request(messageId, Method.POST, ['rd'], query, '</1/0>,</3/0>,</3303/0>'));
    if (!reply) {
      result.failures++;
      continue;
    }
    if (data.scenario === 'register') {
      const decoded = decodeMessage(reply);
      // Liberal in what we accept: lwm2m-node-lib sends its location as one option, "rd/1".
      const location = decoded.ok
        ? getStringOptions(decoded.message.options, OptionNumber.LOCATION_PATH).flatMap((segment) => segment.split('/'))
        : [];
      if (location.length !== 2) {
        result.failures++;
        continue;
      }
      messageId = (messageId + 1) & 0xffff;
      const deleted = await exchange(request(messageId, Method.DELETE, location, [], ''));
      if (!deleted) {
        result.failures++;
        continue;
      }
    }
    result.completed++;
    result.latencies.add(performance.now() - t0);
  }
}

async function main(): Promise<void> {
  const data = workerData as LoadWorkerData;
  const sockets = await Promise.all(
    Array.from({ length: data.clients }, async () => {
      const socket = createSocket('udp6');
      await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
      return socket;
    }),
  );
  const result = { completed: 0, retransmissions: 0, failures: 0, latencies: new LatencySamples() };
  const started = performance.now();
  const deadline = started + data.durationMs;
  await Promise.all(sockets.map((socket, i) => runClient(socket, i, data, deadline, result)));
  const elapsedMs = performance.now() - started;
  for (const socket of sockets) socket.close();
  const { latencies, ...counts } = result;
  parentPort?.postMessage({ ...counts, latency: latencies.summary(), elapsedMs } satisfies LoadWorkerResult);
}

void main();
