/**
 * An MQTT subscriber in a worker thread: counts values and measures their latency from the time
 * the notification left its client (bench/notify-worker.ts stamps it in a shared array, under the
 * client and the cycle the value carries), so that the main thread runs the hub alone.
 *
 * The latencies stay here: a round's report is three figures, not the round's hundred thousand
 * samples. Sent to the main thread, the samples became garbage in the hub's heap, and the hub
 * collected them (scavenges of 10–19 ms and a 16 ms mark-compact, measured) in the first
 * moments of the next round, where they showed as that round's tail.
 */
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import { LatencySamples, type LatencySummary } from './stats.js';

export interface SubscriberWorkerData {
  readonly url: string;
  readonly filter: string;
  readonly prefix: string;
  /** Send times, as NotifyWorkerData's. */
  readonly sentAt: SharedArrayBuffer;
  readonly stampSlots: number;
  /** Int32 counter of received messages, readable by the main thread without messages. */
  readonly counter: SharedArrayBuffer;
  readonly qos: 0 | 1;
}

export type SubscriberCommand = { type: 'reset' } | { type: 'report' };
export type SubscriberEvent = { type: 'ready' } | ({ type: 'report' } & LatencySummary);

async function main(): Promise<void> {
  const data = workerData as SubscriberWorkerData;
  const port = parentPort;
  if (!port) throw new Error('subscriber-worker must run in a worker thread');
  const sentAt = new Float64Array(data.sentAt);
  const counter = new Int32Array(data.counter);
  const latencies = new LatencySamples();
  const client = await mqtt.connectAsync(data.url);
  client.on('message', (topic, payload) => {
    Atomics.add(counter, 0, 1);
    const index = Number(topic.split('/')[1]?.slice(data.prefix.length));
    const cycle = Math.floor((JSON.parse(payload.toString()) as { value: number }).value);
    const t0 = sentAt[index * data.stampSlots + (cycle % data.stampSlots)];
    if (t0) latencies.add(performance.timeOrigin + performance.now() - t0);
  });
  await client.subscribeAsync(data.filter, { qos: data.qos });
  port.postMessage({ type: 'ready' } satisfies SubscriberEvent);
  port.on('message', (command: SubscriberCommand) => {
    if (command.type === 'reset') latencies.clear();
    else port.postMessage({ type: 'report', ...latencies.summary() } satisfies SubscriberEvent);
  });
}

void main();
