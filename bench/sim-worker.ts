/**
 * Simulated LwM2M clients in a worker thread, so that the load generator does
 * not share the hub's event loop. Each client's last setValue time (absolute ms)
 * goes into a shared array that the main thread reads when the value arrives.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LwM2mSimulator } from '../test/support/simulator/index.js';

export interface SimWorkerData {
  readonly serverPort: number;
  readonly count: number;
  readonly prefix: string;
  readonly sentAt: SharedArrayBuffer;
}

export type SimWorkerCommand = { type: 'round'; value: number } | { type: 'paced'; rate: number; durationMs: number } | { type: 'stop' };
export type SimWorkerEvent = { type: 'progress'; registered: number } | { type: 'ready' } | { type: 'round-sent' } | { type: 'paced-done'; sent: number } | { type: 'stopped' };

const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const data = workerData as SimWorkerData;
  const port = parentPort;
  if (!port) throw new Error('sim-worker must run in a worker thread');
  const sentAt = new Float64Array(data.sentAt);
  const sims: LwM2mSimulator[] = [];
  for (let i = 0; i < data.count; i++) {
    const sim = await LwM2mSimulator.start({ endpoint: `${data.prefix}${i}`, serverPort: data.serverPort, lwm2mVersion: '1.1' });
    sims.push(sim);
    await sim.register();
    if ((i + 1) % 250 === 0) port.postMessage({ type: 'progress', registered: i + 1 } satisfies SimWorkerEvent);
  }
  port.postMessage({ type: 'ready' } satisfies SimWorkerEvent);
  port.on('message', (command: SimWorkerCommand) => {
    if (command.type === 'round') {
      sims.forEach((sim, i) => {
        sentAt[i] = now();
        sim.setValue('/3303/0/5700', { type: 'float', value: command.value });
      });
      port.postMessage({ type: 'round-sent' } satisfies SimWorkerEvent);
    } else if (command.type === 'paced') {
      // Notifications spread evenly in time across the clients, round-robin: a steady load at `rate`.
      const started = performance.now();
      let sent = 0;
      let value = 0;
      const tick = () => {
        const elapsed = performance.now() - started;
        if (elapsed >= command.durationMs) {
          port.postMessage({ type: 'paced-done', sent } satisfies SimWorkerEvent);
          return;
        }
        const due = Math.floor((elapsed * command.rate) / 1000);
        for (; sent < due; sent++) {
          const i = sent % sims.length;
          if (i === 0) value++;
          sentAt[i] = now();
          sims[i]?.setValue('/3303/0/5700', { type: 'float', value: value + 0.5 });
        }
        setTimeout(tick, 1);
      };
      tick();
    } else {
      void Promise.all(sims.map((s) => s.stop())).then(() => port.postMessage({ type: 'stopped' } satisfies SimWorkerEvent));
    }
  });
}

void main();
