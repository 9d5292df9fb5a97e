/**
 * application/cbor single values. Byte vectors are from RFC 8949 Appendix A where one exists
 * (marked "RFC 8949 A"), the rest hand-assembled from RFC 8949 §3.
 */
import { describe, expect, it } from 'vitest';
import { cborCodec } from '../../src/codecs/cbor/index.js';
import { DecodeError, EncodeError } from '../../src/codecs/codec.js';
import type { Lwm2mNode, Lwm2mValue } from '../../src/model/node.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import type { Lwm2mPath } from '../../src/model/path.js';
import { SINGLE_ID, fromHex, hex, testModel } from './helpers.js';
import { bool, corelnk, float, int, none, objlnk, opaque, res, ri, str, time, uint, unknown } from './nodes.js';

type Typed = keyof typeof SINGLE_ID;
const path = (type: Typed): Lwm2mPath => [1000, 0, SINGLE_ID[type]];
const decodeAs = (type: Typed | undefined, h: string): Lwm2mValue => {
  const p: Lwm2mPath = type ? path(type) : [1000, 0, 200];
  return (cborCodec.decode(fromHex(h), p, type ? testModel : EMPTY_MODEL) as { value: Lwm2mValue }).value;
};
const encodeAs = (type: Typed, value: Lwm2mValue): string => hex(cborCodec.encode(res(SINGLE_ID[type], value), path(type), testModel));

function rejects(type: Typed | undefined, h: string): DecodeError {
  try {
    decodeAs(type, h);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).contentFormat).toBe(60);
    return error as DecodeError;
  }
  return expect.fail(`${h} decoded as ${type}`);
}

describe('CBOR decoding, typed by the model', () => {
  it.each<[Typed, string, Lwm2mValue]>([
    ['integer', '1903E8', int(1000)], // RFC 8949 A
    ['integer', '3903E7', int(-1000)], // RFC 8949 A
    ['integer', '3B7FFFFFFFFFFFFFFF', int(-(2n ** 63n))],
    ['integer', '1B0000000000000005', int(5)], // 8-byte head for a small value: normalised to number
    ['integer', 'C24101', int(1)], // bignum tag 2
    ['integer', 'C34101', int(-2)], // bignum tag 3
    ['unsignedInteger', '1BFFFFFFFFFFFFFFFF', uint(2n ** 64n - 1n)], // RFC 8949 A
    ['float', 'FB3FF199999999999A', float(1.1)], // RFC 8949 A
    ['float', 'F93C00', float(1)], // RFC 8949 A, half precision
    ['float', 'FA47C35000', float(100000)], // RFC 8949 A, single precision
    ['float', '1864', float(100)], // integral value written as an integer
    ['boolean', 'F5', bool(true)], // RFC 8949 A
    ['boolean', 'F4', bool(false)], // RFC 8949 A
    ['string', '6449455446', str('IETF')], // RFC 8949 A
    ['string', '60', str('')], // RFC 8949 A
    ['corelnk', '663C2F332F303E', corelnk('</3/0>')],
    ['opaque', '4401020304', opaque(1, 2, 3, 4)], // RFC 8949 A
    ['opaque', '40', opaque()], // RFC 8949 A
    ['time', 'C11A514B67B0', time(1363896240)], // RFC 8949 A
    ['time', 'C1FB41D452D9EC200000', time(1363896240.5)], // RFC 8949 A
    ['time', '1A5182428F', time(1367491215)],
    ['objlnk', '63333A30', objlnk(3, 0)],
  ])('%s %s', (type, h, expected) => {
    expect(decodeAs(type, h)).toEqual(expected);
  });

  it.each<[Typed, string, RegExp]>([
    ['integer', 'F93C00', /integer cannot hold a CBOR float/],
    ['integer', '1BFFFFFFFFFFFFFFFF', /outside/],
    ['integer', 'C249010000000000000000', /outside/], // RFC 8949 A: 2^64
    ['unsignedInteger', '20', /outside/],
    ['boolean', '01', /boolean cannot hold a CBOR int/],
    ['string', '4161', /string cannot hold a CBOR bytes/],
    ['string', '62C328', /UTF-8/],
    ['opaque', '6161', /opaque cannot hold a CBOR text/],
    ['objlnk', '63333A78', /ObjID:InstID/],
    ['objlnk', '1903E8', /ObjID:InstID/],
    ['time', 'C16161', /tag 1/],
    ['time', 'C1', /tag 1/],
    ['integer', 'C2F5', /bignum tag must hold a byte string/],
    ['integer', 'C0', /tag/],
    ['integer', '820102', /array or map/],
    ['integer', 'A0', /array or map/],
    ['integer', '', /empty payload/],
    ['integer', '0000', /malformed CBOR/], // trailing data
    ['integer', '19', /malformed CBOR/], // truncated
    ['string', '7F6161FF', /malformed CBOR/], // indefinite-length text
    ['opaque', '5AFFFFFFFF00', /malformed CBOR/], // 4 GB byte string in 6 bytes
    ['integer', '1C', /malformed CBOR/], // reserved additional information
    ['integer', 'F0', /simple value/],
  ])('rejects %s %s', (type, h, reason) => {
    expect(rejects(type, h).reason).toMatch(reason);
  });

  it('types the value from CBOR itself when the resource has no definition', () => {
    expect(decodeAs(undefined, '1903E8')).toEqual(int(1000));
    expect(decodeAs(undefined, '1BFFFFFFFFFFFFFFFF')).toEqual(uint(2n ** 64n - 1n));
    expect(decodeAs(undefined, 'F93C00')).toEqual(float(1));
    expect(decodeAs(undefined, 'F5')).toEqual(bool(true));
    expect(decodeAs(undefined, '6449455446')).toEqual(str('IETF'));
    expect(decodeAs(undefined, '4401020304')).toEqual(opaque(1, 2, 3, 4));
    expect(decodeAs(undefined, 'C11A514B67B0')).toEqual(time(1363896240));
    expect(decodeAs(undefined, 'F6')).toEqual(unknown(0xf6));
  });

  it('decodes at a resource instance path, and refuses multi-value paths', () => {
    expect(cborCodec.decode(fromHex('191388'), [3, 0, 7, 1], testModel)).toEqual(ri(1, int(5000)));
    for (const p of [[], [3], [3, 0], [3, 0, 7]] as Lwm2mPath[]) {
      expect(() => cborCodec.decode(fromHex('01'), p, testModel)).toThrow(DecodeError);
    }
  });

  it('decodes an empty payload of an executable resource to none', () => {
    expect(cborCodec.decode(new Uint8Array(0), [1000, 0, 10], testModel)).toEqual(res(10, none));
  });
});

