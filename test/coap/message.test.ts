import { describe, expect, it } from 'vitest';
import { Method, ResponseCode } from '../../src/coap/codes.js';
import { decodeMessage, encodeMessage, MessageType, type CoapMessage } from '../../src/coap/message.js';
import { decodeUint, encodeUint, OptionNumber, stringOption, uintOption } from '../../src/coap/options.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('CoAP message codec (RFC 7252 §3)', () => {
  // Golden vector written by hand from RFC 7252 §3.1 (delta/length nibbles) for the request that
  // `coap-client -m post -t 40 -e "</1/0>" "coap://[::1]/rd?ep=node1&lt=60"` sends (message id 0x1234, token 0x01).
  const register: CoapMessage = {
    type: MessageType.CON,
    code: Method.POST,
    messageId: 0x1234,
    token: hex('01'),
    options: [
      stringOption(OptionNumber.URI_PATH, 'rd'),
      uintOption(OptionNumber.CONTENT_FORMAT, 40),
      stringOption(OptionNumber.URI_QUERY, 'ep=node1'),
      stringOption(OptionNumber.URI_QUERY, 'lt=60'),
    ],
    payload: Buffer.from('</1/0>'),
  };
  const registerBytes = hex(`
    41 02 12 34  01
    b2 72 64                    -- Uri-Path (11) "rd"
    11 28                       -- Content-Format (12, delta 1) 40
    38 65 70 3d 6e 6f 64 65 31  -- Uri-Query (15, delta 3) "ep=node1"
    05 6c 74 3d 36 30           -- Uri-Query (delta 0) "lt=60"
    ff 3c 2f 31 2f 30 3e        -- payload
  `.replace(/--[^\n]*/g, ''));

  it('encodes a registration request to the golden bytes', () => {
    expect(encodeMessage(register).toString('hex')).toBe(registerBytes.toString('hex'));
  });

  it('decodes the golden bytes back, keeping repeated options in order', () => {
    const decoded = decodeMessage(registerBytes);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(decoded.message).toEqual(register);
  });

  it('encodes a piggybacked 2.01 with two Location-Path options', () => {
    const bytes = encodeMessage({
      type: MessageType.ACK,
      code: ResponseCode.CREATED,
      messageId: 0xbeef,
      token: hex('0a0b'),
      options: [stringOption(OptionNumber.LOCATION_PATH, 'rd'), stringOption(OptionNumber.LOCATION_PATH, 'ab12')],
      payload: Buffer.alloc(0),
    });
    expect(bytes.toString('hex')).toBe('6241beef0a0b' + '82' + '7264' + '04' + '61623132');
  });

  it('puts options given out of order in order on the wire, repeated ones in the order given', () => {
    const shuffled = { ...register, options: [register.options[2]!, register.options[0]!, register.options[3]!, register.options[1]!] };
    expect(encodeMessage(shuffled).toString('hex')).toBe(registerBytes.toString('hex'));
  });

  it('uses the 1- and 2-byte extended forms for large option deltas and lengths', () => {
    const long = 'x'.repeat(300);
    const message: CoapMessage = {
      type: MessageType.NON,
      code: Method.GET,
      messageId: 1,
      token: Buffer.alloc(0),
      options: [stringOption(OptionNumber.URI_PATH, 'a'.repeat(20)), { number: OptionNumber.NO_RESPONSE, value: encodeUint(26) }, stringOption(2000, long)],
      payload: Buffer.alloc(0),
    };
    const bytes = encodeMessage(message);
    expect(bytes.subarray(4, 6).toString('hex')).toBe('bd07'); // delta 11, length 13+7
    const decoded = decodeMessage(bytes);
    expect(decoded.ok && decoded.message).toEqual(message);
  });

  it('encodes uint option values without leading zeros', () => {
    expect(encodeUint(0).length).toBe(0);
    expect(encodeUint(11542).toString('hex')).toBe('2d16');
    expect(decodeUint(hex('2d16'))).toBe(11542);
  });

  const malformed: [string, Buffer, 'drop' | 'reject'][] = [
    ['an empty datagram', hex(''), 'drop'],
    ['a 3-byte datagram', hex('400100'), 'drop'],
    ['version 2', hex('80010001'), 'drop'],
    ['a reserved token length', hex('49010001' + '00'.repeat(9)), 'drop'],
    ['a truncated token', hex('44010001aabb'), 'drop'],
    ['a payload marker with no payload', hex('40010001ff'), 'reject'],
    ['option delta 15', hex('40010001f1'), 'reject'],
    ['an option running past the end', hex('40010001b5726400'), 'reject'],
    ['a truncated extended length', hex('400100010d'), 'reject'],
    ['an empty message with a token', hex('41000001aa'), 'reject'],
  ];
  for (const [name, bytes, verdict] of malformed) {
    it(`${verdict === 'drop' ? 'drops' : 'rejects'} ${name}`, () => {
      const decoded = decodeMessage(bytes);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.header === undefined ? 'drop' : 'reject').toBe(verdict);
    });
  }
});
