/**
 * TLV golden vectors (test/fixtures/tlv/*.hex): the LwM2M Core §7.4.3 examples and hand-assembled
 * vectors, each decoded at its `# path:` to the node below, and — when the fixture is canonical —
 * encoded back to exactly the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { tlvCodec } from '../../src/codecs/tlv/index.js';
import type { Lwm2mNode } from '../../src/model/node.js';
import { hex, loadTlvFixture, testModel, tlvFixtureNames } from './helpers.js';
import { bool, corelnk, float, inst, int, multi, obj, objlnk, opaque, res, ri, str, time, uint, unknown } from './nodes.js';

const DEVICE_RESOURCES = [
  res(0, str('Open Mobile Alliance')),
  res(1, str('Lightweight M2M Client')),
  res(2, str('345000123')),
  res(3, str('1.0')),
  multi(6, [
    [0, int(1)],
    [1, int(5)],
  ]),
  multi(7, [
    [0, int(3800)],
    [1, int(5000)],
  ]),
  multi(8, [
    [0, int(125)],
    [1, int(900)],
  ]),
  res(9, int(100)),
  res(10, int(15)),
  multi(11, [[0, int(0)]]),
  res(13, time(1367491215)),
  res(14, str('+02:00')),
  res(16, str('U')),
];

const ACL_INSTANCE_0 = inst(0, [res(0, int(1)), res(1, int(0)), multi(2, [[127, int(7)]]), res(3, int(127))]);

const EXPECTED: Record<string, Lwm2mNode> = {
  'spec-device-instance.hex': inst(0, DEVICE_RESOURCES),
  'spec-device-object.hex': obj(3, [inst(0, DEVICE_RESOURCES)]),
  'device-instance-wrapped.hex': inst(0, DEVICE_RESOURCES),
  'device-single-resource.hex': res(0, str('Open Mobile Alliance')),
  'device-multiple-resource.hex': multi(7, [
    [0, int(3800)],
    [1, int(5000)],
  ]),
  'device-resource-instances-direct.hex': multi(7, [
    [0, int(3800)],
    [1, int(5000)],
  ]),
  'device-resource-instance.hex': ri(1, int(5000)),
  'spec-access-control-two-instances.hex': obj(2, [
    ACL_INSTANCE_0,
    inst(2, [
      res(0, int(3)),
      res(1, int(0)),
      multi(2, [
        [127, int(7)],
        [310, int(1)],
      ]),
      res(3, int(127)),
    ]),
  ]),
  'access-control-one-instance.hex': obj(2, [ACL_INSTANCE_0]),
  'spec-server-one-instance.hex': obj(1, [inst(0, [res(0, int(1)), res(1, int(86400)), res(6, bool(true)), res(7, str('U'))])]),
  'spec-objlnk-instance.hex': inst(0, [
    multi(0, [
      [0, objlnk(66, 0)],
      [1, objlnk(66, 1)],
    ]),
    res(1, str('8613800755500')),
    res(2, int(0x12345678)),
  ]),
  'spec-objlnk-object.hex': obj(66, [
    inst(0, [res(0, str('myService 1')), res(1, str('Internet.15.234')), res(2, objlnk(67, 0))]),
    inst(1, [res(0, str('myService 2')), res(1, str('Internet.15.235')), res(2, objlnk(0xffff, 0xffff))]),
  ]),
  'test-object-scalars.hex': inst(0, [
    res(1, str('héllo ✓')),
    res(2, int(-1)),
    res(3, uint(2n ** 64n - 1n)),
    res(4, float(1.5)),
    res(5, bool(true)),
    res(6, opaque(0xde, 0xad, 0xbe, 0xef)),
    res(7, time(1367491215)),
    res(8, objlnk(3, 0)),
    res(9, corelnk('</3/0>')),
    res(300, str('16-bit id')),
  ]),
  'test-object-integers.hex': multi(302, [
    [0, int(-1)],
    [1, int(-129)],
    [2, int(-32769)],
    [3, int(-2147483649)],
    [4, int(2n ** 63n - 1n)],
    [5, int(-(2n ** 63n))],
    [6, int(2n ** 53n)],
    [7, int(127)],
    [8, int(128)],
    [9, int(32767)],
    [10, int(32768)],
    [11, int(2147483648)],
    [12, int(-(2 ** 53) + 1)],
  ]),
  'test-object-floats.hex': multi(304, [
    [0, float(5)],
    [1, float(Math.PI)],
    [2, float(-0.1)],
    [3, float(1e300)],
    [4, float(-2.5)],
    [5, float(0)],
  ]),
  'test-object-empty-values.hex': inst(0, [
    res(1, str('')),
    res(6, opaque()),
    multi(306, [
      [0, opaque()],
      [1, opaque(0)],
    ]),
    multi(301, []),
  ]),
  'test-object-multi-instance.hex': obj(1000, [
    inst(0, [
      res(2, int(7)),
      multi(301, [
        [0, str('a')],
        [1, str('bc')],
      ]),
      multi(308, [
        [0, objlnk(3, 0)],
        [1, objlnk(0xffff, 0xffff)],
      ]),
    ]),
    inst(300, [
      res(1, str('second')),
      multi(302, [
        [5, int(1000)],
        [700, int(-5)],
      ]),
    ]),
  ]),
  'non-minimal-lengths.hex': inst(0, [res(1, str('abc')), res(6, opaque(0xca, 0xfe)), res(2, int(9)), res(5, bool(false))]),
  'unknown-resources.hex': inst(0, [
    res(200, unknown(1, 2)),
    multi(201, [
      [0, unknown(7)],
      [1, unknown(8, 9)],
    ]),
    res(2, int(3)),
  ]),
};

describe('TLV golden vectors', () => {
  it('has an expected node for every fixture file, and every fixture names its source', () => {
    const names = tlvFixtureNames();
    expect(names.length).toBeGreaterThanOrEqual(15);
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const name of names) expect(loadTlvFixture(name).source.length).toBeGreaterThan(10);
  });

  describe.each(tlvFixtureNames())('%s', (name) => {
    const fixture = loadTlvFixture(name);
    const expected = EXPECTED[name] as Lwm2mNode;

    it('decodes to the expected node at its path', () => {
      expect(tlvCodec.decode(fixture.bytes, fixture.path, testModel)).toEqual(expected);
    });

    it('decodes identically under legacy content format 1542', () => {
      expect(tlvCodec.decode(fixture.bytes, fixture.path, testModel, 1542)).toEqual(expected);
    });

    it(fixture.canonical ? 'encodes back to the same bytes' : 'encodes to a shorter canonical form that decodes the same', () => {
      const encoded = tlvCodec.encode(expected, fixture.path, testModel);
      if (fixture.canonical) expect(hex(encoded)).toBe(hex(fixture.bytes));
      else {
        expect(hex(encoded)).not.toBe(hex(fixture.bytes));
        expect(tlvCodec.decode(encoded, fixture.path, testModel)).toEqual(expected);
      }
    });
  });
});
