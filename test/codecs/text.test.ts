import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { textCodec } from '../../src/codecs/text/index.js';
import type { Lwm2mNode, Lwm2mValue } from '../../src/model/node.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import type { Lwm2mPath } from '../../src/model/path.js';
import { MULTIPLE_ID, SINGLE_ID, testModel } from './helpers.js';
import { bool, corelnk, float, int, none, objlnk, opaque, res, ri, str, time, uint, unknown } from './nodes.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const path = (type: keyof typeof SINGLE_ID): Lwm2mPath => [1000, 0, SINGLE_ID[type]];
const decodeAs = (type: keyof typeof SINGLE_ID, payload: string): Lwm2mValue =>
  (textCodec.decode(utf8(payload), path(type), testModel) as { value: Lwm2mValue }).value;
const encodeAs = (type: keyof typeof SINGLE_ID, value: Lwm2mValue): string =>
  text(textCodec.encode(res(SINGLE_ID[type], value), path(type), testModel));

function rejects(type: keyof typeof SINGLE_ID, payload: string | Uint8Array): DecodeError {
  try {
    textCodec.decode(typeof payload === 'string' ? utf8(payload) : payload, path(type), testModel);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).contentFormat).toBe(0);
    return error as DecodeError;
  }
  return expect.fail(`"${String(payload)}" decoded as ${type}`);
}

describe('text/plain decoding, typed by the model', () => {
  it.each<[keyof typeof SINGLE_ID, string, Lwm2mValue]>([
    ['string', 'Open Mobile Alliance', str('Open Mobile Alliance')],
    ['string', '', str('')],
    ['integer', '-42', int(-42)],
    ['integer', '+7', int(7)],
    ['integer', '9223372036854775807', int(2n ** 63n - 1n)],
    ['integer', '-9223372036854775808', int(-(2n ** 63n))],
    ['unsignedInteger', '18446744073709551615', uint(2n ** 64n - 1n)],
    ['float', '3.14', float(3.14)],
    ['float', '-1.5e3', float(-1500)],
    ['float', '42', float(42)],
    ['float', '.5', float(0.5)],
    ['boolean', '1', bool(true)],
    ['boolean', '0', bool(false)],
    ['time', '1367491215', time(1367491215)],
    ['objlnk', '3:0', objlnk(3, 0)],
    ['objlnk', '65535:65535', objlnk(65535, 65535)],
    ['corelnk', '</3/0>,</1/0>', corelnk('</3/0>,</1/0>')],
    ['opaque', 'AQID', opaque(1, 2, 3)],
    ['opaque', 'AQ==', opaque(1)],
    ['opaque', 'AQ', opaque(1)],
    ['opaque', '', opaque()],
  ])('%s "%s"', (type, payload, expected) => {
    expect(decodeAs(type, payload)).toEqual(expected);
  });

  it.each<[keyof typeof SINGLE_ID, string, RegExp]>([
    ['integer', '1.0', /not a decimal integer/],
    ['integer', ' 1', /not a decimal integer/],
    ['integer', '9223372036854775808', /outside/],
    ['integer', '1'.repeat(100), /not a decimal integer/],
    ['unsignedInteger', '-1', /not a decimal unsignedInteger/],
    ['unsignedInteger', '18446744073709551616', /outside/],
    ['float', 'NaN', /not a finite decimal/],
    ['float', '1e999', /not a finite decimal/],
    ['float', '0x10', /not a finite decimal/],
    ['float', '', /not a finite decimal/],
    ['boolean', 'true', /"0" or "1"/],
    ['time', '12.5', /not a decimal time/],
    ['time', '9007199254740993', /beyond the safe integer range/],
    ['objlnk', '3:70000', /ObjID:InstID/],
    ['objlnk', '3', /ObjID:InstID/],
    ['opaque', 'A', /not base64/],
    ['opaque', 'AQ=', /not base64/],
    ['opaque', 'A*==', /not base64/],
  ])('rejects %s "%s"', (type, payload, reason) => {
    expect(rejects(type, payload).reason).toMatch(reason);
  });

  it('rejects text that is not UTF-8', () => {
    expect(rejects('string', Uint8Array.of(0x61, 0xff)).reason).toMatch(/UTF-8/);
  });

  it('keeps the raw bytes as unknown when the resource has no definition', () => {
    const bytes = Uint8Array.of(0x31, 0x32, 0xff);
    expect(textCodec.decode(bytes, [3, 0, 9], EMPTY_MODEL)).toEqual(res(9, unknown(0x31, 0x32, 0xff)));
  });

  it('decodes a resource instance path to a resource instance', () => {
    expect(textCodec.decode(utf8('5000'), [3, 0, 7, 1], testModel)).toEqual(ri(1, int(5000)));
  });

  it('rejects object, instance and multiple-resource paths: text carries one value', () => {
    for (const p of [[], [3], [3, 0], [3, 0, 7]] as Lwm2mPath[]) {
      expect(() => textCodec.decode(utf8('1'), p, testModel)).toThrow(DecodeError);
    }
  });

  it('decodes an empty payload of an executable resource to none', () => {
    expect(textCodec.decode(new Uint8Array(0), [1000, 0, 10], testModel)).toEqual(res(10, none));
  });
});

