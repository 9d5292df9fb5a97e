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
import { percentile } from './stats.js';

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

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export type SubscriberCommand = { type: 'reset' } | { type: 'report' };
export type SubscriberEvent = { type: 'ready' } | ({ type: 'report' } & LatencySummary);

/** Latency samples in one typed array, reused round after round (it only grows), so that recording one allocates nothing. */
class LatencySamples {
  private samples = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.samples.length) {
      const larger = new Float64Array(this.samples.length * 2);
      larger.set(this.samples);
      this.samples = larger;
    }
    this.samples[this.count++] = ms;
  }

  clear(): void {
    this.count = 0;
  }

  summary(): LatencySummary {
    const sorted = this.samples.subarray(0, this.count).sort();
    return { count: this.count, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[this.count - 1] ?? 0 };
  }
}

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
