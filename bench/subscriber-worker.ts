/**
 * An MQTT subscriber in a worker thread: counts values and measures their latency
 * from the simulated device's setValue (shared array of absolute times), so that
 * the main thread runs the hub alone.
 */
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

export interface SubscriberWorkerData {
  readonly url: string;
  readonly filter: string;
  readonly prefix: string;
  readonly sentAt: SharedArrayBuffer;
  /** Int32 counter of received messages, readable by the main thread without messages. */
  readonly counter: SharedArrayBuffer;
  readonly qos: 0 | 1;
}

export type SubscriberCommand = { type: 'reset' } | { type: 'report' };
export type SubscriberEvent = { type: 'ready' } | { type: 'report'; latencies: number[] };

async function main(): Promise<void> {
  const data = workerData as SubscriberWorkerData;
  const port = parentPort;
  if (!port) throw new Error('subscriber-worker must run in a worker thread');
  const sentAt = new Float64Array(data.sentAt);
  const counter = new Int32Array(data.counter);
  let latencies: number[] = [];
  const client = await mqtt.connectAsync(data.url);
  client.on('message', (topic) => {
    Atomics.add(counter, 0, 1);
    const t0 = sentAt[Number(topic.split('/')[1]?.slice(data.prefix.length))];
    if (t0) latencies.push(performance.timeOrigin + performance.now() - t0);
  });
  await client.subscribeAsync(data.filter, { qos: data.qos });
  port.postMessage({ type: 'ready' } satisfies SubscriberEvent);
  port.on('message', (command: SubscriberCommand) => {
    if (command.type === 'reset') latencies = [];
    else port.postMessage({ type: 'report', latencies } satisfies SubscriberEvent);
  });
}

void main();