describe('text/plain encoding', () => {
  it.each<[keyof typeof SINGLE_ID, string, Lwm2mValue]>([
    ['string', 'héllo', str('héllo')],
    ['integer', '-42', int(-42)],
    ['integer', '9223372036854775807', int(2n ** 63n - 1n)],
    ['unsignedInteger', '18446744073709551615', uint(2n ** 64n - 1n)],
    ['float', '3.14', float(3.14)],
    ['float', '5', float(5)],
    ['float', '-0.0', float(-0)],
    ['float', '1e+21', float(1e21)],
    ['boolean', '1', bool(true)],
    ['boolean', '0', bool(false)],
    ['time', '1367491215', time(1367491215)],
    ['objlnk', '3:0', objlnk(3, 0)],
    ['corelnk', '</3/0>', corelnk('</3/0>')],
    ['opaque', 'AQIDBA==', opaque(1, 2, 3, 4)],
  ])('%s as "%s"', (type, expected, value) => {
    expect(encodeAs(type, value)).toBe(expected);
  });

  it('writes unknown bytes back verbatim and none as nothing', () => {
    expect(textCodec.encode(res(9, unknown(0x31, 0xff)), [3, 0, 9], EMPTY_MODEL)).toEqual(Uint8Array.of(0x31, 0xff));
    expect(textCodec.encode(res(10, none), [1000, 0, 10], testModel)).toEqual(new Uint8Array(0));
  });

  it('refuses values text cannot carry', () => {
    const attempts: [Lwm2mNode, Lwm2mPath][] = [
      [res(4, float(NaN)), [1000, 0, 4]],
      [res(4, float(Infinity)), [1000, 0, 4]],
      [res(2, int(2n ** 63n)), [1000, 0, 2]],
      [res(3, uint(-1)), [1000, 0, 3]],
      [res(7, time(0.5)), [1000, 0, 7]],
      [res(8, objlnk(-1, 0)), [1000, 0, 8]],
      [res(1, str('\uDC00')), [1000, 0, 1]],
    ];
    for (const [node, p] of attempts) expect(() => textCodec.encode(node, p, testModel)).toThrow(EncodeError);
  });

  it('refuses a multiple resource and nodes that do not match the path', () => {
    const m: Lwm2mNode = { kind: 'multipleResource', id: MULTIPLE_ID.integer, instances: [] };
    expect(() => textCodec.encode(m, [1000, 0, MULTIPLE_ID.integer], testModel)).toThrow(/multi-value format/);
    expect(() => textCodec.encode(res(2, int(1)), [1000, 0, 3], testModel)).toThrow(EncodeError);
    expect(() => textCodec.encode(res(2, int(1)), [1000, 0], testModel)).toThrow(EncodeError);
  });
});
