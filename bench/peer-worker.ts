/**
 * lwm2m-node-lib in a worker thread of its own: its own thread, as the hub has the main one,
 * and its own heap. In the main thread its registry grew by about 50 MB per 2 s round of
 * `register` (from 62 to 211 MB in four rounds) and stayed after its stop, so every later
 * round and scenario, the hub's included, collected a heap three times larger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { benchPeerReadHere, startPeer, type ReadResult } from './peer.js';

export type PeerWorkerData = { readonly scenario: 'register' } | { readonly scenario: 'read'; readonly clients: number; readonly seconds: number };
/** `register`: the server runs until told to stop; `read`: the closed loop of reads runs here, with the server. */
export type PeerWorkerCommand = { type: 'stop' };
export type PeerWorkerEvent = { type: 'ready'; port: number } | { type: 'read'; result: ReadResult } | { type: 'stopped' };

async function main(): Promise<void> {
  const data = workerData as PeerWorkerData;
  const port = parentPort;
  if (!port) throw new Error('peer-worker must run in a worker thread');
  if (data.scenario === 'read') {
    port.postMessage({ type: 'read', result: await benchPeerReadHere(data.clients, data.seconds) } satisfies PeerWorkerEvent);
    return;
  }
  const peer = await startPeer();
  port.postMessage({ type: 'ready', port: peer.port } satisfies PeerWorkerEvent);
  port.once('message', (_command: PeerWorkerCommand) => {
    void peer.stop().then(() => port.postMessage({ type: 'stopped' } satisfies PeerWorkerEvent));
  });
}

void main();
