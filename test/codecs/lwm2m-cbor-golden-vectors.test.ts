import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { decodeLwm2mCborRecords, encodeLwm2mCborRecords, lwm2mCborCodec } from '../../src/codecs/lwm2m-cbor/index.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { fixture, hex, toHex } from './senml-family/fixtures.js';
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

const codec = lwm2mCborCodec;
const vector = (name: string): Uint8Array => fixture('lwm2m-cbor', name).bytes;

describe('LwM2M CBOR golden vectors', () => {
  it('decodes the Device instance from nested maps and from an array key into typed resources', () => {
    expect(codec.decode(vector('device-instance'), [3, 0], testModel)).toEqual(DEVICE_INSTANCE);
    expect(codec.decode(vector('device-instance-array-key'), [3, 0], testModel)).toEqual(DEVICE_INSTANCE);
    expect(codec.decode(vector('device-instance'), [3], testModel)).toEqual(obj(3, [DEVICE_INSTANCE]));
  });

  it('encodes the Device instance as nested maps from the root, with Time under tag 1', () => {
    expect(toHex(codec.encode(DEVICE_INSTANCE, [3, 0], testModel))).toBe(toHex(vector('device-instance')));
  });

  it('reads every key spelling of one resource the same (Anjay vectors: arrays, nesting, indefinite lengths)', () => {
    for (const name of [
      'single-resource-array-key',
      'single-resource-indefinite',
      'single-resource-nested',
      'single-resource-nested-indefinite',
      'single-resource-nested-arrays',
    ]) {
      expect(codec.decode(vector(name), [13, 26, 1], EMPTY_MODEL), name).toEqual(res(1, int(42)));
    }
    expect(codec.decode(vector('single-resource-nested'), [13, 26], EMPTY_MODEL)).toEqual(inst(26, [res(1, int(42))]));
  });

  it('merges a path split over an array key and nested maps (Anjay two_resources vectors)', () => {
    const expected = inst(26, [res(1, int(42)), res(2, int(21))]);
    expect(codec.decode(vector('two-resources-mixed-keys'), [13, 26], EMPTY_MODEL)).toEqual(expected);
    expect(codec.decode(vector('two-resources-split'), [13, 26], EMPTY_MODEL)).toEqual(expected);
  });

  it('reads a decimal fraction (tag 4) as a float, byte strings as opaque, text as string', () => {
    expect(codec.decode(vector('decimal-fraction'), [13, 26, 1, 2], EMPTY_MODEL)).toEqual(ri(2, float(4.5)));
    expect(codec.decode(vector('bytes'), [13, 26, 1], EMPTY_MODEL)).toEqual(
      res(1, bytes(0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff)),
    );
    expect(codec.decode(vector('string'), [13, 26, 1], EMPTY_MODEL)).toEqual(res(1, str('c--cossiezepsulo')));
  });

  it('reads null as a value-less entry inside a multiple resource (Anjay null_and_int)', () => {
    expect(codec.decode(vector('null-and-int'), [13, 26, 1], EMPTY_MODEL)).toEqual(
      multi(1, [
        [2, none],
        [3, int(5)],
      ]),
    );
  });

  it('types every data type with the model, Time from tag 1 even without one (Anjay all_data_types_notify_msg)', () => {
    const typed = inst(8, [
      res(0, int(25)),
      res(1, uint(100)),
      res(2, time(3)),
      res(3, str('X'.repeat(50))),
      res(4, bytes(...new Array<number>(50).fill(0x44))),
      res(5, bool(false)),
      res(6, objlnk(17, 18)),
      res(7, float(1.1)),
    ]);
    expect(codec.decode(vector('all-data-types'), [8, 8], testModel)).toEqual(typed);
    const untyped = codec.decode(vector('all-data-types'), [8, 8], EMPTY_MODEL);
    expect(untyped).toMatchObject({
      resources: [res(0, int(25)), res(1, int(100)), res(2, time(3)), {}, {}, {}, res(6, str('17:18')), {}],
    });
    // the same tree with definite-length maps, as this encoder writes it
    const definite = toHex(vector('all-data-types'))
      .replace(/^bf08bf08bf/, 'a108a108a8')
      .replace(/ffffff$/, '');
    expect(toHex(codec.encode(typed, [8, 8], testModel))).toBe(definite);
  });

  it('reads the deepest path with the largest ids (Anjay biggest_possible_record) and writes it back', () => {
    const node = codec.decode(vector('biggest-record'), [65534, 65534, 65534, 65534], EMPTY_MODEL);
    expect(node).toEqual(ri(65534, str('65534:65534')));
    expect(toHex(codec.encode(ri(65534, objlnk(65534, 65534)), [65534, 65534, 65534, 65534], EMPTY_MODEL))).toBe(
      'a119fffea119fffea119fffea119fffe6b36353533343a3635353334',
    );
  });

  it('returns every path of a multi-object payload through decodeLwm2mCborRecords (Anjay send vector)', () => {
    expect(decodeLwm2mCborRecords(vector('send-two-objects'), EMPTY_MODEL)).toEqual([
      { path: [3, 3, 3], value: int(25) },
      { path: [1, 1, 1], value: int(11) },
    ]);
    expect(() => codec.decode(vector('send-two-objects'), [3], EMPTY_MODEL)).toThrow(/outside the requested/);
    expect(
      toHex(
        encodeLwm2mCborRecords([
          { path: [3, 3, 3], value: int(25) },
          { path: [1, 1, 1], value: int(11) },
        ]),
      ),
    ).toBe('a203a103a103181901a101a1010b');
  });

  it('reads a resource instance at its own path (Anjay read_single_resource_instance_record)', () => {
    expect(codec.decode(vector('resource-instance'), [3, 3, 3, 3], EMPTY_MODEL)).toEqual(ri(3, int(25)));
  });

  it('keeps empty instances and empty multiple resources, which nested maps can express', () => {
    const node = obj(9999, [inst(0, []), inst(1, [multi(11, []), res(9, none)])]);
    const encoded = codec.encode(node, [9999], testModel);
    // {9999: {0: {}, 1: {11: {}, 9: null}}}
    expect(toHex(encoded)).toBe('a119270fa200a001a20ba009f6');
    expect(codec.decode(encoded, [9999], testModel)).toEqual(node);
    expect(codec.decode(hex('a119270fa101a10ba0'), [9999, 1, 11], EMPTY_MODEL)).toEqual(multi(11, []));
  });

  it('writes integers beyond 32 bits as CBOR integers, not floats', () => {
    // {9999: {0: {1: 7000000000, 2: 18446744073709551615, 3: 1.5}}}
    expect(
      toHex(
        codec.encode(
          inst(0, [res(1, int(7000000000)), res(2, uint(2n ** 64n - 1n)), res(3, float(1.5))]),
          [9999, 0],
          testModel,
        ),
      ),
    ).toBe('a119270fa100a3011b00000001a13b8600021bffffffffffffffff03fb3ff8000000000000');
  });

  it('refuses indefinite-length byte strings, which cbor-x 1.6.9 cannot read, with a DecodeError', () => {
    expect(() => codec.decode(vector('bytes-indefinite'), [13, 26, 1], EMPTY_MODEL)).toThrow(DecodeError);
  });

  it('refuses malformed trees: values above resource level, maps in resource instances, conflicting spellings', () => {
    expect(() => codec.decode(hex('a10305'), [3], EMPTY_MODEL)).toThrow(/not at a resource/);
    expect(() => codec.decode(hex('a1840300070aa0'), [3, 0, 7, 10], EMPTY_MODEL)).toThrow(/cannot hold a map/);
    // {[3, 0, 7]: 1, [3, 0]: {7: 10}}
    expect(() => codec.decode(hex('a28303000701820300a1070a'), [3, 0], EMPTY_MODEL)).toThrow(/appears twice/);
    expect(() => codec.decode(hex('a185030007000001'), [3], EMPTY_MODEL)).toThrow(/deeper/);
    expect(() => codec.decode(hex('a1a001'), [3], EMPTY_MODEL)).toThrow(/key/);
    expect(() => codec.decode(hex('a103a119ffffa0'), [3], EMPTY_MODEL)).toThrow(/invalid id 65535/);
  });

  it('refuses what it cannot write', () => {
    expect(() => codec.encode(res(1, { type: 'unknown', value: new Uint8Array() }), [9999, 0, 1], testModel)).toThrow(
      EncodeError,
    );
    expect(() => encodeLwm2mCborRecords([{ path: [3, 0, 9], value: int(1), time: 5 }])).toThrow(EncodeError);
    expect(() =>
      encodeLwm2mCborRecords([
        { path: [3, 0, 9], value: int(1) },
        { path: [3, 0, 9, 0], value: int(1) },
      ]),
    ).toThrow(EncodeError);
  });
});
