/** A device that answers badly: broken TLV, a content format it did not announce, tokens we never sent. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Method, ResponseCode } from '../../src/coap/codes.js';
import { CoapEndpoint } from '../../src/coap/endpoint.js';
import { encodeMessage, MessageType } from '../../src/coap/message.js';
import { OptionNumber, stringOption, uintOption } from '../../src/coap/options.js';
import type { Hub } from '../../src/hub.js';
import { httpUrl, startTestHub } from '../support/hub.js';
import { RawUdp } from '../support/raw-udp.js';

let hub: Hub;
let device: CoapEndpoint;

beforeAll(async () => {
  hub = await startTestHub({ coapAckTimeout: 0.1, coapAckRandomFactor: 1, coapMaxRetransmit: 1 });
  device = await CoapEndpoint.bind({ host: '::1' });
  device.onRequest = (request) => {
    const path = '/' + request.uriPath.join('/');
    if (path === '/3/0') return { code: ResponseCode.CONTENT, options: [uintOption(OptionNumber.CONTENT_FORMAT, 11542)], payload: Buffer.from('c800ffffffff', 'hex') };
    if (path === '/3/0/1') return { code: ResponseCode.CONTENT, options: [uintOption(OptionNumber.CONTENT_FORMAT, 50)], payload: Buffer.from('{"x":1}') };
    if (path === '/3/0/2') return { code: ResponseCode.CONTENT, options: [uintOption(OptionNumber.CONTENT_FORMAT, 112)], payload: Buffer.from('not cbor at all') };
    return { code: ResponseCode.NOT_FOUND };
  };
  const response = await device.request({ address: '::1', port: hub.coap.port }, { method: Method.POST, uriPath: ['rd'], uriQuery: ['ep=broken-device'], payload: Buffer.from('</3/0>') });
  expect(response.code).toBe(ResponseCode.CREATED);
});
afterAll(async () => {
  await device.close();
  await hub.stop();
});

async function read(path: string) {
  const response = await fetch(httpUrl(hub, `/api/clients/broken-device${path}`));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('malformed device answers', () => {
  it('reports a broken TLV as 502 decode_error with the raw bytes', async () => {
    const { status, body } = await read('/3/0');
    expect(status).toBe(502);
    expect(body).toMatchObject({ code: 'decode_error', raw: 'c800ffffffff', contentFormat: 11542 });
  });

  it('reports a content format we cannot decode, and SenML CBOR that is not CBOR', async () => {
    expect((await read('/3/0/1')).body).toMatchObject({ code: 'decode_error', contentFormat: 50 });
    expect((await read('/3/0/2')).body).toMatchObject({ code: 'decode_error', contentFormat: 112 });
  });

  it('resets a response with a token it never sent and keeps serving', async () => {
    const raw = await RawUdp.open(6);
    const stray = encodeMessage({
      type: MessageType.CON,
      code: ResponseCode.CONTENT,
      messageId: 0x1111,
      token: Buffer.from('deadbeefdeadbeef', 'hex'),
      options: [uintOption(OptionNumber.OBSERVE, 5), stringOption(OptionNumber.CONTENT_FORMAT, '')],
      payload: Buffer.from('21.5'),
    });
    await raw.send(stray, hub.coap.port);
    const reply = await raw.receive();
    expect(reply?.data.subarray(0, 4).toString('hex')).toBe('70001111'); // RST, same message id
    await raw.close();
    expect((await fetch(httpUrl(hub, '/healthz'))).status).toBe(200);
    expect((await read('/3/0')).status).toBe(502);
  });
});
