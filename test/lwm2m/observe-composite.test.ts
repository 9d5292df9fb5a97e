/** LwM2M 1.1 Observe-Composite against a device written here with our CoAP endpoint (the simulator does not observe composites). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Method, ResponseCode } from '../../src/coap/codes.js';
import { CoapEndpoint, type IncomingRequest } from '../../src/coap/endpoint.js';
import { getUintOption, OptionNumber, uintOption } from '../../src/coap/options.js';
import { ContentFormat } from '../../src/codecs/codec.js';
import { decodeSenmlRecords, encodeSenmlRecords } from '../../src/codecs/senml/records.js';
import type { Hub } from '../../src/hub.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { httpUrl, startTestHub } from '../support/hub.js';
import { SseClient } from '../support/sse.js';

let hub: Hub;
let device: CoapEndpoint;
let observer: IncomingRequest | undefined;
let sequence = 10;

const pack = (battery: number, temperature: number) =>
  Buffer.from(
    encodeSenmlRecords(
      [
        { path: [3, 0, 9], value: { type: 'integer', value: battery } },
        { path: [3303, 0, 5700], value: { type: 'float', value: temperature } },
      ],
      ContentFormat.SENML_CBOR,
    ),
  );

beforeAll(async () => {
  hub = await startTestHub();
  device = await CoapEndpoint.bind({ host: '::1' });
  device.onRequest = (request) => {
    const observe = getUintOption(request.options, OptionNumber.OBSERVE);
    if (request.method === Method.FETCH && observe === 0) {
      const asked = decodeSenmlRecords(request.payload, ContentFormat.SENML_CBOR, EMPTY_MODEL).map((r) => '/' + r.path.join('/'));
      if (asked.join(',') !== '/3/0/9,/3303/0/5700') return { code: ResponseCode.BAD_REQUEST };
      observer = request;
      return { code: ResponseCode.CONTENT, options: [uintOption(OptionNumber.OBSERVE, sequence), uintOption(OptionNumber.CONTENT_FORMAT, 112)], payload: pack(95, 21.5) };
    }
    if (request.method === Method.FETCH && observe === 1) {
      observer = undefined;
      return { code: ResponseCode.CONTENT, options: [uintOption(OptionNumber.CONTENT_FORMAT, 112)], payload: pack(95, 21.5) };
    }
    return { code: ResponseCode.NOT_FOUND };
  };
  await device.request({ address: '::1', port: hub.coap.port }, { method: Method.POST, uriPath: ['rd'], uriQuery: ['ep=composite-device', 'lwm2m=1.1'], payload: Buffer.from('</3/0>,</3303/0>') });
});
afterAll(async () => {
  await device.close();
  await hub.stop();
});

describe('Observe-Composite', () => {
  it('streams every value of each composite notification, and cancels by id', async () => {
    const stream = await SseClient.open(httpUrl(hub, '/api/events'));
    const response = await fetch(httpUrl(hub, '/api/clients/composite-device/composite/observe'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['/3/0/9', '/3303/0/5700'] }),
    });
    expect(response.status).toBe(200);
    const { observationId } = (await response.json()) as { observationId: string };
    expect(observer).toBeDefined();

    sequence++;
    const outcome = await device.notify({ address: '::1', port: hub.coap.port }, {
      token: observer!.token,
      code: ResponseCode.CONTENT,
      options: [uintOption(OptionNumber.OBSERVE, sequence), uintOption(OptionNumber.CONTENT_FORMAT, 112)],
      payload: pack(90, 22.75),
      confirmable: true,
    });
    expect(outcome).toBe('acknowledged');
    const values = (await stream.waitFor((e) => e.event === 'notification', 4)).map((e) => [e.data['path'], (e.data['content'] as { value: unknown }).value]);
    expect(values).toEqual([
      ['/3/0/9', 95],
      ['/3303/0/5700', 21.5],
      ['/3/0/9', 90],
      ['/3303/0/5700', 22.75],
    ]);

    const cancelled = await fetch(httpUrl(hub, `/api/clients/composite-device/observations/${observationId}`), { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(observer).toBeUndefined();
    await stream.close();
  });
});
