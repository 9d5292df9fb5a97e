/**
 * Block-wise transfer (RFC 7959) in the CoAP endpoint, over real sockets: Block1 requests
 * reassembled by the hub (from our endpoint and from libcoap), the refusals (4.08, 4.13),
 * the bounds on abandoned transfers, Block1 requests we send (with a 4.13 restart) and
 * Block2 responses we serve and fetch.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockOption, decodeBlock, encodeBlock, getBlock, szxFor } from '../../src/coap/block.js';
import { formatCode, Method, ResponseCode } from '../../src/coap/codes.js';
import { CoapBlockError, CoapEndpoint, type IncomingRequest } from '../../src/coap/endpoint.js';
import { decodeMessage, encodeMessage, MessageType, type CoapMessage } from '../../src/coap/message.js';
import { getStringOptions, getUintOption, OptionNumber, stringOption, uintOption, type CoapOption } from '../../src/coap/options.js';
import type { Hub } from '../../src/hub.js';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { httpUrl, startTestHub } from '../support/hub.js';
import { RawUdp } from '../support/raw-udp.js';

const fast = { ackTimeoutMs: 100, ackRandomFactor: 1, maxRetransmit: 3 };
let hub: Hub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.stop());

/** A link-format body of `count` object instance links, about 12 bytes each. */
function links(count: number): string {
  return Array.from({ length: count }, (_, i) => `</3303/${i}>`).join(',');
}

async function objectLinks(endpoint: string): Promise<number> {
  const response = await fetch(httpUrl(hub, `/api/clients/${encodeURIComponent(endpoint)}`));
  expect(response.status).toBe(200);
  return ((await response.json()) as RegistrationJson).objectLinks.length;
}

function decoded(data: Buffer | undefined): CoapMessage {
  const result = decodeMessage(data ?? Buffer.alloc(0));
  if (!result.ok) throw new Error(`not a CoAP message: ${result.reason}`);
  return result.message;
}

function block1Request(
  messageId: number,
  uri: { path: string[]; query: string[] },
  num: number,
  more: boolean,
  szx: number,
  payload: Buffer,
  extra: CoapOption[] = [],
): Buffer {
  return encodeMessage({
    type: MessageType.CON,
    code: Method.POST,
    messageId,
    token: Buffer.from([messageId & 0xff, messageId >> 8]),
    options: [
      ...uri.path.map((p) => stringOption(OptionNumber.URI_PATH, p)),
      ...uri.query.map((q) => stringOption(OptionNumber.URI_QUERY, q)),
      blockOption(OptionNumber.BLOCK1, { num, more, szx }),
      ...extra,
    ],
    payload,
  });
}

async function exchange(raw: RawUdp, datagram: Buffer, port: number): Promise<CoapMessage> {
  await raw.send(datagram, port);
  return decoded((await raw.receive(2000))?.data);
}

describe('Block option', () => {
  it('encodes NUM, M and SZX in 0 to 3 bytes (RFC 7959 §2.2)', () => {
    for (const block of [
      { num: 0, more: false, szx: 0 },
      { num: 0, more: true, szx: 6 },
      { num: 15, more: true, szx: 2 },
      { num: 4095, more: false, szx: 6 },
      { num: 0xfffff, more: true, szx: 0 },
    ]) {
      const bytes = encodeBlock(block);
      expect(bytes.length).toBeLessThanOrEqual(3);
      expect(decodeBlock(bytes)).toEqual(block);
    }
    expect(encodeBlock({ num: 0, more: false, szx: 0 }).length).toBe(0);
    expect(decodeBlock(Buffer.alloc(4))).toBeUndefined();
    expect([16, 64, 100, 1024, 4096].map(szxFor)).toEqual([0, 2, 2, 6, 6]);
  });
});

