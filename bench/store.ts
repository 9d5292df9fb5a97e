/**
 * Registration store figures: registrations/s with 64 in flight (memory and
 * file store), one at a time (file store: one fsync each), file-store open time
 * and compaction time with 100 000 stored registrations, disk bytes per
 * registration. Run after compiling with the repo tsconfig, e.g.
 *   npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/store.js [dir]
 * The file store works in a fresh directory under `dir` (default: the OS temp
 * dir). fsync costs depend on the disk under it: a tmpfs /tmp makes them free.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Registration } from '../src/lwm2m/registration/registration.js';
import { FileRegistrationStore, REGISTRATIONS_LOG } from '../src/store/file-store.js';
import { MemoryRegistrationStore } from '../src/store/memory-store.js';
import type { RegistrationStore } from '../src/store/registration-store.js';

export interface StoreBenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly detail?: string;
}

export interface StoreBenchOptions {
  /** Where the file store's temporary directory goes. */
  readonly dir?: string;
  /** Registrations stored for the open-time figure. */
  readonly openCount?: number;
  /** How long each throughput figure runs. */
  readonly durationMs?: number;
  readonly inFlight?: number;
}

let serial = 0;

/** A registration as a typical 1.1 sensor sends it: ~10 object links, queue mode. */
function registration(n: number): Registration {
  const now = Date.now();
  return {
    id: `${(serial++).toString(36)}-${Math.random().toString(36).slice(2, 12)}`,
    endpoint: `urn:imei:35${String(n).padStart(13, '0')}`,
    lifetime: 86_400,
    lwm2mVersion: '1.1',
    binding: 'U',
    queueMode: true,
    address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    port: 40_000 + (n % 20_000),
    rootPath: '/',
    objectLinks: [
      { path: [1, 0], attributes: {} },
      { path: [3, 0], attributes: { ver: '1.1' } },
      { path: [4, 0], attributes: {} },
      { path: [5, 0], attributes: {} },
      { path: [6, 0], attributes: {} },
      { path: [19, 0], attributes: {} },
      { path: [3303, 0], attributes: { ver: '1.1' } },
      { path: [3304, 0], attributes: {} },
      { path: [3315, 0], attributes: {} },
      { path: [3316, 0], attributes: {} },
    ],
    supportedContentFormats: [60, 110, 112, 11542, 11543],
    additionalAttributes: {},
    registeredAt: now,
    lastUpdate: now,
  };
}

/** Adds registrations with `inFlight` outstanding for about durationMs; registrations per second. */
async function addRate(store: RegistrationStore, inFlight: number, durationMs: number): Promise<{ perSec: number; done: number }> {
  const started = performance.now();
  const deadline = started + durationMs;
  let done = 0;
  let n = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await store.add(registration(n++));
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { perSec: (done * 1000) / (performance.now() - started), done };
}

async function fill(store: RegistrationStore, count: number, inFlight = 1000): Promise<void> {
  let n = 0;
  const worker = async () => {
    while (n < count) await store.add(registration(n++));
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

export async function benchStores(options: StoreBenchOptions = {}): Promise<StoreBenchResult[]> {
  const durationMs = options.durationMs ?? 2_000;
  const inFlight = options.inFlight ?? 64;
  const openCount = options.openCount ?? 100_000;
  const base = await mkdtemp(path.join(options.dir ?? os.tmpdir(), 'lwm2m-hub-bench-store-'));
  const results: StoreBenchResult[] = [];
  try {
    const memory = await addRate(new MemoryRegistrationStore(), inFlight, durationMs);
    results.push({ name: `memory store: registrations/s, ${inFlight} in flight`, value: Math.round(memory.perSec), unit: 'reg/s' });

    {
      const store = await FileRegistrationStore.open(path.join(base, 'rate'), { compaction: false });
      const before = store.stats;
      const rate = await addRate(store, inFlight, durationMs);
      const after = store.stats;
      await store.close();
      const syncs = after.syncs - before.syncs;
      results.push({
        name: `file store: registrations/s, ${inFlight} in flight`,
        value: Math.round(rate.perSec),
        unit: 'reg/s',
        detail: `${rate.done} adds, ${syncs} fsyncs (${(rate.done / Math.max(syncs, 1)).toFixed(1)} adds per fsync)`,
      });
    }

    {
      const store = await FileRegistrationStore.open(path.join(base, 'serial'), { compaction: false });
      const rate = await addRate(store, 1, Math.min(durationMs, 1_000));
      await store.close();
      results.push({ name: 'file store: registrations/s, 1 in flight', value: Math.round(rate.perSec), unit: 'reg/s', detail: `${(1000 / rate.perSec).toFixed(2)} ms per durable add (one fsync each)` });
    }

    const dir = path.join(base, 'open');
    {
      const store = await FileRegistrationStore.open(dir, { compaction: false });
      await fill(store, openCount);
      await store.close();
    }
    const file = path.join(dir, REGISTRATIONS_LOG);
    const bytes = (await stat(file)).size;
    {
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const started = performance.now();
      const store = await FileRegistrationStore.open(dir, { compaction: false });
      const ms = performance.now() - started;
      delay.disable();
      const count = await store.count();
      await store.close();
      results.push({
        name: `file store: open with ${count.toLocaleString('en')} registrations`,
        value: Math.round(ms),
        unit: 'ms',
        detail: `${(bytes / 1e6).toFixed(1)} MB log, longest event-loop stall ${Math.round(delay.max / 1e6)} ms`,
      });
    }
    results.push({ name: 'file store: disk bytes per registration', value: Math.round(bytes / openCount), unit: 'B', detail: 'one put record, ~10 object links' });
    {
      // A compaction policy of 0 × live + 0 rewrites the log as soon as it opens.
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const started = performance.now();
      const store = await FileRegistrationStore.open(dir, { compaction: { ratio: 0, minRecords: 0 } });
      const ms = performance.now() - started;
      delay.disable();
      await store.close();
      results.push({
        name: `file store: open + compaction of ${openCount.toLocaleString('en')} registrations`,
        value: Math.round(ms),
        unit: 'ms',
        detail: `longest event-loop stall ${Math.round(delay.max / 1e6)} ms`,
      });
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  return results;
}

export function formatStoreResult(result: StoreBenchResult): string {
  return `${result.name}: ${result.value.toLocaleString('en')} ${result.unit}${result.detail ? ` (${result.detail})` : ''}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  console.log(`# registration store bench in ${dir ?? os.tmpdir()}, Node ${process.version}`);
  for (const result of await benchStores(dir ? { dir } : {})) console.log(formatStoreResult(result));
}
