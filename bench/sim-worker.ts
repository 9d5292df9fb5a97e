/**
 * Simulated LwM2M clients in a worker thread, so that the load generator does
 * not share the hub's event loop. The time (absolute ms) each client's latest
 * notification left its radio goes into a shared array that the subscriber reads
 * when the value arrives: latency is counted from the device's send, not from
 * the simulator's setValue (encoding, the simulator's own relay hop and the stalls
 * of a worker serving 2 000 sockets are the load generator's time, not the hub's).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ResponseCode } from '../src/coap/codes.js';
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

/** Paced mode sends at most this many milliseconds' worth of notifications per timer tick (a tick is 1 ms or more). */
const CATCH_UP_WINDOW_MS = 3;

/** RFC 7641 §4.2: from a client, a 2.05 that is not an ACK is a notification (a piggybacked read answer is an ACK). */
function isNotification(datagram: Buffer): boolean {
  return datagram.length >= 2 && ((datagram[0] as number) >> 4) % 4 !== 2 && datagram[1] === ResponseCode.CONTENT;
}

async function main(): Promise<void> {
  const data = workerData as SimWorkerData;
  const port = parentPort;
  if (!port) throw new Error('sim-worker must run in a worker thread');
  const sentAt = new Float64Array(data.sentAt);
  const sims: LwM2mSimulator[] = [];
  for (let i = 0; i < data.count; i++) {
    const sim = await LwM2mSimulator.start({
      endpoint: `${data.prefix}${i}`,
      serverPort: data.serverPort,
      lwm2mVersion: '1.1',
      onTransmit: (datagram) => {
        if (isNotification(datagram)) sentAt[i] = now();
      },
    });
    sims.push(sim);
    await sim.register();
    if ((i + 1) % 250 === 0) port.postMessage({ type: 'progress', registered: i + 1 } satisfies SimWorkerEvent);
  }
  port.postMessage({ type: 'ready' } satisfies SimWorkerEvent);
  port.on('message', (command: SimWorkerCommand) => {
    if (command.type === 'round') {
      for (const sim of sims) sim.setValue('/3303/0/5700', { type: 'float', value: command.value });
      port.postMessage({ type: 'round-sent' } satisfies SimWorkerEvent);
    } else if (command.type === 'paced') {
      // Notifications spread evenly in time across the clients, round-robin: a steady load at `rate`.
      const started = performance.now();
      const catchUpPerTick = Math.max(1, Math.ceil((command.rate * CATCH_UP_WINDOW_MS) / 1000));
      let sent = 0;
      let value = 0;
      const tick = () => {
        const elapsed = performance.now() - started;
        if (elapsed >= command.durationMs) {
          port.postMessage({ type: 'paced-done', sent } satisfies SimWorkerEvent);
          return;
        }
        const due = Math.floor((elapsed * command.rate) / 1000);
        // Steady means steady: when this worker falls behind (its own GC, or no core free for a
        // moment), it catches up a few milliseconds' worth per tick rather than in one burst of hundreds.
        for (let n = 0; sent < due && n < catchUpPerTick; sent++, n++) {
          const i = sent % sims.length;
          if (i === 0) value++;
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
