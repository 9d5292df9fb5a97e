/**
 * Worker threads of the benches: load generators and simulated clients run off the
 * hub's event loop, so that they are not what the figures measure.
 */
import { Worker } from 'node:worker_threads';
import type { SimWorkerCommand, SimWorkerData, SimWorkerEvent } from './sim-worker.js';

/** Runs a worker that posts one message (its result) and ends. */
export function runWorker<R>(script: URL, workerData: unknown): Promise<R> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData });
    worker.once('message', (result: R) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/**
 * Resolves with the worker's next message of `type` (messages are `{ type, … }`); `onEvent`
 * sees every message meanwhile (progress lines).
 */
export function nextEvent<E extends { type: string } = { type: string }, T extends E['type'] = E['type']>(
  worker: Worker,
  type: T,
  onEvent?: (event: E) => void,
): Promise<Extract<E, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (event: E) => {
      onEvent?.(event);
      if (event.type !== type) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(event as Extract<E, { type: T }>);
    };
    worker.on('message', onMessage);
    worker.on('error', reject);
  });
}

/** N simulated clients (bench/sim-worker.ts) registered as `${prefix}${i}` with the server on `port`, until `run` ends. */
export async function withSimulatedClients<T>(
  port: number,
  count: number,
  prefix: string,
  run: (worker: Worker) => Promise<T>,
): Promise<T> {
  const worker = new Worker(new URL('./sim-worker.js', import.meta.url), {
    workerData: { serverPort: port, count, prefix } satisfies SimWorkerData,
  });
  const until = (type: SimWorkerEvent['type']) => nextEvent(worker, type);
  try {
    await until('ready');
    return await run(worker);
  } finally {
    worker.postMessage({ type: 'stop' } satisfies SimWorkerCommand);
    await Promise.race([until('stopped'), new Promise((r) => setTimeout(r, 5000))]);
    await worker.terminate();
  }
}
