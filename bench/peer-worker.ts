/**
 * lwm2m-node-lib in a worker thread of its own: its own thread, as the hub has the main one,
 * and its own heap. In the main thread its registry grew by about 50 MB per 2 s round of
 * `register` (from 62 to 211 MB in four rounds) and stayed after its stop, so every later
 * round and scenario, the hub's included, collected a heap three times larger.
 *
 * One worker serves every round of a run, so that the library's code is as warm in its later
 * rounds as the hub's is in the main thread; the server itself starts afresh for each round.
 */
import { parentPort } from 'node:worker_threads';
import { benchPeerReadHere, startPeer, type ReadResult, type RunningPeer } from './peer.js';

/** `start`/`stop`: a server for the main thread's generator; `read`: the closed loop of reads runs here, beside the server. */
export type PeerWorkerCommand = { type: 'start' } | { type: 'stop' } | { type: 'read'; clients: number; seconds: number };
export type PeerWorkerEvent = { type: 'ready'; port: number } | { type: 'stopped' } | { type: 'read'; result: ReadResult };

const port = parentPort;
if (!port) throw new Error('peer-worker must run in a worker thread');
let running: RunningPeer | undefined;
port.on('message', (command: PeerWorkerCommand) => {
  void (async () => {
    if (command.type === 'start') {
      running = await startPeer();
      port.postMessage({ type: 'ready', port: running.port } satisfies PeerWorkerEvent);
    } else if (command.type === 'stop') {
      await running?.stop();
      running = undefined;
      port.postMessage({ type: 'stopped' } satisfies PeerWorkerEvent);
    } else {
      port.postMessage({ type: 'read', result: await benchPeerReadHere(command.clients, command.seconds) } satisfies PeerWorkerEvent);
    }
  })();
});
