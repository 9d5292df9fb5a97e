import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatCode, Method, ResponseCode } from '../../src/coap/codes.js';
import { CoapEndpoint, CoapResetError, CoapTimeoutError } from '../../src/coap/endpoint.js';
import { decodeMessage, emptyMessage, encodeMessage, MessageType, type CoapMessage } from '../../src/coap/message.js';
import { getUintOption, OptionNumber, stringOption, uintOption } from '../../src/coap/options.js';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../support/hub.js';
import { RawUdp } from '../support/raw-udp.js';

let hub: Hub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.stop());

function registerMessage(messageId: number, endpoint: string, type: MessageType = MessageType.CON): Buffer {
  return encodeMessage({
    type,
    code: Method.POST,
    messageId,
    token: Buffer.from([messageId & 0xff, 0x42]),
    options: [stringOption(OptionNumber.URI_PATH, 'rd'), stringOption(OptionNumber.URI_QUERY, `ep=${endpoint}`)],
    payload: Buffer.from('</3/0>'),
  });
}

function decoded(data: Buffer | undefined): CoapMessage {
  const result = decodeMessage(data ?? Buffer.alloc(0));
  if (!result.ok) throw new Error(`not a CoAP message: ${result.reason}`);
  return result.message;
}

describe('CoAP endpoint as a server', () => {
  it('answers a duplicate CON with the same bytes and processes it once', async () => {
    const raw = await RawUdp.open(6);
    let registered = 0;
    const off = hub.events.on('registered', (e) => {
      if (e.registration.endpoint === 'dup-node') registered++;
    });
    const request = registerMessage(0x2001, 'dup-node');
    await raw.send(request, hub.coap.port);
    const first = await raw.receive();
    await raw.send(request, hub.coap.port);
    const second = await raw.receive();
    off();
    expect(first?.data).toBeDefined();
    expect(second?.data.equals(first!.data)).toBe(true);
    expect(formatCode(decoded(first?.data).code)).toBe('2.01');
    expect(registered).toBe(1);
    await raw.close();
  });

  it('answers a NON request with a NON response carrying the token', async () => {
    const raw = await RawUdp.open(4);
    await raw.send(registerMessage(0x3001, 'non-node', MessageType.NON), hub.coap.port, '127.0.0.1');
    const reply = decoded((await raw.receive())?.data);
    expect(reply.type).toBe(MessageType.NON);
    expect(formatCode(reply.code)).toBe('2.01');
    expect(reply.token.toString('hex')).toBe('0142');
    await raw.close();
  });

  it('answers an unrecognised critical option in a CON request with 4.02', async () => {
    const raw = await RawUdp.open(6);
    const bytes = encodeMessage({
      type: MessageType.CON,
      code: Method.POST,
      messageId: 0x4001,
      token: Buffer.from([1]),
      options: [stringOption(OptionNumber.URI_PATH, 'rd'), stringOption(2049, 'x')],
      payload: Buffer.alloc(0),
    });
    await raw.send(bytes, hub.coap.port);
    const reply = decoded((await raw.receive())?.data);
    expect(reply.type).toBe(MessageType.ACK);
    expect(reply.messageId).toBe(0x4001);
    expect(reply.code).toBe(ResponseCode.BAD_OPTION);
    await raw.close();
  });

  it('resets a CON whose header parses but whose options do not, and a CoAP ping', async () => {
    const raw = await RawUdp.open(6);
    await raw.send(Buffer.from('42025005abcdf1', 'hex'), hub.coap.port);
    const reset = decoded((await raw.receive())?.data);
    expect([reset.type, reset.code, reset.messageId]).toEqual([MessageType.RST, 0, 0x5005]);
    await raw.send(encodeMessage(emptyMessage(MessageType.CON, 0x5006)), hub.coap.port);
    const pong = decoded((await raw.receive())?.data);
    expect([pong.type, pong.messageId]).toEqual([MessageType.RST, 0x5006]);
    await raw.close();
  });

  it('keeps answering after 10 000 random and truncated datagrams', async () => {
    const raw = await RawUdp.open(6);
    let seed = 0x1234567;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const valid = registerMessage(0x6000, 'fuzz-template');
    for (let i = 0; i < 10_000; i++) {
      let datagram: Buffer;
      if (i % 2 === 0) {
        datagram = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      } else {
        datagram = Buffer.from(valid.subarray(0, Math.floor(random() * valid.length)));
        if (datagram.length > 4) datagram[4 + Math.floor(random() * (datagram.length - 4))] = Math.floor(random() * 256);
      }
      await raw.send(datagram, hub.coap.port);
      // Drain replies (RSTs, 4.xx) so they do not pile up; pace the sender so the kernel buffer holds.
      if (i % 200 === 0) while (await raw.receive(5));
    }
    while (await raw.receive(50));
    const probe = registerMessage(0x7001, 'still-alive');
    await raw.send(probe, hub.coap.port);
    let reply;
    do reply = decoded((await raw.receive(2000))?.data);
    while (reply.messageId !== 0x7001);
    expect(formatCode(reply.code)).toBe('2.01');
    await raw.close();
  });
});