describe('CBOR encoding', () => {
  it.each<[Typed, string, Lwm2mValue]>([
    ['integer', '1903E8', int(1000)],
    ['integer', '3903E7', int(-1000)],
    ['integer', '1B0000010000000000', int(2 ** 40)],
    ['integer', '3B7FFFFFFFFFFFFFFF', int(-(2n ** 63n))],
    ['integer', '3A80000000', int(-(2 ** 31) - 1)],
    ['unsignedInteger', '1BFFFFFFFFFFFFFFFF', uint(2n ** 64n - 1n)],
    ['unsignedInteger', '1AFFFFFFFF', uint(2 ** 32 - 1)],
    ['float', 'FB4008000000000000', float(3)],
    ['float', 'FB3FF199999999999A', float(1.1)],
    ['boolean', 'F5', bool(true)],
    ['string', '6449455446', str('IETF')],
    ['corelnk', '663C2F332F303E', corelnk('</3/0>')],
    ['opaque', '4401020304', opaque(1, 2, 3, 4)],
    ['time', 'C11A514B67B0', time(1363896240)],
    ['time', 'C1FB41D452D9EC200000', time(1363896240.5)],
    ['objlnk', '63333A30', objlnk(3, 0)],
  ])('%s as %s', (type, expected, value) => {
    expect(encodeAs(type, value)).toBe(expected);
  });

  it('returns bytes that later encodes do not overwrite', () => {
    const first = cborCodec.encode(res(1, str('first')), path('string'), testModel);
    cborCodec.encode(res(1, str('other')), path('string'), testModel);
    expect(hex(first)).toBe('656669727374');
  });

  it('writes unknown bytes back verbatim and none as nothing', () => {
    expect(hex(cborCodec.encode(res(200, unknown(0xf6)), [1000, 0, 200], EMPTY_MODEL))).toBe('F6');
    expect(cborCodec.encode(res(10, none), [1000, 0, 10], testModel)).toEqual(new Uint8Array(0));
  });

  it('refuses values CBOR cannot carry for their type, and multi-value nodes', () => {
    const attempts: [Lwm2mNode, Lwm2mPath][] = [
      [res(2, int(2n ** 63n)), [1000, 0, 2]],
      [res(2, int(0.5)), [1000, 0, 2]],
      [res(3, uint(-1)), [1000, 0, 3]],
      [res(7, time(NaN)), [1000, 0, 7]],
      [res(8, objlnk(0, 65536)), [1000, 0, 8]],
      [res(1, str('\uD800')), [1000, 0, 1]],
      [{ kind: 'multipleResource', id: 302, instances: [] }, [1000, 0, 302]],
      [res(2, int(1)), [1000, 0]],
    ];
    for (const [node, p] of attempts) expect(() => cborCodec.encode(node, p, testModel)).toThrow(EncodeError);
  });
});
