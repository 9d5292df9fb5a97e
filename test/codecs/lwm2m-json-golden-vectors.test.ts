import { describe, expect, it } from 'vitest';
import { ContentFormat, DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { decodeLwm2mJsonRecords, lwm2mJsonCodec } from '../../src/codecs/lwm2m-json/index.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { fixture, text, utf8 } from './senml-family/fixtures.js';
import {
  bool,
  bytes,
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

const codec = lwm2mJsonCodec;
const vector = (name: string): Uint8Array => fixture('lwm2m-json', name).bytes;

describe('LwM2M JSON golden vectors', () => {
  it('serves content format 11543 and the legacy 1543', () => {
    expect(codec.contentFormats).toEqual([ContentFormat.JSON, ContentFormat.JSON_LEGACY]);
  });

  it('decodes the TS 1.0 Device instance example into typed resources', () => {
    expect(codec.decode(vector('device-instance'), [3, 0], testModel)).toEqual(DEVICE_INSTANCE);
    expect(codec.decode(vector('device-instance'), [3, 0], testModel, ContentFormat.JSON_LEGACY)).toEqual(
      DEVICE_INSTANCE,
    );
  });

  it('encodes the Device instance byte for byte as Leshan writes the TS 1.0 example', () => {
    expect(utf8(codec.encode(DEVICE_INSTANCE, [3, 0], testModel))).toBe(utf8(vector('device-instance')));
  });

  it('decodes two instances with every value field: negative and 64-bit integers, Base64 opaque in sv, ov links, empty values', () => {
    expect(codec.decode(vector('test-object-two-instances'), [9999], testModel)).toEqual(
      obj(9999, [
        inst(0, [
          res(0, str('')),
          res(1, int(-(2n ** 63n))),
          res(2, uint(2n ** 64n - 1n)),
          res(3, float(21)),
          res(4, bool(false)),
          res(5, bytes(1, 2, 3, 255)),
          res(7, objlnk(65535, 65535)),
          multi(11, [
            [0, int(7)],
            [3, int(-7)],
          ]),
        ]),
        inst(1, [res(6, time(1367491215)), res(9, none)]),
      ]),
    );
  });

  it('keeps Base64 text as a string when no model says the resource is opaque', () => {
    const payload = text('{"bn":"/9999/0/5","e":[{"sv":"AQID/w=="}]}');
    expect(codec.decode(payload, [9999, 0, 5], EMPTY_MODEL)).toEqual(res(5, str('AQID/w==')));
    expect(codec.decode(payload, [9999, 0, 5], testModel)).toEqual(res(5, bytes(1, 2, 3, 255)));
  });

  it('concatenates base name and name literally (Leshan: bn "3/0/1" + n "1/0" is /3/0/11/0)', () => {
    expect(codec.decode(vector('cut-base-name'), [3, 0, 11], testModel)).toEqual(
      multi(11, [
        [0, int(0)],
        [1, int(0)],
      ]),
    );
  });

  it('resolves entry times as bt + t for time series (decodeLwm2mJsonRecords)', () => {
    expect(decodeLwm2mJsonRecords(vector('timestamped-resource'), testModel)).toEqual([
      { path: [1024, 0, 1], value: float(22.9), time: 25462604 },
      { path: [1024, 0, 1], value: float(22.4), time: 25462629 },
      { path: [1024, 0, 1], value: float(24.1), time: 25462584 },
    ]);
    expect(() => codec.decode(vector('timestamped-resource'), [1024, 0, 1], testModel)).toThrow(/appears twice/);
  });

  it('reads empty resource lists as empty objects, instances and multiple resources (as Leshan)', () => {
    expect(codec.decode(text('{"e":[]}'), [2], EMPTY_MODEL)).toEqual(obj(2, []));
    expect(codec.decode(text('{"bn":"2/0", "e":[]}'), [2, 0], EMPTY_MODEL)).toEqual(inst(0, []));
    expect(codec.decode(text('{"bn":"3/0/6", "e":[]}'), [3, 0, 6], testModel)).toEqual(multi(6, []));
    expect(() => codec.decode(text('{"bn":"2/0/0", "e":[]}'), [2, 0, 0], EMPTY_MODEL)).toThrow(/no value/);
  });

  it('refuses a payload without "e", duplicate resources and duplicate resource instances (as Leshan)', () => {
    expect(() => codec.decode(text('{}'), [2], EMPTY_MODEL)).toThrow(DecodeError);
    const twice = text('{"bn":"3/0/","e":[{"n":"1","sv":"client1"},{"n":"1","sv":"client2"}]}');
    expect(() => codec.decode(twice, [3, 0], testModel)).toThrow(/appears twice/);
    const twiceInstance = text('{"bn":"3/0/11/","e":[{"n":"1","v":2},{"n":"1","v":0}]}');
    expect(() => codec.decode(twiceInstance, [3, 0, 11], testModel)).toThrow(/appears twice/);
  });

  it('reports errors under the content format it was given', () => {
    try {
      codec.decode(text('{"e":[{"n":"0","v":tru}]}'), [3, 0], EMPTY_MODEL, ContentFormat.JSON_LEGACY);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DecodeError);
      expect(error).toMatchObject({ contentFormat: 1543, offset: 19 });
    }
  });

  it('writes single resources and resource instances with the full path as base name and no entry name', () => {
    expect(utf8(codec.encode(res(3, bytes(0xab, 0xcd, 0xef)), [0, 0, 3], testModel))).toBe(
      '{"bn":"/0/0/3","e":[{"sv":"q83v"}]}',
    );
    expect(utf8(codec.encode(ri(1, int(5000)), [3, 0, 7, 1], testModel))).toBe('{"bn":"/3/0/7/1","e":[{"v":5000}]}');
    expect(utf8(codec.encode(res(7, objlnk(3, 0)), [9999, 0, 7], testModel))).toBe(
      '{"bn":"/9999/0/7","e":[{"ov":"3:0"}]}',
    );
    expect(utf8(codec.encode(res(3, float(23)), [9999, 0, 3], testModel))).toBe('{"bn":"/9999/0/3","e":[{"v":23.0}]}');
    expect(utf8(codec.encode(res(9, none), [9999, 0, 9], testModel))).toBe('{"bn":"/9999/0/9","e":[{}]}');
  });

  it('refuses what it cannot write', () => {
    expect(() => codec.encode(res(3, float(Infinity)), [9999, 0, 3], testModel)).toThrow(EncodeError);
    expect(() => codec.encode(res(3, { type: 'unknown', value: new Uint8Array() }), [9999, 0, 3], testModel)).toThrow(
      EncodeError,
    );
    expect(() => codec.encode(obj(9999, []), [9999, 0], testModel)).toThrow(EncodeError);
    expect(() => codec.encode(res(7, objlnk(70000, 0)), [9999, 0, 7], testModel)).toThrow(EncodeError);
  });
});
