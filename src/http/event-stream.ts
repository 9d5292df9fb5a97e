/**
 * GET /api/events: Server-Sent Events of everything the hub sees, with
 * `Last-Event-ID` resume from a bounded buffer (the HTML SSE spec's reconnection).
 */
import type { FastifyInstance } from 'fastify';
import type { EventBus, HubEventMap, HubEventName } from '../events.js';
import { registrationToJson } from '../lwm2m/registration/registration.js';
import type { ModelProvider } from '../model/object-model.js';
import { formatPath } from '../model/path.js';
import { nodeToJson, valueToJson } from './node-json.js';
import { isoTime } from '../time.js';

/** Formatted on first need: with nobody listening, an event costs a buffer slot, not a JSON.stringify. */
interface BufferedEvent {
  readonly id: number;
  readonly name: HubEventName;
  readonly event: HubEventMap[HubEventName];
  readonly time: number;
  data?: string;
}

const KEEP_ALIVE_MS = 15_000;
/**
 * How long after the last stream closed events are still kept for its Last-Event-ID: well past
 * the `retry: 2000` we ask browsers for, and a network's short break.
 */
export const RESUME_WINDOW_MS = 60_000;

/** The JSON each event carries on SSE (and, later, MQTT). */
export function eventToJson(name: HubEventName, event: HubEventMap[HubEventName], model: ModelProvider, time: number): Record<string, unknown> {
  const registration = event.registration;
  const base = { event: name, endpoint: registration.endpoint, time: isoTime(time) };
  switch (name) {
    case 'notification':
    case 'read': {
      const e = event as HubEventMap['notification'] | HubEventMap['read'];
      return { ...base, path: formatPath(e.path), content: nodeToJson(e.node, e.path, model), ...('observationId' in e ? { observationId: e.observationId } : {}) };
    }
    case 'send': {
      const e = event as HubEventMap['send'];
      return { ...base, values: e.records.map((r) => ({ path: formatPath(r.path), type: r.value.type, value: valueToJson(r.value), ...(r.time !== undefined ? { time: r.time } : {}) })) };
    }
    case 'observationCancelled': {
      const e = event as HubEventMap['observationCancelled'];
      return { ...base, path: formatPath(e.path), observationId: e.observationId, reason: e.reason };
    }
    default:
      return { ...base, registration: registrationToJson(registration) };
  }
}

const STREAMED: readonly HubEventName[] = ['registered', 'updated', 'deregistered', 'expired', 'notification', 'send', 'read', 'observationCancelled', 'awake', 'sleeping'];

export function registerEventStream(
  app: FastifyInstance,
  options: { events: EventBus; model: ModelProvider; bufferSize: number; now?: () => number },
): () => void {
  const now = options.now ?? Date.now;
  // A ring of the last bufferSize events: an event overwrites the oldest slot instead of
  // shifting a thousand entries down, which every registration paid for.
  //
  // Events are kept only while a stream may resume: while one is open and for RESUME_WINDOW_MS
  // after the last one closed. Kept with nobody to resume, a thousand events (each with its
  // decoded value) outlived the young generation at thousands of notifications a second, and
  // the old-space collections they caused every 3 s were the notify latency tail (p99 20-45 ms
  // at 10 000/s; 4-5 ms without them).
  const ring: (BufferedEvent | undefined)[] = new Array<BufferedEvent | undefined>(options.bufferSize);
  const subscribers = new Set<(event: BufferedEvent) => void>();
  let nextId = 1;
  let keepUntil = 0;
  /** Oldest first; an id whose slot holds another event was not kept. */
  const buffered = function* (): Generator<BufferedEvent> {
    for (let id = Math.max(1, nextId - options.bufferSize); id < nextId; id++) {
      const entry = ring[id % options.bufferSize];
      if (entry?.id === id) yield entry;
    }
  };

  const offs = STREAMED.map((name) =>
    options.events.on(name, (event) => {
      const entry: BufferedEvent = { id: nextId++, name, event, time: now() };
      if (options.bufferSize > 0) {
        if (subscribers.size > 0 || entry.time < keepUntil) ring[entry.id % options.bufferSize] = entry;
        else if (keepUntil !== 0) {
          // The window has passed: what is kept can no longer be asked for.
          ring.fill(undefined);
          keepUntil = 0;
        }
      }
      for (const send of subscribers) send(entry);
    }),
  );

  app.get<{ Querystring: { lastEventId?: string } }>('/api/events', (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const write = (event: BufferedEvent) => {
      event.data ??= JSON.stringify(eventToJson(event.name, event.event, options.model, event.time));
      raw.write(`id: ${event.id}\nevent: ${event.name}\ndata: ${event.data}\n\n`);
    };
    raw.write(`retry: 2000\n\n`);
    const lastId = Number(request.headers['last-event-id'] ?? request.query.lastEventId);
    if (Number.isInteger(lastId) && options.bufferSize > 0) for (const event of buffered()) if (event.id > lastId) write(event);
    subscribers.add(write);
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      subscribers.delete(write);
      if (subscribers.size === 0) keepUntil = now() + RESUME_WINDOW_MS;
    });
  });

  return () => {
    for (const off of offs) off();
  };
}
