/**
 * scale: register many clients (long lifetime) with the file store → heap and RSS per
 * client, time to register them all, and time for a new hub on the same data to serve.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  /** A new `lwm2m-hub` process (dist/cli.js) on the same data: from spawn to its first CoAP answer, which comes once everything is started. */
  readonly processRestartMs: number;
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
        workerData: {
          scenario: 'bulk',
          host: '::1',
          port: hub.coap.port,
          clients: sockets,
          perClient: Math.ceil(clients / sockets),
          durationMs: 0,
          prefix: 'scale-',
        } satisfies LoadWorkerData,
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
    const processRestartMs = await timeProcessRestart(dataDir, hub.coap.port);
    return {
      clients: registered,
      registerSeconds,
      registrationsPerSecond: registered / registerSeconds,
      heapBytesPerClient: (after.heap - before.heap) / registered,
      rssBytesPerClient: (after.rss - before.rss) / registered,
      restartMs,
      processRestartMs,
      restored,
      failures: result.failures,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Spawns the CLI on `dataDir` and pings (an empty CON, RFC 7252 §4.3) until it answers. */
async function timeProcessRestart(dataDir: string, coapPort: number): Promise<number> {
  // The command users run: the bundled dist/cli.js of `npm run build` (which `npm run bench` runs first).
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      cli,
      '--data-dir',
      dataDir,
      '--coap-port',
      String(coapPort),
      '--coaps-port',
      'off',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--log-level',
      'silent',
    ],
    { stdio: 'ignore' },
  );
  const socket = createSocket('udp6');
  await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
  try {
    const answered = new Promise<number>((resolve, reject) => {
      socket.once('message', () => resolve(performance.now() - started));
      child.once('exit', (code) => reject(new Error(`lwm2m-hub exited (${code}) before answering`)));
    });
    const ping = Buffer.from([0x40, 0x00, 0x12, 0x34]);
    const timer = setInterval(() => socket.send(ping, coapPort, '::1'), 5);
    try {
      return await answered;
    } finally {
      clearInterval(timer);
    }
  } finally {
    socket.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

export function formatScaleResult(r: ScaleResult): string {
  return `scale ${r.clients.toLocaleString('en-US')} clients: registered in ${r.registerSeconds.toFixed(1)} s (${Math.round(r.registrationsPerSecond).toLocaleString('en-US')}/s, ${r.failures} failures), heap ${Math.round(r.heapBytesPerClient)} B/client, RSS ${Math.round(r.rssBytesPerClient)} B/client, restart serving in ${Math.round(r.restartMs)} ms in-process, ${Math.round(r.processRestartMs)} ms as a new process, with ${r.restored.toLocaleString('en-US')} restored`;
}
