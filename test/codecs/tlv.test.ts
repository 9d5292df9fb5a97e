import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { readTlv, tlvCodec } from '../../src/codecs/tlv/index.js';
import type { Lwm2mNode } from '../../src/model/node.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import type { Lwm2mPath } from '../../src/model/path.js';
import { fromHex, hex, loadTlvFixture, testModel } from './helpers.js';
import { float, inst, int, multi, obj, objlnk, opaque, res, ri, str, time, uint, unknown, none } from './nodes.js';

const decode = (h: string, path: Lwm2mPath, model = testModel): Lwm2mNode => tlvCodec.decode(fromHex(h), path, model);
const encode = (node: Lwm2mNode, path: Lwm2mPath): string => hex(tlvCodec.encode(node, path, testModel));

function decodeError(h: string | Uint8Array, path: Lwm2mPath, model = testModel): DecodeError {
  try {
    tlvCodec.decode(typeof h === 'string' ? fromHex(h) : h, path, model);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  return expect.fail('expected a DecodeError');
}

describe('TLV record layer', () => {
  it('reads the identifier and length from every header form', () => {
    // length in type bits, 8-bit id
    expect(readTlv(fromHex('C3 03 31 2E 30'), 0, 5, 11542)).toMatchObject({ type: 3, id: 3, valueStart: 2, valueEnd: 5 });
    // 16-bit id, 8-bit length
    expect(readTlv(fromHex('E8 01 2C 01 FF'), 0, 5, 11542)).toMatchObject({ type: 3, id: 300, valueStart: 4, valueEnd: 5 });
    // 16-bit length, 24-bit length
    expect(readTlv(fromHex('50 07 00 01 AA'), 0, 5, 11542)).toMatchObject({ type: 1, id: 7, valueStart: 4, valueEnd: 5 });
    expect(readTlv(fromHex('98 02 00 00 00'), 0, 5, 11542)).toMatchObject({ type: 2, id: 2, valueStart: 5, valueEnd: 5 });
  });

  it('rejects a length larger than the remaining input before allocating anything', () => {
    // 24-bit length 0xFFFFFF (16 MB) in a 10-byte payload
    const error = decodeError('D8 06 FF FF FF 00 01 02 03 04', [1000, 0, 6]);
    expect(error.offset).toBe(0);
    expect(error.reason).toMatch(/16777215 value bytes but only 5 remain/);
  });

  it('rejects a header cut short, with the offset of the record', () => {
    expect(decodeError('C1 02 05 E8 01', [1000, 0]).offset).toBe(3);
    expect(decodeError('C8', [1000, 0]).reason).toMatch(/truncated TLV header/);
  });

  it('reports errors under the content format it was asked to decode', () => {
    try {
      tlvCodec.decode(fromHex('C8'), [1000, 0], testModel, 1542);
      expect.fail('no error');
    } catch (error) {
      expect((error as DecodeError).contentFormat).toBe(1542);
    }
  });
});

describe('TLV decoding follows the request path', () => {
  it('rejects the root path', () => {
    expect(decodeError('', []).reason).toMatch(/root path/);
  });

  it('decodes an empty payload at an object to no instances, at an instance to no resources', () => {
    expect(decode('', [1000])).toEqual(obj(1000, []));
    expect(decode('', [1000, 4])).toEqual(inst(4, []));
  });

  it('decodes an empty payload at a multiple resource to no instances, and rejects it at a single resource', () => {
    expect(decode('', [1000, 0, 302])).toEqual(multi(302, []));
    expect(decodeError('', [1000, 0, 2]).reason).toMatch(/empty payload/);
  });

  it('takes bare resources for a single-instance object read as instance 0', () => {
    expect(decode('C1 09 64', [3])).toEqual(obj(3, [inst(0, [res(9, int(100))])]));
    // object 1000 is multi-instance: bare resources do not say which instance they are
    expect(decodeError('C1 02 07', [1000]).reason).toMatch(/expects object instance TLVs/);
  });

  it('rejects an object instance wrapper whose id differs from the path', () => {
    expect(decodeError('08 01 03 C1 09 64', [3, 0]).reason).toMatch(/object instance TLV 1 does not match \/3\/0/);
  });

  it('rejects resource instances at instance level and nested object instances', () => {
    expect(decodeError('41 00 01', [3, 0]).reason).toMatch(/resource instance TLV where \/3\/0 expects resource TLVs/);
    expect(decodeError('05 00 03 00 C1 01 05', [3]).reason).toMatch(/object instance TLV where an object instance expects resource TLVs/);
  });

  it('rejects a resource TLV for another resource', () => {
    expect(decodeError('C1 09 64', [3, 0, 10]).reason).toMatch(/resource TLV 9 does not match \/3\/0\/10/);
  });

  it('decodes a single resource TLV at a resource path even when the model says multiple', () => {
    expect(decode('C1 07 05', [3, 0, 7])).toEqual(res(7, int(5)));
  });

  it('accepts a resource instance wrapped in its multiple resource at a resource instance path', () => {
    expect(decode('84 07 42 01 13 88', [3, 0, 7, 1])).toEqual(ri(1, int(5000)));
    expect(decodeError('84 08 42 01 13 88', [3, 0, 7, 1]).reason).toMatch(/does not match/);
    expect(decodeError('42 00 13 88', [3, 0, 7, 1]).reason).toMatch(/resource instance TLV 0 does not match/);
    expect(decodeError('42 01 13 88 41 02 00', [3, 0, 7, 1]).reason).toMatch(/expects one resource instance TLV, got 2/);
  });

  it('rejects duplicate ids at each level', () => {
    expect(decodeError('00 01 00 01', [1000]).reason).toMatch(/duplicate instance of object 1000 id 1/);
    expect(decodeError('C1 09 64 C1 09 65', [3, 0]).reason).toMatch(/duplicate resource/);
    expect(decodeError('86 07 41 00 01 41 00 02', [3, 0]).reason).toMatch(/duplicate resource instance/);
  });

  it('rejects object instance id 65535, which Core §7.1 reserves', () => {
    expect(decodeError('20 FF FF', [1000]).reason).toMatch(/65535 is reserved/);
  });
});

describe('TLV values', () => {
  it('decodes integers of 1, 2, 4 and 8 bytes and rejects other widths', () => {
    expect(decode('C1 02 80', [1000, 0, 2])).toEqual(res(2, int(-128)));
    expect(decode('C2 02 80 00', [1000, 0, 2])).toEqual(res(2, int(-32768)));
    expect(decode('C4 02 80 00 00 00', [1000, 0, 2])).toEqual(res(2, int(-2147483648)));
    expect(decode('C8 02 08 00 00 00 00 00 00 00 05', [1000, 0, 2])).toEqual(res(2, int(5)));
    expect(decodeError('C3 02 00 00 01', [1000, 0, 2]).reason).toMatch(/integer value of 3 bytes/);
    expect(decodeError('C0 02', [1000, 0, 2]).reason).toMatch(/integer value of 0 bytes/);
  });

  it('keeps 64-bit integers beyond 2^53 exact as bigint and normalises the rest to number', () => {
    expect(decode('C8 02 08 00 20 00 00 00 00 00 01', [1000, 0, 2])).toEqual(res(2, int(2n ** 53n + 1n)));
    expect(decode('C8 02 08 00 1F FF FF FF FF FF FF', [1000, 0, 2])).toEqual(res(2, int(2 ** 53 - 1)));
  });

  it('decodes unsigned integers (Core 1.1) without sign extension', () => {
    expect(decode('C1 03 FF', [1000, 0, 3])).toEqual(res(3, uint(255)));
    expect(decode('C4 03 FF FF FF FF', [1000, 0, 3])).toEqual(res(3, uint(4294967295)));
    expect(encode(res(3, uint(255)), [1000, 0, 3])).toBe('C103FF');
    expect(encode(res(3, uint(256)), [1000, 0, 3])).toBe('C2030100');
    expect(encode(res(3, uint(2n ** 63n)), [1000, 0, 3])).toBe('C803088000000000000000');
  });

  it('encodes integers with the smallest of 1, 2, 4 and 8 bytes', () => {
    expect(encode(res(2, int(-128)), [1000, 0, 2])).toBe('C10280');
    expect(encode(res(2, int(-129)), [1000, 0, 2])).toBe('C202FF7F');
    expect(encode(res(2, int(2147483647)), [1000, 0, 2])).toBe('C4027FFFFFFF');
    expect(encode(res(2, int(2147483648)), [1000, 0, 2])).toBe('C802080000000080000000');
    expect(encode(res(2, int(-(2n ** 63n))), [1000, 0, 2])).toBe('C802088000000000000000');
  });

  it('refuses integers that do not fit their type', () => {
    expect(() => tlvCodec.encode(res(2, int(2n ** 63n)), [1000, 0, 2], testModel)).toThrow(EncodeError);
    expect(() => tlvCodec.encode(res(2, int(1.5)), [1000, 0, 2], testModel)).toThrow(EncodeError);
    expect(() => tlvCodec.encode(res(3, uint(-1)), [1000, 0, 3], testModel)).toThrow(EncodeError);
    expect(() => tlvCodec.encode(res(3, uint(2n ** 64n)), [1000, 0, 3], testModel)).toThrow(EncodeError);
    expect(() => tlvCodec.encode(res(7, time(1.5)), [1000, 0, 7], testModel)).toThrow(EncodeError);
  });

  it('writes a float as float32 when that is exact, else as float64, and reads both', () => {
    expect(encode(res(4, float(5)), [1000, 0, 4])).toBe('C40440A00000');
    expect(encode(res(4, float(0.1)), [1000, 0, 4])).toBe('C804083FB999999999999A');
    expect(encode(res(4, float(-0)), [1000, 0, 4])).toBe('C40480000000');
    expect(encode(res(4, float(Infinity)), [1000, 0, 4])).toBe('C4047F800000');
    expect(decode('C4 04 3D CC CC CD', [1000, 0, 4])).toEqual(res(4, float(Math.fround(0.1))));
    expect(decodeError('C2 04 00 00', [1000, 0, 4]).reason).toMatch(/float value of 2 bytes/);
  });

  it('decodes booleans 0 and 1 only', () => {
    expect(decodeError('C1 05 02', [1000, 0, 5]).reason).toMatch(/not 0 or 1/);
    expect(decodeError('C2 05 00 01', [1000, 0, 5]).reason).toMatch(/boolean value of 2 bytes/);
  });

  it('decodes objlnk as 16-bit object id and instance id', () => {
    expect(decode('C4 08 FF FE 00 01', [1000, 0, 8])).toEqual(res(8, objlnk(65534, 1)));
    expect(decodeError('C3 08 00 03 00', [1000, 0, 8]).reason).toMatch(/objlnk value of 3 bytes/);
    expect(() => tlvCodec.encode(res(8, objlnk(70000, 0)), [1000, 0, 8], testModel)).toThrow(EncodeError);
  });

  it('rejects strings that are not UTF-8 instead of replacing bytes', () => {
    expect(decodeError('C2 01 C3 28', [1000, 0, 1]).reason).toMatch(/not valid UTF-8/);
  });

  it('keeps a leading U+FEFF in strings', () => {
    expect(decode('C6 01 EF BB BF 61 62 63', [1000, 0, 1])).toEqual(res(1, str('\uFEFFabc')));
  });

  it('refuses to encode a string with a lone surrogate', () => {
    expect(() => tlvCodec.encode(res(1, str('a\uD800b')), [1000, 0, 1], testModel)).toThrow(EncodeError);
  });

  it('decodes an executable resource with no value to none, and keeps bytes if a client sends some', () => {
    expect(decode('C0 0A', [1000, 0, 10])).toEqual(res(10, none));
    expect(decode('C1 0A 01', [1000, 0, 10])).toEqual(res(10, unknown(1)));
    expect(encode(res(10, none), [1000, 0, 10])).toBe('C00A');
  });

  it('decodes every value to unknown bytes when no definition is known, and writes them back verbatim', () => {
    const fixture = loadTlvFixture('spec-device-instance.hex');
    const node = tlvCodec.decode(fixture.bytes, [3, 0], EMPTY_MODEL);
    expect(node).toMatchObject({ kind: 'instance', id: 0 });
    const resources = (node as { resources: readonly { value?: { type: string } }[] }).resources;
    expect(resources.filter((r) => r.value).every((r) => r.value?.type === 'unknown')).toBe(true);
    expect(resources[0]).toEqual(res(0, { type: 'unknown', value: new TextEncoder().encode('Open Mobile Alliance') }));
    expect(hex(tlvCodec.encode(node, [3, 0], EMPTY_MODEL))).toBe(hex(fixture.bytes));
  });

  it('returns values that do not alias the input buffer', () => {
    const input = fromHex('C2 06 01 02');
    const node = tlvCodec.decode(input, [1000, 0, 6], testModel) as ReturnType<typeof res>;
    input[2] = 0xff;
    expect(node).toEqual(res(6, opaque(1, 2)));
  });
});

describe('TLV lengths', () => {
  it('uses an 8-bit length from 8 bytes, 16-bit from 256 and 24-bit from 65536', () => {
    const of = (n: number): Lwm2mNode => res(6, { type: 'opaque', value: new Uint8Array(n).fill(0xab) });
    expect(encode(of(7), [1000, 0, 6]).slice(0, 4)).toBe('C706');
    expect(encode(of(8), [1000, 0, 6]).slice(0, 6)).toBe('C80608');
    expect(encode(of(300), [1000, 0, 6]).slice(0, 8)).toBe('D006012C');
    const big = tlvCodec.encode(of(70000), [1000, 0, 6], testModel);
    expect(hex(big.subarray(0, 5))).toBe('D8060111' + '70');
    expect(big.length).toBe(5 + 70000);
    // compared as hex: a deep equality walk over 70 000 elements is needlessly slow
    const decoded = tlvCodec.decode(big, [1000, 0, 6], testModel);
    expect(decoded).toMatchObject({ kind: 'resource', id: 6, value: { type: 'opaque' } });
    expect(hex((decoded as { value: { value: Uint8Array } }).value.value)).toBe('AB'.repeat(70000));
  });

  it('sums nested lengths for containers crossing the 8-bit boundary', () => {
    const strings = Array.from({ length: 40 }, (_, i) => [i, str('x'.repeat(i))] as const);
    const node = inst(0, [multi(301, strings)]);
    const bytes = tlvCodec.encode(node, [1000, 0], testModel);
    expect(hex(bytes.subarray(0, 3))).toBe('B0012D'); // 16-bit id, 16-bit length
    expect(tlvCodec.decode(bytes, [1000, 0], testModel)).toEqual(node);
  });
});

describe('TLV encoding mirrors the path', () => {
  it('writes an object instance at an object path as one wrapped instance (Create)', () => {
    expect(encode(inst(5, [res(2, int(1))]), [1000])).toBe('0305C10201');
  });

  it('writes a single resource instance at a resource instance path', () => {
    expect(encode(ri(1, int(5000)), [3, 0, 7, 1])).toBe('42011388');
  });

  it('refuses nodes that do not match the path', () => {
    const attempts: [Lwm2mNode, Lwm2mPath][] = [
      [res(1, str('a')), []],
      [res(1, str('a')), [1000]],
      [inst(1, []), [1000, 0]],
      [res(1, str('a')), [1000, 0, 2]],
      [ri(0, int(1)), [1000, 0, 302]],
      [multi(302, []), [1000, 0, 302, 0]],
      [obj(3, []), [1000]],
    ];
    for (const [node, path] of attempts) expect(() => tlvCodec.encode(node, path, testModel)).toThrow(EncodeError);
  });

  it('refuses ids outside 16 bits, instance 65535 and duplicates', () => {
    expect(() => tlvCodec.encode(res(70000, int(1)), [1000, 0, 70000], testModel)).toThrow(EncodeError);
    expect(() => tlvCodec.encode(inst(65535, []), [1000], testModel)).toThrow(/0\.\.65534/);
    expect(() => tlvCodec.encode(inst(0, [res(2, int(1)), res(2, int(2))]), [1000, 0], testModel)).toThrow(/duplicate/);
    expect(() =>
      tlvCodec.encode(
        multi(302, [
          [1, int(1)],
          [1, int(2)],
        ]),
        [1000, 0, 302],
        testModel,
      ),
    ).toThrow(/duplicate/);
  });

  it('writes a time as a signed integer', () => {
    expect(encode(res(7, time(-1)), [1000, 0, 7])).toBe('C107FF');
  });
});