describe('Block1 requests the hub receives', () => {
  for (const size of [16, 64, 1024]) {
    it(`stores a ~2 KB registration sent by our endpoint in ${size}-byte blocks`, async () => {
      const client = await CoapEndpoint.bind({ host: '::1', blockSize: size, transmission: fast });
      const body = links(170);
      expect(body.length).toBeGreaterThan(1900);
      const endpoint = `block1-${size}`;
      const response = await client.request(
        { address: '::1', port: hub.coap.port },
        {
          method: Method.POST,
          uriPath: ['rd'],
          uriQuery: [`ep=${endpoint}`, 'lt=60'],
          options: [uintOption(OptionNumber.CONTENT_FORMAT, 40)],
          payload: Buffer.from(body),
        },
      );
      expect(formatCode(response.code)).toBe('2.01');
      expect(getStringOptions(response.options, OptionNumber.LOCATION_PATH)[0]).toBe('rd');
      // RFC 7959 §2.3: the final response carries the last Block1 option, M unset.
      expect(getBlock(response.options, OptionNumber.BLOCK1)).toMatchObject({ more: false, szx: szxFor(size) });
      expect(client.blockStats().block1Sent).toBe(1);
      expect(await objectLinks(endpoint)).toBe(170);
      await client.close();
    });
  }

  it('stores a ~2 KB registration sent by libcoap coap-client -b 64', async () => {
    const body = links(170);
    const endpoint = 'libcoap-block1';
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('coap-client-notls', [
        '-m',
        'post',
        '-b',
        '64',
        '-t',
        '40',
        '-B',
        '10',
        '-e',
        body,
        `coap://[::1]:${hub.coap.port}/rd?ep=${endpoint}&lt=60`,
      ]);
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('close', (exitCode) => resolve({ code: exitCode, output }));
    });
    expect(code, output).toBe(0);
    expect(await objectLinks(endpoint)).toBe(170);
  });

  it('answers 2.31 Continue with the Block1 option for each block but the last', async () => {
    const raw = await RawUdp.open(6);
    const uri = { path: ['rd'], query: ['ep=raw-continue'] };
    const body = Buffer.from(links(10)); // 110 bytes: 32 + 32 + 32 + 14
    for (let num = 0; num < 4; num++) {
      const last = (num + 1) * 32 >= body.length;
      const reply = await exchange(
        raw,
        block1Request(0x100 + num, uri, num, !last, 1, body.subarray(num * 32, num * 32 + 32)),
        hub.coap.port,
      );
      expect(reply.messageId).toBe(0x100 + num);
      if (!last) {
        expect(formatCode(reply.code)).toBe('2.31');
        expect(getBlock(reply.options, OptionNumber.BLOCK1)).toEqual({ num, more: true, szx: 1 });
      } else {
        expect(formatCode(reply.code)).toBe('2.01');
        expect(getStringOptions(reply.options, OptionNumber.LOCATION_PATH)[0]).toBe('rd');
      }
    }
    expect(await objectLinks('raw-continue')).toBe(10);
    await raw.close();
  });

  it('answers 4.08 to a Block1 sequence with a gap, and to a block with no transfer', async () => {
    const raw = await RawUdp.open(6);
    const uri = { path: ['rd'], query: ['ep=raw-gap'] };
    const block = Buffer.alloc(64, 0x41);
    expect(formatCode((await exchange(raw, block1Request(0x200, uri, 0, true, 2, block), hub.coap.port)).code)).toBe('2.31');
    const gap = await exchange(raw, block1Request(0x201, uri, 2, true, 2, block), hub.coap.port);
    expect(formatCode(gap.code)).toBe('4.08');
    expect(gap.payload.toString()).toMatch(/Block1 #2\+ \(64 B\).*missing bytes 64-127/);
    const orphan = await exchange(
      raw,
      block1Request(0x202, { path: ['rd'], query: ['ep=raw-orphan'] }, 3, false, 2, Buffer.from('x')),
      hub.coap.port,
    );
    expect(formatCode(orphan.code)).toBe('4.08');
    expect(await fetch(httpUrl(hub, '/api/clients/raw-gap')).then((r) => r.status)).toBe(404);
    await raw.close();
  });

  it('answers 4.13 with Size1 to a body over the limit, announced or accumulated', async () => {
    const raw = await RawUdp.open(6);
    const announced = await exchange(
      raw,
      block1Request(0x300, { path: ['rd'], query: ['ep=raw-huge'] }, 0, true, 6, Buffer.alloc(1024, 0x41), [
        uintOption(OptionNumber.SIZE1, 1_000_000),
      ]),
      hub.coap.port,
    );
    expect(formatCode(announced.code)).toBe('4.13');
    expect(getUintOption(announced.options, OptionNumber.SIZE1)).toBe(65_536);

    // A server of its own with a small limit: the 5th 256-byte block crosses 1024 bytes.
    const server = await CoapEndpoint.bind({ host: '::1', maxBodyBytes: 1024 });
    server.onRequest = () => ({ code: ResponseCode.CHANGED });
    const uri = { path: ['big'], query: [] };
    for (let num = 0; num < 4; num++) {
      expect(
        formatCode((await exchange(raw, block1Request(0x310 + num, uri, num, true, 4, Buffer.alloc(256)), server.address().port)).code),
      ).toBe('2.31');
    }
    const over = await exchange(raw, block1Request(0x320, uri, 4, false, 4, Buffer.alloc(10)), server.address().port);
    expect(formatCode(over.code)).toBe('4.13');
    expect(getUintOption(over.options, OptionNumber.SIZE1)).toBe(1024);
    expect(server.blockStats()).toMatchObject({ incompleteTransfers: 0, tooLargeAnswers: 1 });
    await server.close();
    await raw.close();
  });

  it('keeps 1 000 abandoned transfers from many source ports within its bounds and keeps answering', async () => {
    const limits = { transfersPerPeer: 2, transfersTotal: 100, bytesPerPeer: 1024, bytesTotal: 100 * 64 };
    const server = await CoapEndpoint.bind({ host: '::1', blockLimits: limits, blockLifetimeMs: 60_000 });
    let handled = 0;
    server.onRequest = () => {
      handled++;
      return { code: ResponseCode.CHANGED };
    };
    const sockets = await Promise.all(Array.from({ length: 250 }, () => RawUdp.open(6)));
    let continued = 0;
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        sockets.map(async (raw, i) => {
          // 250 ports × 4 resources: 1 000 transfers, each left after its first block.
          const reply = await exchange(
            raw,
            block1Request((round << 12) | i, { path: ['abandoned', String(round)], query: [] }, 0, true, 2, Buffer.alloc(64, i & 0xff)),
            server.address().port,
          );
          if (reply.code === ResponseCode.CONTINUE) continued++;
        }),
      );
      const stats = server.blockStats();
      expect(stats.incompleteTransfers).toBeLessThanOrEqual(limits.transfersTotal);
      expect(stats.incompleteBytes).toBeLessThanOrEqual(limits.bytesTotal);
    }
    expect(continued).toBe(1000);
    const stats = server.blockStats();
    expect(stats.peakIncompleteBytes).toBeLessThanOrEqual(limits.bytesTotal);
    expect(stats.evictedTransfers).toBe(1000 - stats.incompleteTransfers);
    // Still serving: a whole block-wise request from a fresh client.
    const client = await CoapEndpoint.bind({ host: '::1', blockSize: 64, transmission: fast });
    const response = await client.request(
      { address: '::1', port: server.address().port },
      { method: Method.PUT, uriPath: ['alive'], payload: Buffer.alloc(500, 0x42) },
    );
    expect(formatCode(response.code)).toBe('2.04');
    expect(handled).toBe(1);
    await client.close();
    await Promise.all(sockets.map((s) => s.close()));
    await server.close();
  });

  it('drops an idle incomplete transfer after its lifetime', async () => {
    const server = await CoapEndpoint.bind({ host: '::1', blockLifetimeMs: 100 });
    const raw = await RawUdp.open(6);
    expect(
      formatCode(
        (await exchange(raw, block1Request(1, { path: ['idle'], query: [] }, 0, true, 0, Buffer.alloc(16)), server.address().port)).code,
      ),
    ).toBe('2.31');
    expect(server.blockStats().incompleteTransfers).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.blockStats()).toMatchObject({ incompleteTransfers: 0, incompleteBytes: 0, expiredTransfers: 1 });
    expect(
      formatCode(
        (await exchange(raw, block1Request(2, { path: ['idle'], query: [] }, 1, false, 0, Buffer.alloc(5)), server.address().port)).code,
      ),
    ).toBe('4.08');
    await raw.close();
    await server.close();
  });
});

