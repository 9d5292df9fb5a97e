import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { opaqueCodec } from '../../src/codecs/opaque/index.js';
import type { Lwm2mPath } from '../../src/model/path.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { testModel } from './helpers.js';
import { int, opaque, res, ri, str, unknown } from './nodes.js';

describe('application/octet-stream', () => {
  it('decodes the payload as the opaque value of a resource or resource instance', () => {
    expect(opaqueCodec.decode(Uint8Array.of(1, 2, 3), [1000, 0, 6], testModel)).toEqual(res(6, opaque(1, 2, 3)));
    expect(opaqueCodec.decode(Uint8Array.of(9), [1000, 0, 306, 4], testModel)).toEqual(ri(4, opaque(9)));
    expect(opaqueCodec.decode(new Uint8Array(0), [5, 0, 0], EMPTY_MODEL)).toEqual(res(0, opaque()));
  });

  it('decodes to opaque whatever type the model gives: the format carries no type', () => {
    expect(opaqueCodec.decode(Uint8Array.of(0x41), [1000, 0, 1], testModel)).toEqual(res(1, opaque(0x41)));
  });

  it('copies the bytes instead of aliasing the request buffer', () => {
    const input = Uint8Array.of(1, 2);
    const node = opaqueCodec.decode(input, [1000, 0, 6], testModel);
    input[0] = 7;
    expect(node).toEqual(res(6, opaque(1, 2)));
  });

  it('rejects paths that are not a single value', () => {
    for (const p of [[], [1000], [1000, 0], [1000, 0, 306]] as Lwm2mPath[]) {
      expect(() => opaqueCodec.decode(Uint8Array.of(1), p, testModel)).toThrow(DecodeError);
    }
  });

  it('encodes opaque and unknown values as their bytes', () => {
    expect(opaqueCodec.encode(res(6, opaque(1, 2, 3)), [1000, 0, 6], testModel)).toEqual(Uint8Array.of(1, 2, 3));
    expect(opaqueCodec.encode(ri(0, unknown(4)), [1000, 0, 306, 0], testModel)).toEqual(Uint8Array.of(4));
  });

  it('refuses typed values that have a representation of their own', () => {
    expect(() => opaqueCodec.encode(res(1, str('a')), [1000, 0, 1], testModel)).toThrow(EncodeError);
    expect(() => opaqueCodec.encode(res(2, int(1)), [1000, 0, 2], testModel)).toThrow(EncodeError);
  });
});
