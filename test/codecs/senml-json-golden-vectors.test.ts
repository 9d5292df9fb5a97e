import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { senmlJsonCodec } from '../../src/codecs/senml-json/index.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { fixture, text, utf8 } from './senml-family/fixtures.js';
import {
  bool,
  bytes,
  corelnk,
  DEVICE_INSTANCE,
  float,
  inst,
  int,
  multi,
  none,
  obj,
  objlnk,
  res,
  ri,
  str,
  time,
  uint,
} from './senml-family/nodes.js';
import { testModel } from './senml-family/test-model.js';

const codec = senmlJsonCodec;
/** The fixtures are pretty-printed one record per line; the encoder writes them compact. */
const compact = (name: string): string => utf8(fixture('senml-json', name).bytes).replace(/\n\s*/g, '');

describe('SenML JSON golden vectors', () => {
  it('decodes the TS Core 1.1 Device instance example (Table 7.4.4-2) into typed resources', () => {
    expect(codec.decode(fixture('senml-json', 'device-instance').bytes, [3, 0], testModel)).toEqual(DEVICE_INSTANCE);
  });

  it('encodes the Device instance byte for byte as the specification and Leshan write it', () => {
    expect(utf8(codec.encode(DEVICE_INSTANCE, [3, 0], testModel))).toBe(compact('device-instance'));
  });

  it('types the Device instance from the payload alone without a model, telling multiple resources by their paths', () => {
    const node = codec.decode(fixture('senml-json', 'device-instance').bytes, [3, 0], EMPTY_MODEL);
    expect(node).toMatchObject({
      kind: 'instance',
      resources: expect.arrayContaining([
        res(13, int(1367491215)),
        multi(11, [[0, int(0)]]),
        res(0, str('Open Mobile Alliance')),
      ]),
    });
  });

  it('decodes the Device instance at the object path as an object with that instance', () => {
    expect(codec.decode(fixture('senml-json', 'device-instance').bytes, [3], testModel)).toEqual(
      obj(3, [DEVICE_INSTANCE]),
    );
  });

  it('decodes and re-encodes the single resource example (Table 7.4.4-5)', () => {
    const node = codec.decode(fixture('senml-json', 'single-resource').bytes, [3, 0, 0], testModel);
    expect(node).toEqual(res(0, str('Open Mobile Alliance')));
    expect(utf8(codec.encode(node, [3, 0, 0], testModel))).toBe(compact('single-resource'));
  });

  it('decodes and re-encodes a multiple resource with a base name ending in "/" (Leshan)', () => {
    const node = codec.decode(fixture('senml-json', 'multiple-resource').bytes, [3, 0, 7], testModel);
    expect(node).toEqual(
      multi(7, [
        [0, int(3800)],
        [1, int(5000)],
      ]),
    );
    expect(utf8(codec.encode(node, [3, 0, 7], testModel))).toBe(compact('multiple-resource'));
  });

  it('decodes one resource instance of a multiple resource', () => {
    expect(codec.decode(text('[{"bn":"/3/0/7/1","v":5000}]'), [3, 0, 7, 1], testModel)).toEqual(ri(1, int(5000)));
  });

  it('decodes and re-encodes opaque values as unpadded base64url (RFC 8428 §5, Leshan vector)', () => {
    const node = codec.decode(fixture('senml-json', 'opaque').bytes, [0, 0, 3], testModel);
    expect(node).toEqual(res(3, bytes(0xab, 0xcd, 0xef)));
    expect(utf8(codec.encode(node, [0, 0, 3], testModel))).toBe(compact('opaque'));
    expect(utf8(codec.encode(res(3, bytes(1, 2, 3, 255)), [0, 0, 3], testModel))).toBe(
      '[{"bn":"/0/0/3","vd":"AQID_w"}]',
    );
  });

  it('accepts padded and standard-alphabet base64 in vd', () => {
    const padded = text('[{"bn":"/0/0/3","vd":"AQID/w=="}]');
    const url = text('[{"bn":"/0/0/3","vd":"AQID_w"}]');
    expect(codec.decode(padded, [0, 0, 3], testModel)).toEqual(res(3, bytes(1, 2, 3, 255)));
    expect(codec.decode(url, [0, 0, 3], testModel)).toEqual(res(3, bytes(1, 2, 3, 255)));
  });

  it('decodes every data type, 64-bit and negative integers, integral floats, empty values and two instances', () => {
    const node = codec.decode(fixture('senml-json', 'test-object-all-types').bytes, [9999], testModel);
    expect(node).toEqual(
      obj(9999, [
        inst(0, [
          res(0, str('')),
          res(1, int(-(2n ** 63n))),
          res(2, uint(2n ** 64n - 1n)),
          res(3, float(21)),
          res(4, bool(true)),
          res(5, bytes(1, 2, 3, 255)),
          res(6, time(1700000000)),
          res(7, objlnk(3, 0)),
          res(8, corelnk('</3/0>;ct=110')),
          res(9, none),
          multi(11, [
            [0, int(-1)],
            [7, int(9007199254740993n)],
          ]),
        ]),
        inst(1, [res(3, float(-0.5)), res(5, bytes())]),
      ]),
    );
  });

  it('without a model keeps integral numbers as integers, 64-bit ones exact, and the rest as floats', () => {
    const node = codec.decode(fixture('senml-json', 'test-object-all-types').bytes, [9999], EMPTY_MODEL);
    expect(node).toMatchObject({
      instances: [
        {
          resources: [
            res(0, str('')),
            res(1, int(-(2n ** 63n))),
            res(2, uint(2n ** 64n - 1n)),
            res(3, int(21)),
            res(4, bool(true)),
            res(5, bytes(1, 2, 3, 255)),
            res(6, int(1700000000)),
            res(7, objlnk(3, 0)),
            res(8, str('</3/0>;ct=110')),
            res(9, none),
            multi(11, [
              [0, int(-1)],
              [7, int(9007199254740993n)],
            ]),
          ],
        },
        inst(1, [res(3, float(-0.5)), res(5, bytes())]),
      ],
    });
  });

  it('concatenates base name and name literally (Wakaama: bn "/2/3" + n "/0")', () => {
    expect(codec.decode(text('[{"bn" : "/2/3",\n "n":"/0","v":1234}]'), [2, 3], EMPTY_MODEL)).toEqual(
      inst(3, [res(0, int(1234))]),
    );
  });

  it('writes floats with a fraction and keeps 64-bit integers exact', () => {
    const node = inst(0, [
      res(3, float(23)),
      res(1, int(2n ** 63n - 1n)),
      res(2, uint(2n ** 64n - 1n)),
      res(6, time(-5)),
    ]);
    expect(utf8(codec.encode(node, [9999, 0], testModel))).toBe(
      '[{"bn":"/9999/0/","n":"3","v":23.0},{"n":"1","v":9223372036854775807},{"n":"2","v":18446744073709551615},{"n":"6","v":-5}]',
    );
  });

  it('writes an empty container as an empty pack and reads it back', () => {
    expect(utf8(codec.encode(inst(4, []), [9999, 4], testModel))).toBe('[]');
    expect(codec.decode(text('[]'), [9999, 4], testModel)).toEqual(inst(4, []));
    expect(codec.decode(new Uint8Array(0), [9999], testModel)).toEqual(obj(9999, []));
    expect(codec.decode(text('[]'), [3, 0, 7], testModel)).toEqual(multi(7, []));
  });

  it('refuses a time series for a single node (Table 7.4.4-3 repeats one path)', () => {
    expect(() => codec.decode(fixture('senml-json', 'historical-72').bytes, [72], EMPTY_MODEL)).toThrow(DecodeError);
  });

  it('refuses records outside the requested path', () => {
    expect(() => codec.decode(fixture('senml-json', 'device-instance').bytes, [3, 0, 7], testModel)).toThrow(
      /outside the requested/,
    );
    expect(() => codec.decode(fixture('senml-json', 'objlnk-composite-root').bytes, [65], testModel)).toThrow(
      DecodeError,
    );
  });

  it('refuses values it cannot write: NaN, unknown types, a node that is not the one at the path', () => {
    expect(() => codec.encode(res(3, float(Number.NaN)), [9999, 0, 3], testModel)).toThrow(EncodeError);
    expect(() =>
      codec.encode(res(3, { type: 'unknown', value: new Uint8Array([1]) }), [9999, 0, 3], testModel),
    ).toThrow(EncodeError);
    expect(() => codec.encode(res(3, float(1)), [9999, 0, 4], testModel)).toThrow(EncodeError);
    expect(() => codec.encode(inst(0, [res(1, int(1)), res(1, int(2))]), [9999, 0], testModel)).toThrow(/twice/);
    expect(() => codec.encode(res(1, int(2n ** 63n)), [9999, 0, 1], testModel)).toThrow(EncodeError);
  });
});