describe('Block1 requests we send', () => {
  it('sends ~2 KB in blocks and restarts in the smaller size a 4.13 asks for', async () => {
    const device = await CoapEndpoint.bind({ host: '::1' });
    const seen: IncomingRequest[] = [];
    device.onRequest = (request) => {
      seen.push(request);
      // First whole body: "too large", send it again in 64-byte blocks (RFC 7959 §2.9.3).
      if (seen.length === 1)
        return {
          code: ResponseCode.REQUEST_ENTITY_TOO_LARGE,
          options: [blockOption(OptionNumber.BLOCK1, { num: 0, more: false, szx: 2 })],
        };
      return { code: ResponseCode.CHANGED };
    };
    const client = await CoapEndpoint.bind({ host: '::1', transmission: fast });
    const payload = Buffer.from(Array.from({ length: 2100 }, (_, i) => i & 0xff));
    const response = await client.request(
      { address: '::1', port: device.address().port },
      { method: Method.PUT, uriPath: ['3', '0', '14'], payload },
    );
    expect(formatCode(response.code)).toBe('2.04');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.payload.equals(payload)).toBe(true);
    expect(seen[1]!.uriPath).toEqual(['3', '0', '14']);
    expect(getBlock(response.options, OptionNumber.BLOCK1)).toMatchObject({ szx: 2, num: Math.ceil(2100 / 64) - 1 });
    expect(device.blockStats().completedTransfers).toBe(2);
    await client.close();
    await device.close();
  });

  it('restarts when a device answers the first block with 4.13 and a smaller size', async () => {
    const device = await RawUdp.open(6);
    const client = await CoapEndpoint.bind({ host: '::1', transmission: fast });
    const payload = Buffer.alloc(2000, 0x5a);
    const pending = client.request({ address: '::1', port: device.port }, { method: Method.POST, uriPath: ['dp'], payload });
    const received: Buffer[] = [];
    for (;;) {
      const request = decoded((await device.receive(2000))?.data);
      const block = getBlock(request.options, OptionNumber.BLOCK1);
      if (typeof block !== 'object') throw new Error('no Block1');
      let reply: { code: number; options: CoapOption[] };
      if (block.szx > 2) {
        expect(block.num).toBe(0);
        expect(getUintOption(request.options, OptionNumber.SIZE1)).toBe(2000);
        reply = {
          code: ResponseCode.REQUEST_ENTITY_TOO_LARGE,
          options: [blockOption(OptionNumber.BLOCK1, { num: 0, more: false, szx: 2 })],
        };
      } else {
        expect(block.num).toBe(received.length);
        received.push(request.payload);
        reply = block.more
          ? { code: ResponseCode.CONTINUE, options: [blockOption(OptionNumber.BLOCK1, block)] }
          : { code: ResponseCode.CHANGED, options: [] };
      }
      await device.send(
        encodeMessage({
          type: MessageType.ACK,
          code: reply.code,
          messageId: request.messageId,
          token: request.token,
          options: reply.options,
          payload: Buffer.alloc(0),
        }),
        client.address().port,
      );
      if (!block.more && block.szx === 2) break;
    }
    expect(formatCode((await pending).code)).toBe('2.04');
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    expect(received).toHaveLength(32);
    await client.close();
    await device.close();
  });
});

