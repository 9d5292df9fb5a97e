import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchedSender } from '../../src/coap/transport.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A loopback receiver and a sending socket whose calls to node:dgram's send are counted. */
async function pair(): Promise<{
  from: Socket;
  port: number;
  received: string[];
  sendCalls: () => number;
  arrived: (n: number) => Promise<void>;
}> {
  const to = createSocket('udp4');
  const from = createSocket('udp4');
  const received: string[] = [];
  to.on('message', (datagram) => received.push(datagram.toString()));
  await Promise.all([
    new Promise<void>((resolve) => to.bind(0, '127.0.0.1', resolve)),
    new Promise<void>((resolve) => from.bind(0, '127.0.0.1', resolve)),
  ]);
  let calls = 0;
  const send = from.send.bind(from) as (...args: unknown[]) => void;
  (from as unknown as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
    calls++;
    send(...args);
  };
  opened.push(to, from);
  const arrived = async (n: number) => {
    while (received.length < n) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { from, port: to.address().port, received, sendCalls: () => calls, arrived };
}

const opened: Socket[] = [];
afterEach(() => {
  for (const socket of opened.splice(0)) socket.close();
});

describe('batched sending', () => {
  it('sends what was sent in one turn once the turn is over, in order', async () => {
    const { from, port, received, sendCalls, arrived } = await pair();
    const sender = new BatchedSender(from, () => {});
    for (const text of ['one', 'two', 'three']) sender.send(Buffer.from(text), port, '127.0.0.1');
    expect(sendCalls()).toBe(0);
    await nextTurn();
    expect(sendCalls()).toBe(3);
    await arrived(3);
    expect(received).toEqual(['one', 'two', 'three']);
    // The next turn starts a new batch.
    sender.send(Buffer.from('four'), port, '127.0.0.1');
    await nextTurn();
    await arrived(4);
    expect(received).toEqual(['one', 'two', 'three', 'four']);
  });

  it('on close, sends what waits and refuses what comes later', async () => {
    const { from, port, received, sendCalls, arrived } = await pair();
    const sender = new BatchedSender(from, () => {});
    sender.send(Buffer.from('answer'), port, '127.0.0.1');
    sender.close();
    expect(sendCalls()).toBe(1);
    sender.send(Buffer.from('too late'), port, '127.0.0.1');
    await nextTurn();
    await arrived(1);
    expect(sendCalls()).toBe(1);
    expect(received).toEqual(['answer']);
  });

  it('reports a datagram that cannot be sent and still sends the others', async () => {
    const { from, port, received, arrived } = await pair();
    const errors: Error[] = [];
    const sender = new BatchedSender(from, (error) => {
      if (error) errors.push(error);
    });
    sender.send(Buffer.from('before'), port, '127.0.0.1');
    sender.send(Buffer.from('nowhere'), 0, '127.0.0.1'); // node:dgram throws on port 0
    sender.send(Buffer.from('after'), port, '127.0.0.1');
    await nextTurn();
    await arrived(2);
    expect(received).toEqual(['before', 'after']);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/port/i);
  });
});
