/**
 * The notify generator: N lean LwM2M clients over raw UDP in a worker thread, one socket each.
 * Each registers (POST /rd, LwM2M 1.1), answers the hub's Observe GET on /3303/0/5700 with a
 * SenML CBOR value, and then sends NON notifications (RFC 7641 §4.2) with that token and a
 * growing Observe number. Nothing else: any other request gets 4.04.
 *
 * Why not the test simulator (bench/sim-worker.ts): a full simulated device relays every
 * datagram through its radio socket and encodes each value anew, about 70 µs of the generator's
 * core per notification. On two cores that left the hub a fraction of one and measured the
 * generator, not the hub. Here a notification is one encode of a small header and one send.
 *
 * Every notification carries the number of its cycle (one notification per client) as its value,
 * and the time (absolute ms) it left its socket is stamped in the shared array under its client
 * and cycle; the subscriber reads the value from the MQTT payload and finds the stamp. With one
 * stamp per client, a value delayed by more than a client's period (37 ms at 27 000/s over 1000
 * clients) was timed from the client's next notification: the measured latency could not exceed
 * that period, whatever the delay.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { senmlCborCodec } from '../src/codecs/senml-cbor/index.js';
import { ContentFormat } from '../src/codecs/codec.js';
import { Method, ResponseCode, isRequestCode } from '../src/coap/codes.js';
import { decodeMessage, encodeMessage, MessageType } from '../src/coap/message.js';
import { getUintOption, OptionNumber, uintOption } from '../src/coap/options.js';
import { ObjectRegistry } from '../src/model/object-registry.js';
import { oneAtATime, request } from './exchange.js';

export interface NotifyWorkerData {
  readonly serverPort: number;
  readonly count: number;
  readonly prefix: string;
  /** Float64 send times, `stampSlots` per client: client i's notification of cycle c at i * stampSlots + c % stampSlots. */
  readonly sentAt: SharedArrayBuffer;
  readonly stampSlots: number;
}

/** `round`: every client notifies once; `paced`: notifications at `rate` per second, round-robin. */
export type NotifyWorkerCommand = { type: 'round' } | { type: 'paced'; rate: number; durationMs: number } | { type: 'stop' };
export type NotifyWorkerEvent =
  | { type: 'progress'; registered: number }
  | { type: 'ready' }
  | { type: 'round-sent' }
  | { type: 'paced-done'; sent: number }
  | { type: 'stopped' };

const OBSERVED_PATH = [3303, 0, 5700] as const;
/** Registrations in flight at once while the clients come up. */
const REGISTER_CONCURRENCY = 50;
/** Paced mode sends at most this many milliseconds' worth of notifications per timer tick (a tick is 1 ms or more). */
const CATCH_UP_WINDOW_MS = 3;

const now = () => performance.timeOrigin + performance.now();
const noModel = new ObjectRegistry();

/** The SenML CBOR body of one temperature value; every client sends the same bytes for the same value. */
const bodies = new Map<number, Buffer>();
function body(value: number): Buffer {
  let bytes = bodies.get(value);
  if (!bytes) {
    bytes = Buffer.from(senmlCborCodec.encode({ kind: 'resource', id: OBSERVED_PATH[2], value: { type: 'float', value } }, [...OBSERVED_PATH], noModel));
    if (bodies.size > 1024) bodies.clear();
    bodies.set(value, bytes);
  }
  return bytes;
}

class LeanClient {
  private messageId: number;
  private sequence = 1;
  /** The token of the hub's observation, once it asked. */
  private token: Buffer | undefined;
  private readonly exchanger;

  constructor(
    private readonly socket: Socket,
    private readonly index: number,
    private readonly data: NotifyWorkerData,
    private readonly sentAt: Float64Array,
  ) {
    this.messageId = (index * 7919) & 0xffff;
    this.exchanger = oneAtATime((bytes) => socket.send(bytes, data.serverPort, '::1'));
    socket.on('message', (datagram) => this.receive(datagram));
  }

  async register(): Promise<boolean> {
    const reply = await this.exchanger.exchange(
      request(this.nextMessageId(), Method.POST, ['rd'], [`ep=${this.data.prefix}${this.index}`, 'lt=86400', 'lwm2m=1.1'], '</3303/0>'),
    );
    const decoded = reply ? decodeMessage(reply) : undefined;
    return decoded?.ok === true && decoded.message.code === ResponseCode.CREATED;
  }