describe('Block2', () => {
  it('serves a large response in the block size asked for and fetches it whole', async () => {
    const server = await CoapEndpoint.bind({ host: '::1' });
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''));
    let calls = 0;
    server.onRequest = () => {
      calls++;
      return { code: ResponseCode.CONTENT, options: [uintOption(OptionNumber.CONTENT_FORMAT, 0)], payload: body };
    };
    // Early negotiation (§2.4): the client asks for 64-byte blocks.
    const client = await CoapEndpoint.bind({ host: '::1', blockSize: 64, transmission: fast });
    const response = await client.request({ address: '::1', port: server.address().port }, { method: Method.GET, uriPath: ['big'] });
    expect(formatCode(response.code)).toBe('2.05');
    expect(response.payload.equals(body)).toBe(true);
    expect(response.contentFormat).toBe(0);
    expect(getBlock(response.options, OptionNumber.BLOCK2)).toBeUndefined();
    expect(calls).toBe(1); // the later blocks come from the kept body
    expect(client.blockStats().block2Reassembled).toBe(1);
    expect(server.blockStats().servedBodies).toBe(0); // the last block was served: nothing kept

    // Without negotiation the server splits what exceeds its own size (1024).
    const plain = await CoapEndpoint.bind({ host: '::1', transmission: fast });
    expect(
      (await plain.request({ address: '::1', port: server.address().port }, { method: Method.GET, uriPath: ['big'] })).payload.equals(body),
    ).toBe(true);
    await plain.close();
    await client.close();
    await server.close();
  });

  it('answers a block beyond the end with 4.02 and reports a failing block with its number and peer', async () => {
    const raw = await RawUdp.open(6);
    const server = await CoapEndpoint.bind({ host: '::1' });
    server.onRequest = () => ({ code: ResponseCode.CONTENT, payload: Buffer.alloc(100) });
    const request = encodeMessage({
      type: MessageType.CON,
      code: Method.GET,
      messageId: 7,
      token: Buffer.from([7]),
      options: [stringOption(OptionNumber.URI_PATH, 'x'), blockOption(OptionNumber.BLOCK2, { num: 9, more: false, szx: 2 })],
      payload: Buffer.alloc(0),
    });
    expect(formatCode((await exchange(raw, request, server.address().port)).code)).toBe('4.02');
    await server.close();

    // A device that answers block 0 with More and then fails block 1.
    const client = await CoapEndpoint.bind({ host: '::1', transmission: fast });
    const pending = client
      .request({ address: '::1', port: raw.port }, { method: Method.GET, uriPath: ['3', '0'] })
      .catch((e: unknown) => e);
    for (let i = 0; i < 2; i++) {
      const got = decoded((await raw.receive(2000))?.data);
      const reply =
        i === 0
          ? {
              code: ResponseCode.CONTENT,
              options: [blockOption(OptionNumber.BLOCK2, { num: 0, more: true, szx: 2 })],
              payload: Buffer.alloc(64),
            }
          : { code: ResponseCode.NOT_FOUND, options: [], payload: Buffer.from('gone') };
      await raw.send(encodeMessage({ type: MessageType.ACK, messageId: got.messageId, token: got.token, ...reply }), client.address().port);
    }
    const error = await pending;
    expect(error).toBeInstanceOf(CoapBlockError);
    expect((error as Error).message).toMatch(/GET to \[::1\]:\d+: Block2 #1 \(64 B\): answered 4\.04 \(gone\)/);
    await client.close();
    await raw.close();
  });
});
