/**
 * /api/events keeps events for Last-Event-ID only while a stream may resume: while one is open
 * and for RESUME_WINDOW_MS after the last one closed. A real HTTP server and SSE client, a
 * settable clock.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events.js';
import { RESUME_WINDOW_MS, registerEventStream } from '../../src/http/event-stream.js';
import { ObjectRegistry } from '../../src/model/object-registry.js';
import { makeRegistration } from '../store/support/registrations.js';
import { SseClient } from '../support/sse.js';

describe('event stream resume buffer', () => {
  let app: FastifyInstance;
  let url: string;
  let clock: number;
  const events = new EventBus();
  const streams: SseClient[] = [];
  const register = (endpoint: string) => events.emit('registered', { registration: makeRegistration(1, { endpoint }) });
  const open = async (lastEventId: string) => {
    const stream = await SseClient.open(url, { 'last-event-id': lastEventId });
    streams.push(stream);
    return stream;
  };
  const endpoints = (stream: SseClient) => stream.events.map((e) => e.data['endpoint']);
  /** A stream that replays nothing sees only what comes after it opened. */
  const expectOnlyLiveEvents = async (stream: SseClient) => {
    register('live');
    await stream.waitFor((e) => e.data['endpoint'] === 'live');
    expect(endpoints(stream)).toEqual(['live']);
  };
  /** Resolves once the server has seen the stream's connection close (it learns of it after the client aborts). */
  const closeAndSettle = async (stream: SseClient) => {
    await stream.close();
    const connections = () => new Promise<number>((resolve) => app.server.getConnections((_error, count) => resolve(count)));
    while ((await connections()) > 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };

  beforeEach(async () => {
    clock = 1_000_000;
    app = Fastify();
    registerEventStream(app, { events, model: new ObjectRegistry(), bufferSize: 10, now: () => clock });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/events`;
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) await stream.close();
    await app.close();
  });

  it('keeps nothing while no stream was ever open', async () => {
    register('unwatched-1');
    register('unwatched-2');
    await expectOnlyLiveEvents(await open('0'));
  });

  it('replays what happened after Last-Event-ID within the window after the last stream closed', async () => {
    const first = await open('0');
    register('seen');
    const [seen] = await first.waitFor((e) => e.data['endpoint'] === 'seen');
    await closeAndSettle(first);
    clock += RESUME_WINDOW_MS - 1;
    register('missed');
    const resumed = await open(String(seen?.id));
    await resumed.waitFor((e) => e.data['endpoint'] === 'missed');
    expect(endpoints(resumed)).toEqual(['missed']);
  });

  it('drops what it kept once the window has passed, and keeps nothing more until a stream opens', async () => {
    const first = await open('0');
    register('seen');
    await first.waitFor((e) => e.data['endpoint'] === 'seen');
    await closeAndSettle(first);
    register('kept-then-dropped');
    clock += RESUME_WINDOW_MS;
    register('too-late');
    await expectOnlyLiveEvents(await open('0'));
  });

  it('keeps the last bufferSize events while a stream is open', async () => {
    const watcher = await open('0');
    for (let i = 0; i < 15; i++) register(`e${i}`);
    await watcher.waitFor((e) => e.data['endpoint'] === 'e14');
    const late = await open('0');
    await late.waitFor((e) => e.data['endpoint'] === 'e14');
    expect(endpoints(late)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i + 5}`));
  });
});
