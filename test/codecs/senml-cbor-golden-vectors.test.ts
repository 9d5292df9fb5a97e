import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { senmlCborCodec } from '../../src/codecs/senml-cbor/index.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { fixture, hex, toHex } from './senml-family/fixtures.js';
import {
  bytes,
  DEVICE_INSTANCE,
  float,
  inst,
  int,
  multi,
  obj,
  objlnk,
  res,
  ri,
  str,
  uint,
} from './senml-family/nodes.js';
import { testModel } from './senml-family/test-model.js';

const codec = senmlCborCodec;
const vector = (name: string): Uint8Array => fixture('senml-cbor', name).bytes;

describe('SenML CBOR golden vectors', () => {
  it('decodes the TS Core 1.1 Device instance example (Table 7.4.4-2) into typed resources', () => {
    expect(codec.decode(vector('device-instance'), [3, 0], testModel)).toEqual(DEVICE_INSTANCE);
  });

  it('encodes the Device instance byte for byte as in Table 7.4.4-2', () => {
    expect(toHex(codec.encode(DEVICE_INSTANCE, [3, 0], testModel))).toBe(toHex(vector('device-instance')));
  });

  it('decodes and re-encodes the single resource example (Table 7.4.4-5)', () => {
    const node = codec.decode(vector('single-resource'), [3, 0, 0], testModel);
    expect(node).toEqual(res(0, str('Open Mobile Alliance')));
    expect(toHex(codec.encode(node, [3, 0, 0], testModel))).toBe(toHex(vector('single-resource')));
  });

  it('decodes and re-encodes opaque as a byte string under label 8 (Leshan vector)', () => {
    const node = codec.decode(vector('opaque'), [0, 0, 3], testModel);
    expect(node).toEqual(res(3, bytes(0xab, 0xcd, 0xef)));
    expect(toHex(codec.encode(node, [0, 0, 3], testModel))).toBe(toHex(vector('opaque')));
  });

  it('decodes and re-encodes empty text and empty byte strings (Wakaama)', () => {
    const empty = codec.decode(vector('empty-string'), [34, 0, 2], EMPTY_MODEL);
    expect(empty).toEqual(res(2, str('')));
    expect(toHex(codec.encode(empty, [34, 0, 2], EMPTY_MODEL))).toBe(toHex(vector('empty-string')));
    const opaque = codec.decode(vector('empty-opaque'), [34, 0, 2], EMPTY_MODEL);
    expect(opaque).toEqual(res(2, bytes()));
    expect(toHex(codec.encode(opaque, [34, 0, 2], EMPTY_MODEL))).toBe(toHex(vector('empty-opaque')));
  });

  it('adds the base value to the value (RFC 8428 §4.6, Wakaama vector)', () => {
    expect(codec.decode(vector('base-value'), [34, 0, 2], EMPTY_MODEL)).toEqual(res(2, int(2)));
  });

  it('ignores an unknown label but refuses an unknown must-understand label and a newer version (RFC 8428 §4.4)', () => {
    expect(codec.decode(vector('unknown-label-ignored'), [34, 0, 2], EMPTY_MODEL)).toEqual(res(2, int(1)));
    expect(() => codec.decode(vector('must-understand-label'), [34, 0, 2], EMPTY_MODEL)).toThrow(DecodeError);
    expect(() => codec.decode(vector('unsupported-version'), [34, 0, 2], EMPTY_MODEL)).toThrow(/version 11/);
  });

  it('writes the base name relative to the request depth (Wakaama senml_cbor_test_24)', () => {
    const leaf = ri(0, int(0));
    const resource = multi(1, [[0, int(0)]]);
    const instance = inst(0, [resource]);
    // [{-2: "/4/", 0: "0/1/0", 2: 0}], [{-2: "/4/0/", 0: "1/0", 2: 0}], [{-2: "/4/0/1/", 0: "0", 2: 0}], [{-2: "/4/0/1/0", 2: 0}]
    expect(toHex(codec.encode(obj(4, [instance]), [4], EMPTY_MODEL))).toBe('81a321632f342f0065302f312f300200');
    expect(toHex(codec.encode(instance, [4, 0], EMPTY_MODEL))).toBe('81a321652f342f302f0063312f300200');
    expect(toHex(codec.encode(resource, [4, 0, 1], EMPTY_MODEL))).toBe('81a321672f342f302f312f0061300200');
    expect(toHex(codec.encode(leaf, [4, 0, 1, 0], EMPTY_MODEL))).toBe('81a221682f342f302f312f300200');
  });

  it('writes integers in their shortest CBOR form up to 64 bits and floats as doubles', () => {
    const node = inst(0, [
      res(1, int(4294967295)),
      res(2, int(7000000000)),
      res(3, int(-7000000000)),
      res(4, int(2n ** 63n - 1n)),
      res(5, uint(2n ** 64n - 1n)),
      res(6, float(3.14)),
      res(7, float(-4e38)),
    ]);
    // [{-2: "/12/0/", 0: "1", 2: 4294967295}, {0: "2", 2: 7000000000}, …, {0: "7", 2: -4.0e38}]
    expect(toHex(codec.encode(node, [12, 0], EMPTY_MODEL))).toBe(
      '87' +
        'a321662f31322f302f' +
        '006131021affffffff' +
        'a2006132021b00000001a13b8600' +
        'a2006133023b00000001a13b85ff' +
        'a2006134021b7fffffffffffffff' +
        'a2006135021bffffffffffffffff' +
        'a200613602fb40091eb851eb851f' +
        'a200613702fbc7f2ced32a16a1b1',
    );
  });

  it('decodes 64-bit integers exactly: bigint beyond 2^53, unsigned beyond 2^63 without a model', () => {
    const node = codec.decode(
      hex('82a321662f31322f302f006131021b0020000000000001a2006132021bffffffffffffffff'),
      [12, 0],
      EMPTY_MODEL,
    );
    expect(node).toEqual(inst(0, [res(1, int(2n ** 53n + 1n)), res(2, uint(2n ** 64n - 1n))]));
  });

  it('decodes a vlo object link under its text key, typed objlnk even where the model says string', () => {
    // [{-2: "/66/1/", 0: "2", "vlo": "65535:65535"}, {0: "0", "vlo": "67:0"}]
    const links = hex('82' + 'a321662f36362f312f00613263766c6f6b36353533353a3635353335' + 'a200613063766c6f6436373a30');
    expect(codec.decode(links, [66, 1], testModel)).toEqual(
      inst(1, [res(2, objlnk(65535, 65535)), res(0, objlnk(67, 0))]),
    );
    expect(toHex(codec.encode(inst(1, [res(2, objlnk(65535, 65535))]), [66, 1], testModel))).toBe(
      '81a321662f36362f312f00613263766c6f6b36353533353a3635353335',
    );
  });

  it('refuses records of other objects than the one asked for (Table 7.4.4-4 spans 65, 66 and 67)', () => {
    expect(() => codec.decode(vector('objlnk-composite-root'), [66], testModel)).toThrow(/outside the requested/);
  });

  it('refuses what it cannot write', () => {
    expect(() => codec.encode(res(1, { type: 'unknown', value: new Uint8Array() }), [9999, 0, 1], testModel)).toThrow(
      EncodeError,
    );
    expect(() => codec.encode(res(1, int(1.5)), [9999, 0, 1], testModel)).toThrow(EncodeError);
  });
});
