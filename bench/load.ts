/**
 * register and echo scenarios: the same generator (bench/load-worker.ts) against
 * lwm2m-hub and against the ceiling, a raw node:dgram server answering each
 * datagram with itself in one Node process.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Method, ResponseCode } from '../src/coap/codes.js';
import { decodeMessage, encodeMessage, MessageType } from '../src/coap/message.js';
import { OptionNumber, stringOption } from '../src/coap/options.js';
import type { LoadWorkerData, LoadWorkerResult } from './load-worker.js';
import { BatchedSender } from '../src/coap/transport.js';
import { startTestHub } from '../test/support/hub.js';
import { measureHeapAllocation } from './allocation.js';
import { runWorker } from './workers.js';

export interface LoadResult {
  readonly scenario: string;
  readonly clients: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly retransmissions: number;
  readonly failures: number;
  /** lwm2m-hub's JS heap allocation per exchange or pair (bench/allocation.ts), where measured. */
  readonly hubHeapBytesEach?: number;
}

export function generate(data: LoadWorkerData): Promise<LoadWorkerResult> {
  return runWorker(new URL('./load-worker.js', import.meta.url), data);
}

/** A generator's result; generators that do not retransmit leave the count out. */
type GeneratorResult = Omit<LoadWorkerResult, 'retransmissions'> & { readonly retransmissions?: number };

export function summarise(scenario: string, clients: number, result: GeneratorResult): LoadResult {
  return {
    scenario,
    clients,
    perSecond: (result.completed * 1000) / result.elapsedMs,
    p50Ms: result.latency.p50Ms,
    p99Ms: result.latency.p99Ms,
    retransmissions: result.retransmissions ?? 0,
    failures: result.failures,
  };
}

/**
 * How a server hands its answers to the socket: each at once, or together once a round of I/O is
 * handled (BatchedSender, as lwm2m-hub sends). The ceiling is the better of the two.
 */
export type Sending = 'at once' | 'batched';

export const ECHO_NAMES: Readonly<Record<Sending, string>> = { 'at once': 'echo, answers at once', batched: 'echo, answers batched' };

/** Sends `datagram` back to `to`, each at once or batched; `close` before the socket closes. */
function answerer(socket: Socket, sending: Sending): { send(datagram: Buffer, to: RemoteInfo): void; close(): void } {
  if (sending === 'at once') return { send: (datagram, to) => socket.send(datagram, to.port, to.address), close: () => {} };
  const sender = new BatchedSender(socket, () => {});
  return { send: (datagram, to) => sender.send(datagram, to.port, to.address), close: () => sender.close() };
}

/** The ceiling: request/response exchanges per second one Node process serves with node:dgram. */
export async function benchEcho(clients = 100, seconds = 5, sending: Sending = 'at once'): Promise<LoadResult> {
  const server = createSocket({ type: 'udp6', ipv6Only: false });
  const answers = answerer(server, sending);
  server.on('message', (datagram, rinfo) => answers.send(datagram, rinfo));
  await new Promise<void>((resolve) => server.bind(0, '::', resolve));
  try {
    const result = await generate({
      scenario: 'echo',
      host: '::1',
      port: server.address().port,
      clients,
      durationMs: seconds * 1000,
      prefix: 'echo-',
    });
    return summarise(ECHO_NAMES[sending], clients, result);
  } finally {
    answers.close();
    server.close();
  }
}

/**
 * The floor under any LwM2M server on this machine: a bare CoAP responder (our message
 * codec and node:dgram, nothing else) answering the register generator's POSTs with 2.01 and a
 * Location-Path and its DELETEs with 2.02. No parsing of the registration, no store, no events.
 * It sends its answers batched, as lwm2m-hub does.
 */
export async function benchBareCoap(clients = 100, seconds = 5): Promise<LoadResult> {
  const server = createSocket({ type: 'udp6', ipv6Only: false });
  const answers = answerer(server, 'batched');
  let next = 0;
  server.on('message', (datagram, rinfo) => {
    const decoded = decodeMessage(datagram);
    if (!decoded.ok) return;
    const { messageId, token, code } = decoded.message;
    const created = code === Method.POST;
    const options = created ? [stringOption(OptionNumber.LOCATION_PATH, 'rd'), stringOption(OptionNumber.LOCATION_PATH, String(++next))] : [];
    const reply = encodeMessage({ type: MessageType.ACK, code: created ? ResponseCode.CREATED : ResponseCode.DELETED, messageId, token, options, payload: Buffer.alloc(0) });
    answers.send(reply, rinfo);
  });
  await new Promise<void>((resolve) => server.bind(0, '::', resolve));
  try {
    const result = await generate({ scenario: 'register', host: '::1', port: server.address().port, clients, durationMs: seconds * 1000, prefix: 'bare-' });
    return summarise('bare CoAP responder pairs', clients, result);
  } finally {
    answers.close();
    server.close();
  }
}

/** register: N clients register then deregister as fast as the hub answers; one pair is two exchanges. */
export async function benchRegister(clients = 100, seconds = 5): Promise<LoadResult> {
  const hub = await startTestHub();
  try {
    const allocation = measureHeapAllocation();
    const result = await generate({
      scenario: 'register',
      host: '::1',
      port: hub.coap.port,
      clients,
      durationMs: seconds * 1000,
      prefix: 'load-',
    });
    const hubHeapBytesEach = allocation.stop() / Math.max(1, result.completed);
    return { ...summarise('register+deregister pairs', clients, result), hubHeapBytesEach };
  } finally {
    await hub.stop();
  }
}

/** update: keep-alive updates at a target rate from N registered clients. */
export async function benchUpdate(clients = 100, rate = 2000, seconds = 5): Promise<LoadResult> {
  const hub = await startTestHub();
  try {
    const result = await generate({
      scenario: 'update',
      host: '::1',
      port: hub.coap.port,
      clients,
      durationMs: seconds * 1000,
      prefix: 'upd-',
      rate,
    });
    return summarise(`updates at ${rate}/s`, clients, result);
  } finally {
    await hub.stop();
  }
}

export function formatLoadResult(r: LoadResult, ceiling?: LoadResult, exchangesPerUnit = 1, peer?: LoadResult): string {
  const share = ceiling ? `  ${((100 * r.perSecond * exchangesPerUnit) / ceiling.perSecond).toFixed(0)} % of the ceiling in exchanges` : '';
  const ratio = peer && peer.perSecond > 0 ? `, ${(r.perSecond / peer.perSecond).toFixed(1)}× lwm2m-node-lib` : '';
  const heap = r.hubHeapBytesEach === undefined ? '' : `  hub heap ${(r.hubHeapBytesEach / 1024).toFixed(1)} KB each`;
  return `${r.scenario.padEnd(26)} ${String(r.clients).padStart(4)} clients ${Math.round(r.perSecond).toLocaleString('en-US').padStart(8)} /s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  retransmissions ${r.retransmissions}  failures ${r.failures}${share}${ratio}${heap}`;
}