describe('CoAP endpoint deduplication (RFC 7252 §4.5)', () => {
  it('acts once on a NON sent twice and once on a CON sent twice, even when they share a message ID', async () => {
    const peer = await RawUdp.open(6);
    const endpoint = await CoapEndpoint.bind({ host: '::1' });
    const seen: string[] = [];
    endpoint.onRequest = (request) => {
      seen.push(`${request.confirmable ? 'CON' : 'NON'} ${request.uriPath.join('/')}`);
      return { code: ResponseCode.CONTENT };
    };
    const port = endpoint.address().port;
    const message = (type: MessageType, segment: string) =>
      encodeMessage({ type, code: Method.GET, messageId: 0x777, token: Buffer.from([7]), options: [stringOption(OptionNumber.URI_PATH, segment)], payload: Buffer.alloc(0) });
    for (const datagram of [message(MessageType.NON, 'non'), message(MessageType.NON, 'non'), message(MessageType.CON, 'con'), message(MessageType.CON, 'con')]) {
      await peer.send(datagram, port);
    }
    // Three answers: the NON's, the CON's ACK, and the same ACK again for the duplicate CON; the duplicate NON gets none.
    const answers = [await peer.receive(), await peer.receive(), await peer.receive()].map((a) => decoded(a?.data));
    expect(answers.map((a) => a.type)).toEqual([MessageType.NON, MessageType.ACK, MessageType.ACK]);
    expect(await peer.receive(100)).toBeUndefined();
    expect(seen).toEqual(['NON non', 'CON con']);
    await endpoint.close();
    await peer.close();
  });

  it('remembers NON requests but leaves NON notifications to the Observe order of its owner', async () => {
    const peer = await RawUdp.open(6);
    const endpoint = await CoapEndpoint.bind({ host: '::1' });
    endpoint.onRequest = () => ({ code: ResponseCode.CONTENT });
    const notified: number[] = [];
    endpoint.onUnmatchedResponse = (response) => {
      notified.push(getUintOption(response.options, OptionNumber.OBSERVE) ?? -1);
      return true;
    };
    const port = endpoint.address().port;
    const notification = encodeMessage({
      type: MessageType.NON,
      code: ResponseCode.CONTENT,
      messageId: 0x500,
      token: Buffer.from([5]),
      options: [uintOption(OptionNumber.OBSERVE, 12)],
      payload: Buffer.from('1'),
    });
    await peer.send(notification, port);
    await peer.send(notification, port);
    await peer.send(encodeMessage({ type: MessageType.NON, code: Method.GET, messageId: 0x501, token: Buffer.from([6]), options: [], payload: Buffer.alloc(0) }), port);
    expect(decoded((await peer.receive())?.data).type).toBe(MessageType.NON); // the answer to the NON request
    expect(notified).toEqual([12, 12]);
    expect(endpoint.rememberedMessages()).toEqual({ confirmable: 0, nonConfirmable: 1 });
    await endpoint.close();
    await peer.close();
  });
});

