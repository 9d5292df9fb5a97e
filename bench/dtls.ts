/**
 * dtls: what DTLS (coaps://, PSK, TLS_PSK_WITH_AES_128_CCM_8) costs the hub. Full handshakes
 * per second (cookie exchange included), then register+deregister pairs and notifications
 * per second over DTLS beside the same load over plain CoAP, on one hub each. The generators
 * run in worker threads (bench/dtls-worker.ts, bench/load-worker.ts) so that the main thread
 * runs the hub alone.
 */
import { Worker } from 'node:worker_threads';
import type { Hub } from '../src/hub.js';
import { startTestHub } from '../test/support/hub.js';
import { credentialsOf, type DtlsWorkerData, type DtlsWorkerResult, type NotifyCommand, type NotifyEvent } from './dtls-worker.js';
import { benchRegister, formatLoadResult, summarise, type LoadResult } from './load.js';
import { nextEvent, runWorker } from './workers.js';

export interface DtlsBenchResult {
  readonly handshakes: LoadResult;
  readonly registerPlain: LoadResult;
  readonly registerDtls: LoadResult;
  readonly notifyPlain: NotifyResult;
  readonly notifyDtls: NotifyResult;
}

export interface NotifyResult {
  readonly label: string;
  readonly clients: number;
  readonly received: number;
  readonly seconds: number;
  readonly perSecond: number;
}

async function withEntries(hub: Hub, prefix: string, clients: number): Promise<void> {
  for (let i = 0; i < clients; i++) {
    const { endpoint, identity, key } = credentialsOf(prefix, i);
    await hub.securityStore.put(endpoint, { identity, key });
  }
}

function generate(data: DtlsWorkerData): Promise<DtlsWorkerResult> {
  return runWorker(new URL('./dtls-worker.js', import.meta.url), data);
}

async function loadOverDtls(scenario: 'handshake' | 'register', clients: number, seconds: number): Promise<DtlsWorkerResult> {
  const hub = await startTestHub();
  try {
    const prefix = `dtls-${scenario}-`;
    await withEntries(hub, prefix, clients);
    return await generate({ scenario, host: '::1', port: hub.coaps?.port ?? 0, clients, durationMs: seconds * 1000, prefix });
  } finally {
    await hub.stop();
  }
}

/** Auto-observed simulated clients notify in closed-loop rounds; the hub's notification events are counted. */
async function notify(dtls: boolean, clients: number, seconds: number): Promise<NotifyResult> {
  const hub = await startTestHub({ autoObserve: ['/3303/0/5700'] });
  const prefix = dtls ? 'dtls-notify-' : 'plain-notify-';
  let received = 0;
  hub.events.on('notification', () => received++);
  if (dtls) await withEntries(hub, prefix, clients);
  const worker = new Worker(new URL('./dtls-worker.js', import.meta.url), {
    workerData: {
      scenario: 'notify',
      host: '::1',
      port: (dtls ? hub.coaps?.port : hub.coap.port) ?? 0,
      clients,
      durationMs: 0,
      prefix,
      dtls,
    } satisfies DtlsWorkerData,
  });
  const next = (type: NotifyEvent['type']) => nextEvent(worker, type);
  try {
    await next('ready');
    // Every auto-observation's first value, then rounds.
    while (received < clients) await new Promise((r) => setTimeout(r, 20));
    const before = received;
    const started = performance.now();
    let round = 0;
    while (performance.now() < started + seconds * 1000) {
      const roundStart = received;
      worker.postMessage({ type: 'round', value: ++round + 0.5 } satisfies NotifyCommand);
      await next('round-sent');
      const roundDeadline = performance.now() + 2000;
      while (received - roundStart < clients * 0.95 && performance.now() < roundDeadline) await new Promise((r) => setTimeout(r, 1));
    }
    const elapsed = (performance.now() - started) / 1000;
    const count = received - before;
    return { label: `notifications (${dtls ? 'DTLS' : 'plain'})`, clients, received: count, seconds: elapsed, perSecond: count / elapsed };
  } finally {
    worker.postMessage({ type: 'stop' } satisfies NotifyCommand);
    await Promise.race([next('stopped'), new Promise((r) => setTimeout(r, 5000))]);
    await worker.terminate();
    await hub.stop();
  }
}

export async function benchDtls(clients: number, seconds: number, notifyClients: number): Promise<DtlsBenchResult> {
  const handshakes = summarise('DTLS handshakes', clients, await loadOverDtls('handshake', clients, seconds));
  const registerPlain = { ...(await benchRegister(clients, seconds)), scenario: 'register+deregister (plain)' };
  const registerDtls = summarise('register+deregister (DTLS)', clients, await loadOverDtls('register', clients, seconds));
  const notifyPlain = await notify(false, notifyClients, seconds);
  const notifyDtls = await notify(true, notifyClients, seconds);
  return { handshakes, registerPlain, registerDtls, notifyPlain, notifyDtls };
}

export function formatDtlsResult(r: DtlsBenchResult): string[] {
  const share = (a: number, b: number) => (b > 0 ? `  ${((100 * a) / b).toFixed(0)} % of plain` : '');
  const notifyLine = (n: NotifyResult, plain?: NotifyResult) =>
    `${n.label.padEnd(26)} ${String(n.clients).padStart(4)} clients ${Math.round(n.perSecond).toLocaleString('en-US').padStart(8)} /s  (${n.received} in ${n.seconds.toFixed(1)} s)${plain ? share(n.perSecond, plain.perSecond) : ''}`;
  return [
    formatLoadResult(r.handshakes),
    formatLoadResult(r.registerPlain),
    formatLoadResult(r.registerDtls) + share(r.registerDtls.perSecond, r.registerPlain.perSecond),
    notifyLine(r.notifyPlain),
    notifyLine(r.notifyDtls, r.notifyPlain),
  ];
}