  /** A NON notification of its `cycle` (the value sent); false before the hub observes. */
  notify(cycle: number): boolean {
    if (!this.token) return false;
    this.sequence = (this.sequence + 1) & 0xffffff;
    const datagram = encodeMessage({
      type: MessageType.NON,
      code: ResponseCode.CONTENT,
      messageId: this.nextMessageId(),
      token: this.token,
      options: [uintOption(OptionNumber.OBSERVE, this.sequence), uintOption(OptionNumber.CONTENT_FORMAT, ContentFormat.SENML_CBOR)],
      payload: body(cycle + 0.5),
    });
    this.sentAt[this.index * this.data.stampSlots + (cycle % this.data.stampSlots)] = now();
    this.socket.send(datagram, this.data.serverPort, '::1');
    return true;
  }

  close(): void {
    this.socket.close();
  }

  private receive(datagram: Buffer): void {
    const decoded = decodeMessage(datagram);
    if (!decoded.ok) return;
    const message = decoded.message;
    if (!isRequestCode(message.code)) {
      this.exchanger.receive(datagram);
      return;
    }
    // The hub's requests: only the observation of the temperature is served.
    const path = message.options.filter((o) => o.number === OptionNumber.URI_PATH).map((o) => o.value.toString());
    const observed = message.code === Method.GET && getUintOption(message.options, OptionNumber.OBSERVE) === 0 && path.join('/') === OBSERVED_PATH.join('/');
    const reply = encodeMessage({
      type: message.type === MessageType.CON ? MessageType.ACK : MessageType.NON,
      code: observed ? ResponseCode.CONTENT : ResponseCode.NOT_FOUND,
      messageId: message.type === MessageType.CON ? message.messageId : this.nextMessageId(),
      token: message.token,
      options: observed ? [uintOption(OptionNumber.OBSERVE, this.sequence), uintOption(OptionNumber.CONTENT_FORMAT, ContentFormat.SENML_CBOR)] : [],
      payload: observed ? body(0.5) : Buffer.alloc(0),
    });
    this.socket.send(reply, this.data.serverPort, '::1');
    if (observed && !this.token) this.token = Buffer.from(message.token);
  }

  private nextMessageId(): number {
    this.messageId = (this.messageId + 1) & 0xffff;
    return this.messageId;
  }
}

async function main(): Promise<void> {
  const data = workerData as NotifyWorkerData;
  const port = parentPort;
  if (!port) throw new Error('notify-worker must run in a worker thread');
  const sentAt = new Float64Array(data.sentAt);
  const clients: LeanClient[] = [];
  for (let i = 0; i < data.count; i++) {
    const socket = createSocket('udp6');
    await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
    clients.push(new LeanClient(socket, i, data, sentAt));
  }
  let registered = 0;
  for (let from = 0; from < clients.length; from += REGISTER_CONCURRENCY) {
    const batch = clients.slice(from, from + REGISTER_CONCURRENCY);
    const results = await Promise.all(batch.map((client) => client.register()));
    if (results.includes(false)) throw new Error('a lean client could not register');
    registered += batch.length;
    if (registered % 250 === 0 || registered === clients.length) port.postMessage({ type: 'progress', registered } satisfies NotifyWorkerEvent);
  }
  port.postMessage({ type: 'ready' } satisfies NotifyWorkerEvent);
  // Cycles go on counting across commands, so that a stamp is only overwritten stampSlots cycles later.
  let cycle = 0;
  port.on('message', (command: NotifyWorkerCommand) => {
    if (command.type === 'round') {
      cycle++;
      for (const client of clients) client.notify(cycle);
      port.postMessage({ type: 'round-sent' } satisfies NotifyWorkerEvent);
    } else if (command.type === 'paced') {
      // Notifications spread evenly in time across the clients, round-robin: a steady load at `rate`.
      const started = performance.now();
      const catchUpPerTick = Math.max(1, Math.ceil((command.rate * CATCH_UP_WINDOW_MS) / 1000));
      let sent = 0;
      const tick = () => {
        const elapsed = performance.now() - started;
        if (elapsed >= command.durationMs) {
          port.postMessage({ type: 'paced-done', sent } satisfies NotifyWorkerEvent);
          return;
        }
        const due = Math.floor((elapsed * command.rate) / 1000);
        // Steady means steady: when this worker falls behind (its own GC, or no core free for a
        // moment), it catches up a few milliseconds' worth per tick rather than in one burst of hundreds.
        for (let n = 0; sent < due && n < catchUpPerTick; sent++, n++) {
          const i = sent % clients.length;
          if (i === 0) cycle++;
          clients[i]?.notify(cycle);
        }
        setTimeout(tick, 1);
      };
      tick();
    } else {
      for (const client of clients) client.close();
      port.postMessage({ type: 'stopped' } satisfies NotifyWorkerEvent);
    }
  });
}

void main();
