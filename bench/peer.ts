/**
 * The peer: lwm2m-node-lib (FIWARE's LwM2M server for Node.js, a devDependency), serving
 * `register` and `read` under the same generator and the same simulated clients as
 * lwm2m-hub, in a worker thread of its own (bench/peer-worker.ts) as the hub has the main one.
 *
 * Its read goes the way the library sends every request: a new node-coap Agent (and
 * socket) per request, through its own server as a CoAP proxy to the device.
 */
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Hub } from '../src/hub.js';
import { startTestHub } from '../test/support/hub.js';
import { generate, summarise, type LoadResult } from './load.js';
import { percentile } from './stats.js';
import type { PeerWorkerCommand, PeerWorkerEvent } from './peer-worker.js';
import { nextEvent, withSimulatedClients } from './workers.js';

type Callback<T> = (error: Error | null | undefined, value: T) => void;

/** The part of lwm2m-node-lib's server API the bench uses (the package ships no types). */
interface PeerServer {
  start(config: Record<string, unknown>, callback: Callback<unknown>): void;
  stop(info: unknown, callback: Callback<unknown>): void;
  setHandler(info: unknown, type: 'registration' | 'unregistration' | 'updateRegistration', handler: (...args: unknown[]) => void): void;
  listDevices(callback: Callback<readonly { readonly id: number; readonly name: string }[]>): void;
  read(deviceId: number, objectType: string, objectId: string, resourceId: string, callback: Callback<string>): void;
}

