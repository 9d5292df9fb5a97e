/**
 * Simulated LwM2M clients (the test simulator: full devices with every content format) in a
 * worker thread, so that they do not share the hub's event loop. They register as
 * `${prefix}${i}` and answer whatever the hub asks until stopped (the read and notify-sse
 * scenarios). The notify scenario uses the leaner bench/notify-worker.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LwM2mSimulator } from '../test/support/simulator/index.js';

export interface SimWorkerData {
  readonly serverPort: number;
  readonly count: number;
  readonly prefix: string;
}

export type SimWorkerCommand = { type: 'stop' };
export type SimWorkerEvent = { type: 'progress'; registered: number } | { type: 'ready' } | { type: 'stopped' };

async function main(): Promise<void> {
  const data = workerData as SimWorkerData;
  const port = parentPort;
  if (!port) throw new Error('sim-worker must run in a worker thread');
  const sims: LwM2mSimulator[] = [];
  for (let i = 0; i < data.count; i++) {
    const sim = await LwM2mSimulator.start({ endpoint: `${data.prefix}${i}`, serverPort: data.serverPort, lwm2mVersion: '1.1' });
    sims.push(sim);
    await sim.register();
    if ((i + 1) % 250 === 0) port.postMessage({ type: 'progress', registered: i + 1 } satisfies SimWorkerEvent);
  }
  port.postMessage({ type: 'ready' } satisfies SimWorkerEvent);
  port.on('message', (command: SimWorkerCommand) => {
    if (command.type === 'stop') void Promise.all(sims.map((s) => s.stop())).then(() => port.postMessage({ type: 'stopped' } satisfies SimWorkerEvent));
  });
}

void main();
