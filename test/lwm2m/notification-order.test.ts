/**
 * NON notifications are not kept in the CoAP duplicate cache: their copies are dropped by
 * the Observe order (RFC 7641 §3.4), which starts at the response to the Observe request.
 * The device is a bare UDP socket, so that message IDs and Observe numbers are exactly ours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Method, ResponseCode } from '../../src/coap/codes.js';
import { decodeMessage, encodeMessage, MessageType, type CoapMessage } from '../../src/coap/message.js';
import { getUintOption, OptionNumber, stringOption, uintOption } from '../../src/coap/options.js';
import type { Hub } from '../../src/hub.js';
import { restRequest, startTestHub } from '../support/hub.js';
import { RawUdp } from '../support/raw-udp.js';

const TEXT_PLAIN = 0;

let hub: Hub;
let device: RawUdp;
const values: unknown[] = [];

async function next(): Promise<CoapMessage> {
  const datagram = await device.receive(2000);
  if (!datagram) throw new Error('the hub sent nothing');
  const decoded = decodeMessage(datagram.data);
  if (!decoded.ok) throw new Error('the hub sent a malformed datagram');
  return decoded.message;
}

function notification(messageId: number, token: Buffer, sequence: number, value: string): Buffer {
  return encodeMessage({
    type: MessageType.NON,
    code: ResponseCode.CONTENT,
    messageId,
    token,
    options: [uintOption(OptionNumber.OBSERVE, sequence), uintOption(OptionNumber.CONTENT_FORMAT, TEXT_PLAIN)],
    payload: Buffer.from(value),
  });
}

/** Waits until the hub has emitted `value` (datagrams are handled in order, so those before it are done). */
async function untilValue(value: number): Promise<void> {
  for (let i = 0; i < 200 && !values.includes(value); i++) await new Promise((r) => setTimeout(r, 10));
  expect(values).toContain(value);
}

let token: Buffer;

beforeAll(async () => {
  hub = await startTestHub();
  hub.events.on('notification', (e) => values.push(e.node.kind === 'resource' ? e.node.value.value : undefined));
  device = await RawUdp.open(6);
  await device.send(
    encodeMessage({
      type: MessageType.CON,
      code: Method.POST,
      messageId: 1,
      token: Buffer.from([1]),
      options: [
        stringOption(OptionNumber.URI_PATH, 'rd'),
        stringOption(OptionNumber.URI_QUERY, 'ep=ordered'),
        uintOption(OptionNumber.CONTENT_FORMAT, 40),
      ],
      payload: Buffer.from('</3303/0>'),
    }),
    hub.coap.port,
  );
  expect((await next()).code).toBe(ResponseCode.CREATED);

  // The hub observes; the device accepts with Observe 5 and a first value.
  const observed = restRequest(hub, 'POST', '/api/clients/ordered/3303/0/5700/observe');
  const request = await next();
  expect(getUintOption(request.options, OptionNumber.OBSERVE)).toBe(0);
  token = Buffer.from(request.token);
  await device.send(
    encodeMessage({
      type: MessageType.ACK,
      code: ResponseCode.CONTENT,
      messageId: request.messageId,
      token,
      options: [uintOption(OptionNumber.OBSERVE, 5), uintOption(OptionNumber.CONTENT_FORMAT, TEXT_PLAIN)],
      payload: Buffer.from('20.5'),
    }),
    hub.coap.port,
  );
  expect((await observed).status).toBe(200);
  await untilValue(20.5);
});

afterAll(async () => {
  await device?.close();
  await hub?.stop();
});

describe('NON notifications and their copies', () => {
  it('takes each new value once: a repeated datagram, an older Observe number and a late copy of the first response are dropped', async () => {
    const datagrams = [
      notification(0x100, token, 5, '20.5'), // the first response again, as a NON: not newer than itself
      notification(0x101, token, 6, '21.5'),
      notification(0x101, token, 6, '21.5'), // the same datagram twice
      notification(0x102, token, 4, '19.5'), // overtaken
      notification(0x103, token, 7, '22.5'),
    ];
    for (const datagram of datagrams) await device.send(datagram, hub.coap.port);
    await untilValue(22.5);
    expect(values).toEqual([20.5, 21.5, 22.5]);
    // A NON notification is answered with nothing, a copy included.
    expect(await device.receive(100)).toBeUndefined();
  });

  it('still resets a NON notification whose token it does not know, each copy', async () => {
    const stray = notification(0x200, Buffer.from('0badc0de', 'hex'), 9, '1');
    await device.send(stray, hub.coap.port);
    await device.send(stray, hub.coap.port);
    const resets = [await next(), await next()];
    expect(resets.map((m) => [m.type, m.messageId])).toEqual([
      [MessageType.RST, 0x200],
      [MessageType.RST, 0x200],
    ]);
  });
});
