/**
 * scale: register many clients (long lifetime) with the file store → heap and RSS per
 * client, time to register them all, and time for a new hub on the same data to serve.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { startTestHub } from '../test/support/hub.js';
import type { LoadWorkerData, LoadWorkerResult } from './load-worker.js';

export interface ScaleResult {
  readonly clients: number;
  readonly registerSeconds: number;
  readonly registrationsPerSecond: number;
  readonly heapBytesPerClient: number;
  readonly rssBytesPerClient: number;
  readonly restartMs: number;
  readonly restored: number;
  readonly failures: number;
}

function collect(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

export async function benchScale(clients = 100_000, progress: (line: string) => void = () => {}): Promise<ScaleResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-scale-'));
  try {
    const hub = await startTestHub({ dataDir });
    const before = collect();
    const sockets = Math.min(1000, clients);
    const started = performance.now();
    const result = await new Promise<LoadWorkerResult>((resolve, reject) => {
      const worker = new Worker(new URL('./load-worker.js', import.meta.url), {
        workerData: { scenario: 'bulk', host: '::1', port: hub.coap.port, clients: sockets, perClient: Math.ceil(clients / sockets), durationMs: 0, prefix: 'scale-' } satisfies LoadWorkerData,
      });
      worker.once('message', (r: LoadWorkerResult) => {
        resolve(r);
        void worker.terminate();
      });
      worker.once('error', reject);
    });
    const registerSeconds = (performance.now() - started) / 1000;
    const registered = await hub.store.count();
    progress(`  ${registered} registered in ${registerSeconds.toFixed(1)} s`);
    const after = collect();
    await hub.stop();

    const restartStarted = performance.now();
    const again = await startTestHub({ dataDir, coapPort: hub.coap.port });
    const restartMs = performance.now() - restartStarted;
    const restored = await again.store.count();
    await again.stop();
    return {
      clients: registered,
      registerSeconds,
      registrationsPerSecond: registered / registerSeconds,
      heapBytesPerClient: (after.heap - before.heap) / registered,
      rssBytesPerClient: (after.rss - before.rss) / registered,
      restartMs,
      restored,
      failures: result.failures,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatScaleResult(r: ScaleResult): string {
  return `scale ${r.clients.toLocaleString('en-US')} clients: registered in ${r.registerSeconds.toFixed(1)} s (${Math.round(r.registrationsPerSecond).toLocaleString('en-US')}/s, ${r.failures} failures), heap ${Math.round(r.heapBytesPerClient)} B/client, RSS ${Math.round(r.rssBytesPerClient)} B/client, restart serving in ${Math.round(r.restartMs)} ms with ${r.restored.toLocaleString('en-US')} restored`;
}