export interface ReadResult {
  readonly name: string;
  readonly clients: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp6');
  await new Promise<void>((resolve) => socket.bind(0, '::', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export interface RunningPeer {
  readonly server: PeerServer;
  readonly port: number;
  stop(): Promise<void>;
}

let loaded: PeerServer | undefined;

/** The library's requests have no timeout of their own: a lost datagram would stall a closed loop for good. */
const READ_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The library keeps its configuration in module state: one server at a time (per thread). */
export async function startPeer(): Promise<RunningPeer> {
  // Its dependencies (mongoose) print deprecation warnings on load; they are not ours to fix.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => undefined;
  try {
    loaded ??= (createRequire(import.meta.url)('lwm2m-node-lib') as { server: PeerServer }).server;
  } finally {
    process.emitWarning = emitWarning;
  }
  const server = loaded;
  const port = await freeUdpPort();
  const config = {
    port,
    lifetimeCheckInterval: 1000,
    udpWindow: 100,
    defaultType: 'Device',
    logLevel: 'FATAL',
    ipProtocol: 'udp6',
    serverProtocol: 'udp6',
    formats: [{ name: 'application-vnd-oma-lwm2m/text', value: 1541 }],
    writeFormat: 'application-vnd-oma-lwm2m/text',
    defaultAcceptFormat: 'text/plain',
  };
  const info = await new Promise<unknown>((resolve, reject) =>
    server.start(config, (error, value) => (error ? reject(error) : resolve(value))),
  );
  // Accept everything at once, as the hub does: the figure is the library's own cost.
  server.setHandler(info, 'registration', (...args) => (args.at(-1) as () => void)());
  server.setHandler(info, 'unregistration', (...args) => (args.at(-1) as () => void)());
  server.setHandler(info, 'updateRegistration', (...args) => (args.at(-1) as () => void)());
  return {
    server,
    port,
    // Its stop waits for its observers and sockets; a bench must not hang on it.
    stop: () =>
      withTimeout(new Promise<void>((resolve) => server.stop(info, () => resolve())), STOP_TIMEOUT_MS, 'lwm2m-node-lib stop').catch(
        () => undefined,
      ),
  };
}

let worker: Worker | undefined;
/**
 * Sends a command to the peer's thread (one for the whole run, bench/peer-worker.ts) and waits
 * for its answer; between commands the thread does not keep the process alive.
 */
async function askPeer<T extends PeerWorkerEvent['type']>(command: PeerWorkerCommand, answer: T): Promise<Extract<PeerWorkerEvent, { type: T }>> {
  worker ??= new Worker(new URL('./peer-worker.js', import.meta.url));
  worker.ref();
  try {
    const reply = nextEvent<PeerWorkerEvent, T>(worker, answer);
    worker.postMessage(command);
    return await reply;
  } finally {
    worker.unref();
  }
}

/** register+deregister pairs against lwm2m-node-lib, by the generator of `benchRegister`. */
export async function benchPeerRegister(clients = 100, seconds = 5): Promise<LoadResult> {
  const { port } = await askPeer({ type: 'start' }, 'ready');
  try {
    const result = await generate({
      scenario: 'register',
      host: '::1',
      port,
      clients,
      durationMs: seconds * 1000,
      prefix: 'peer-',
    });
    return summarise('lwm2m-node-lib register', clients, result);
  } finally {
    await askPeer({ type: 'stop' }, 'stopped');
  }
}

/** Closed loop: one read outstanding per client for `seconds`. */
async function closedLoop(name: string, clients: number, seconds: number, readOne: (client: number) => Promise<void>): Promise<ReadResult> {
  const latencies: number[] = [];
  let failures = 0;
  await Promise.all(Array.from({ length: clients }, (_, i) => readOne(i).catch(() => failures++)));
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await readOne(i);
          latencies.push(performance.now() - t0);
        } catch (error) {
          if (process.env.BENCH_DEBUG) console.error(name, i, error);
          failures++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    clients,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures,
  };
}

/** Reads of /3303/0/5700 through lwm2m-node-lib's `read`, N registered clients, one outstanding each. */
export async function benchPeerRead(clients = 100, seconds = 5): Promise<ReadResult> {
  return (await askPeer({ type: 'read', clients, seconds }, 'read')).result;
}

/** benchPeerRead's work, in the thread that runs the peer (the library's `read` is a call into it). */
export async function benchPeerReadHere(clients: number, seconds: number): Promise<ReadResult> {
  const peer = await startPeer();
  try {
    return await withSimulatedClients(peer.port, clients, 'peer-read-', async () => {
      const devices = await new Promise<readonly { id: number; name: string }[]>((resolve, reject) =>
        peer.server.listDevices((error, list) => (error ? reject(error) : resolve(list))),
      );
      const ids = new Map(devices.map((d) => [d.name, d.id]));
      const read = (client: number) =>
        withTimeout(
          new Promise<void>((resolve, reject) => {
            const id = ids.get(`peer-read-${client}`);
            if (id === undefined) return reject(new Error(`peer-read-${client} is not registered`));
            peer.server.read(id, '3303', '0', '5700', (error) => (error ? reject(error) : resolve()));
          }),
          READ_TIMEOUT_MS,
          'lwm2m-node-lib read',
        );
      return closedLoop('lwm2m-node-lib read', clients, seconds, read);
    });
  } finally {
    await peer.stop();
  }
}

/** The same reads through lwm2m-hub's DeviceApi (no HTTP in between, as the peer's `read` has none). */
export async function benchApiRead(clients = 100, seconds = 5): Promise<ReadResult> {
  const hub: Hub = await startTestHub();
  try {
    return await withSimulatedClients(hub.coap.port, clients, 'api-read-', () =>
      closedLoop('lwm2m-hub read (API)', clients, seconds, async (client) => {
        const response = await hub.devices.read(`api-read-${client}`, [3303, 0, 5700]);
        if (!response.success) throw new Error(`read answered ${response.code}`);
      }),
    );
  } finally {
    await hub.stop();
  }
}

export function formatReadResult(r: ReadResult, peer?: ReadResult): string {
  const ratio = peer && peer.perSecond > 0 ? `  ${(r.perSecond / peer.perSecond).toFixed(1)}× lwm2m-node-lib` : '';
  return `${r.name.padEnd(26)} ${String(r.clients).padStart(4)} clients ${Math.round(r.perSecond).toLocaleString('en-US').padStart(8)} /s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  failures ${r.failures}${ratio}`;
}
