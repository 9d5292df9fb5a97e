/**
 * Retained MQTT messages (registrations and last values) kept on disk, so that a
 * subscriber arriving after a restart still gets the last known state. The
 * embedded broker keeps retained messages in memory only.
 *
 * Registrations are not logged here: the registration store has them, and the bridge
 * republishes them at start (messages marked `fromStore`).
 *
 * Values change far more often than registrations: writes are coalesced per topic
 * and flushed once a second (one group commit), so a restart can lose at most the
 * last second of values — never a registration, which lives in the registration store.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { AppendLog } from '../store/append-log.js';
import type { MqttTransport, PublishRequest } from './transport.js';

type RetainedRecord = { topic: string; payload: string | null };

export const RETAINED_LOG = 'retained.log';
const FLUSH_INTERVAL_MS = 1000;

export async function withPersistentRetained(inner: MqttTransport, dataDir: string, logger: Logger): Promise<MqttTransport> {
  await mkdir(dataDir, { recursive: true });
  // Buffers, not strings: the same bytes are what the embedded broker retains (the
  // transport hands a Buffer on uncopied), and they live outside the JS heap.
  const retained = new Map<string, Buffer>();
  const log = await AppendLog.open<RetainedRecord>(path.join(dataDir, RETAINED_LOG), {
    replay: (record) => {
      if (record.payload === null) retained.delete(record.topic);
      else retained.set(record.topic, Buffer.from(record.payload));
    },
    onCorrupt: (problem) => logger.warn({ ...problem }, 'damaged retained-message record skipped'),
  });
  // The last known state, back on the broker before anything new is published.
  for (const [topic, payload] of retained) inner.publish({ topic, payload, retain: true });
  if (retained.size > 0) logger.info({ messages: retained.size }, 'retained MQTT messages restored');

  const dirty = new Map<string, Buffer | null>();
  const record = (topic: string, payload: Buffer | null): RetainedRecord => ({
    topic,
    payload: payload === null ? null : payload.toString('utf8'),
  });
  const flush = async () => {
    if (dirty.size === 0) return;
    const batch = [...dirty].map(([topic, payload]) => record(topic, payload));
    dirty.clear();
    await Promise.all(batch.map((entry) => log.append(entry)));
    if (log.length > 2 * retained.size + 1000) await log.compact([...retained].map(([topic, payload]) => record(topic, payload)));
  };
  const timer = setInterval(
    () => flush().catch((error: unknown) => logger.error({ err: error }, 'cannot persist retained MQTT messages')),
    FLUSH_INTERVAL_MS,
  );
  timer.unref();

  return {
    publish(message: PublishRequest) {
      if (!message.retain) {
        inner.publish(message);
        return;
      }
      const payload = Buffer.isBuffer(message.payload) ? message.payload : Buffer.from(message.payload);
      inner.publish({ ...message, payload });
      if (message.fromStore) {
        // Rebuilt from the registration store at start: not logged (a log from an older version may still hold it).
        if (retained.delete(message.topic)) dirty.set(message.topic, null);
        return;
      }
      // MQTT 3.1.1 §3.3.1.3: an empty retained payload clears the topic.
      if (payload.length === 0) retained.delete(message.topic);
      else retained.set(message.topic, payload);
      dirty.set(message.topic, payload.length === 0 ? null : payload);
    },
    subscribe: (filters, onMessage) => inner.subscribe(filters, onMessage),
    stats: () => inner.stats(),
    async close() {
      clearInterval(timer);
      await flush().catch((error: unknown) => logger.error({ err: error }, 'cannot persist retained MQTT messages'));
      await log.close();
      await inner.close();
    },
  };
}
