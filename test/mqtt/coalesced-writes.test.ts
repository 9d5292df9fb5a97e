import { once } from 'node:events';
import { createConnection, createServer, Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../src/mqtt/coalesced-writes.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

interface Pair {
  /** The writing end, coalesced, whose hand-overs to the kernel are counted. */
  writer: Socket;
  reader: Socket;
  handOvers: () => number;
  received: () => string;
  arrived: (length: number) => Promise<void>;
}

const opened: (Socket | Server)[] = [];
afterEach(() => {
  for (const handle of opened.splice(0)) {
    if (handle instanceof Server) handle.close();
    else handle.destroy();
  }
});

/** A loopback TCP connection; the server's end writes, as the broker's does to a subscriber. */
async function pair(): Promise<Pair> {
  const server = createServer({ noDelay: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client = createConnection({ port, host: '127.0.0.1' });
  const [writer] = (await once(server, 'connection')) as [Socket];
  opened.push(client, writer, server);
  let text = '';
  client.on('data', (chunk: Buffer) => (text += chunk.toString()));

  let handOvers = 0;
  // Writable calls the instance's _write/_writev: one call is one write to the kernel.
  const counted = writer as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
  for (const method of ['_write', '_writev'] as const) {
    const original = counted[method].bind(writer);
    counted[method] = (...args: unknown[]) => {
      handOvers++;
      original(...args);
    };
  }
  coalesceWrites(writer);
  return {
    writer,
    reader: client,
    handOvers: () => handOvers,
    received: () => text,
    arrived: async (length) => {
      while (text.length < length) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
}

describe('coalesced writes', () => {
  it('hands what one turn wrote, in several immediates, to the kernel in one write, in order', async () => {
    const { writer, handOvers, received, arrived } = await pair();
    // As Aedes does: each delivery in an immediate of its own, each packet in several chunks.
    for (const packet of ['one', 'two', 'three']) setImmediate(() => writer.write(packet) && writer.write('|'));
    await nextTurn();
    expect(handOvers()).toBe(0);
    await nextTurn();
    expect(handOvers()).toBe(1);
    await arrived('one|two|three|'.length);
    expect(received()).toBe('one|two|three|');
    // The next turn starts a new batch.
    writer.write('four');
    await nextTurn();
    expect(handOvers()).toBe(2);
    await arrived('one|two|three|four'.length);
    expect(received()).toBe('one|two|three|four');
  });

  it('keeps back-pressure: a full buffer answers false, and drain follows the write', async () => {
    const { writer, arrived, received } = await pair();
    const big = 'x'.repeat(writer.writableHighWaterMark);
    expect(writer.write('small')).toBe(true);
    expect(writer.write(big)).toBe(false);
    await once(writer, 'drain');
    await arrived(5 + big.length);
    expect(received().length).toBe(5 + big.length);
  });

  it('sends what is held when the stream is ended in the same turn', async () => {
    const { writer, reader, received } = await pair();
    writer.write('last words');
    writer.end();
    await once(reader, 'end');
    expect(received()).toBe('last words');
  });
});
