/**
 * Device management throughput:
 *   rest-read   REST reads fanned out to N registered clients (in a worker thread), one outstanding per client → reads/s
 *   notify-sse  N observed clients notifying as fast as the hub takes them → notifications/s on /api/events
 *               (clients in the hub's thread: a floor)
 */
import type { Hub } from '../src/hub.js';
import { LwM2mSimulator } from '../test/support/simulator/index.js';
import { SseClient } from '../test/support/sse.js';
import { startTestHub } from '../test/support/hub.js';
import { withSimulatedClients } from './workers.js';
import { percentile } from './stats.js';

export interface DeviceBenchResult {
  readonly name: string;
  readonly clients: number;
  readonly seconds: number;
  readonly count: number;
  readonly perSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** Simulated clients in a worker thread (bench/sim-worker.ts), registered as `${prefix}${i}`. */
async function withWorkerClients<T>(count: number, prefix: string, run: (hub: Hub) => Promise<T>): Promise<T> {
  const hub = await startTestHub();
  try {
    return await withSimulatedClients(hub.coap.port, count, prefix, () => run(hub));
  } finally {
    await hub.stop();
  }
}

async function withClients<T>(count: number, run: (hub: Hub, sims: LwM2mSimulator[]) => Promise<T>): Promise<T> {
  const hub = await startTestHub();
  const sims: LwM2mSimulator[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const sim = await LwM2mSimulator.start({ endpoint: `bench-${i}`, serverPort: hub.coap.port, lwm2mVersion: '1.1' });
      sims.push(sim);
      await sim.register();
    }
    return await run(hub, sims);
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
    await hub.stop();
  }
}

export async function benchRestRead(clients = 100, seconds = 5): Promise<DeviceBenchResult> {
  return withWorkerClients(clients, 'bench-', async (hub) => {
    const latencies: number[] = [];
    // Warm-up: open the HTTP connections and let the first exchange with each client settle.
    await Promise.all(
      Array.from({ length: clients }, (_, i) =>
        fetch(`http://127.0.0.1:${hub.http.port}/api/clients/bench-${i}/3303/0/5700`).then((r) => r.arrayBuffer()),
      ),
    );
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const url = `http://127.0.0.1:${hub.http.port}/api/clients/bench-${i}/3303/0/5700`;
        while (performance.now() < deadline) {
          const t0 = performance.now();
          const response = await fetch(url);
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`read answered ${response.status}`);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      name: 'rest-read',
      clients,
      seconds: elapsed,
      count: latencies.length,
      perSecond: latencies.length / elapsed,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  });
}

export async function benchNotifySse(clients = 100, seconds = 5): Promise<DeviceBenchResult> {
  return withClients(clients, async (hub, sims) => {
    const base = `http://127.0.0.1:${hub.http.port}`;
    for (let i = 0; i < clients; i++) {
      const response = await fetch(`${base}/api/clients/bench-${i}/3303/0/5700/observe`, { method: 'POST' });
      if (response.status !== 200) throw new Error(`observe answered ${response.status}`);
    }
    const stream = await SseClient.open(`${base}/api/events`);
    const countNotifications = () => stream.events.filter((e) => e.event === 'notification').length;
    const before = countNotifications();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let value = 0;
    // Each round changes every client's value once and yields, so the hub and the SSE reader keep pace.
    while (performance.now() < deadline) {
      value += 1;
      for (const sim of sims) sim.setValue('/3303/0/5700', { type: 'float', value: value + 0.5 });
      await new Promise((resolve) => setImmediate(resolve));
      while (countNotifications() - before < value * clients * 0.9 && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 200));
    const elapsed = (performance.now() - started) / 1000;
    const received = countNotifications() - before;
    await stream.close();
    stream.events.length = 0;
    return { name: 'notify-sse', clients, seconds: elapsed, count: received, perSecond: received / elapsed };
  });
}

export function formatDeviceResult(r: DeviceBenchResult): string {
  const latency = r.p50Ms !== undefined ? `  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${(r.p99Ms ?? 0).toFixed(1)} ms` : '';
  return `${r.name.padEnd(12)} ${String(r.clients).padStart(4)} clients  ${Math.round(r.perSecond).toLocaleString('en-US').padStart(8)} /s  (${r.count} in ${r.seconds.toFixed(1)} s)${latency}`;
}