describe('CoAP endpoint bound before it serves (holdUntilOpen)', () => {
  it('keeps what arrives before open() and answers it afterwards, in order, with the handler set meanwhile', async () => {
    const peer = await RawUdp.open(6);
    const endpoint = await CoapEndpoint.bind({ host: '::1', holdUntilOpen: true });
    const port = endpoint.address().port;
    for (const [messageId, segment] of [[0x101, 'first'], [0x102, 'second']] as const) {
      await peer.send(
        encodeMessage({ type: MessageType.CON, code: Method.GET, messageId, token: Buffer.from([messageId & 0xff]), options: [stringOption(OptionNumber.URI_PATH, segment)], payload: Buffer.alloc(0) }),
        port,
      );
    }
    await vi.waitFor(() => expect(endpoint.heldDatagrams).toBe(2));
    // Nothing is answered while held, not even the 4.04 of an endpoint without a handler.
    expect(await peer.receive(50)).toBeUndefined();
    endpoint.onRequest = (request) => ({ code: ResponseCode.CONTENT, payload: Buffer.from(request.uriPath.join('/')) });
    endpoint.open();
    const answers = [decoded((await peer.receive())?.data), decoded((await peer.receive())?.data)];
    expect(answers.map((a) => [a.messageId, formatCode(a.code), a.payload.toString()])).toEqual([
      [0x101, '2.05', 'first'],
      [0x102, '2.05', 'second'],
    ]);
    expect(endpoint.heldDatagrams).toBe(0);
    await endpoint.close();
    await peer.close();
  });
});

describe('CoAP endpoint as a client', () => {
  const fast = { ackTimeoutMs: 100, ackRandomFactor: 1, maxRetransmit: 3 };

  it('retransmits a CON until the peer answers, then takes a separate response', async () => {
    const peer = await RawUdp.open(6);
    const endpoint = await CoapEndpoint.bind({ host: '::1', transmission: fast });
    const pending = endpoint.request({ address: '::1', port: peer.port }, { method: Method.GET, uriPath: ['3', '0', '0'] });
    // Lossy link: the first two copies are "lost".
    const copies = [await peer.receive(), await peer.receive(), await peer.receive()].map((c) => decoded(c?.data));
    expect(new Set(copies.map((c) => c.messageId)).size).toBe(1);
    const request = copies[0]!;
    const from = { port: endpoint.address().port };
    await peer.send(encodeMessage(emptyMessage(MessageType.ACK, request.messageId)), from.port);
    await peer.send(
      encodeMessage({ type: MessageType.CON, code: ResponseCode.CONTENT, messageId: 0x9999, token: request.token, options: [], payload: Buffer.from('Open Mobile Alliance') }),
      from.port,
    );
    const response = await pending;
    expect(formatCode(response.code)).toBe('2.05');
    expect(response.payload.toString()).toBe('Open Mobile Alliance');
    const ack = decoded((await peer.receive())?.data);
    expect([ack.type, ack.messageId]).toEqual([MessageType.ACK, 0x9999]);
    await endpoint.close();
    await peer.close();
  });

  it('gives up after MAX_RETRANSMIT retransmissions', async () => {
    const peer = await RawUdp.open(4);
    const endpoint = await CoapEndpoint.bind({ host: '127.0.0.1', transmission: fast });
    const error = await endpoint.request({ address: '127.0.0.1', port: peer.port }, { method: Method.GET, uriPath: ['3'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoapTimeoutError);
    let copies = 0;
    while (await peer.receive(10)) copies++;
    expect(copies).toBe(1 + fast.maxRetransmit);
    await endpoint.close();
    await peer.close();
  });

  it('fails the request when the peer resets it', async () => {
    const peer = await RawUdp.open(6);
    const endpoint = await CoapEndpoint.bind({ host: '::1', transmission: fast });
    const pending = endpoint.request({ address: '::1', port: peer.port }, { method: Method.GET, uriPath: ['3'] });
    const request = decoded((await peer.receive())?.data);
    await peer.send(encodeMessage(emptyMessage(MessageType.RST, request.messageId)), endpoint.address().port);
    await expect(pending).rejects.toBeInstanceOf(CoapResetError);
    await endpoint.close();
    await peer.close();
  });
});
