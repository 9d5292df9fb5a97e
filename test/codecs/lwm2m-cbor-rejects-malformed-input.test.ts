import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/codecs/codec.js';
import { decodeLwm2mCborRecords, lwm2mCborCodec as codec } from '../../src/codecs/lwm2m-cbor/index.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { allFixtures, hex } from './senml-family/fixtures.js';
import { cborSoup, FUZZ_MODELS, FUZZ_PATHS, fuzz, inputs } from './senml-family/fuzz.js';
import { testModel } from './senml-family/test-model.js';

const seeds = allFixtures('lwm2m-cbor').map((f) => f.bytes);
/** 21 000 seeded inputs (a third random bytes, a third mutated golden vectors, a third near-valid), built once. */
const corpus = [...inputs(0x2d11, 21_000, seeds, cborSoup)];

function rejection(bytes: Uint8Array, path: readonly number[] = [3, 0]): DecodeError {
  try {
    codec.decode(bytes, path as [number, number], testModel);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('LwM2M CBOR decoder robustness', () => {
  it('throws only DecodeError on 21 000 seeded random, mutated and near-valid inputs', () => {
    const report = fuzz(corpus, (bytes, i) =>
      codec.decode(bytes, FUZZ_PATHS[i % FUZZ_PATHS.length] ?? [], FUZZ_MODELS[i % 2] ?? EMPTY_MODEL),
    );
    expect(report.escapes).toEqual([]);
    expect(report.inputs).toBeGreaterThanOrEqual(20_000);
    expect(report.decoded).toBeGreaterThan(0);
  });

  it('throws only DecodeError from decodeLwm2mCborRecords on 21 000 seeded inputs', () => {
    const report = fuzz(corpus, (bytes, i) => decodeLwm2mCborRecords(bytes, FUZZ_MODELS[i % 2] ?? EMPTY_MODEL));
    expect(report.escapes).toEqual([]);
    expect(report.decoded).toBeGreaterThan(0);
  });

  it('wraps what cbor-x throws and refuses a top level that is not a map', () => {
    expect(rejection(hex('a103a1')).reason).toMatch(/malformed CBOR/);
    expect(rejection(hex('a0a0')).reason).toMatch(/malformed CBOR/);
    expect(rejection(hex('80')).reason).toMatch(/must be a map/);
    expect(rejection(hex('03')).reason).toMatch(/must be a map/);
  });

  it('refuses keys that are not ids: negative, too large, text, floats, empty arrays', () => {
    expect(rejection(hex('a120a0')).reason).toMatch(/invalid id -1/);
    expect(rejection(hex('a11a00010000a0')).reason).toMatch(/invalid id 65536/);
    expect(rejection(hex('a16133a0')).reason).toMatch(/key must be an id/);
    expect(rejection(hex('a1f93e00a0')).reason).toMatch(/invalid id 1.5/);
    expect(rejection(hex('a180a0')).reason).toMatch(/key must be an id/);
    // {["3", 0]: {}}
    expect(rejection(hex('a182613300a0')).reason).toMatch(/invalid id/);
  });

  it('refuses values CBOR can carry but LwM2M cannot: arrays, undefined, unknown tags, invalid dates', () => {
    expect(rejection(hex('a1830300098101')).reason).toMatch(/unsupported CBOR item/);
    expect(rejection(hex('a183030009f7')).reason).toMatch(/unsupported CBOR item/);
    expect(rejection(hex('a183030009d9270f01')).reason).toMatch(/unsupported CBOR item/);
    expect(rejection(hex('a183030009c06161')).reason).toMatch(/invalid date/);
  });

  it('survives nesting deep enough to overflow the stack, and maps that contain themselves (tags 28/29)', () => {
    const deep = new Uint8Array(200_001).fill(0xa1);
    expect(rejection(deep)).toBeInstanceOf(DecodeError);
    const nestedKeys = new Uint8Array(300_002).fill(0x81);
    nestedKeys[0] = 0xa1;
    expect(rejection(nestedKeys)).toBeInstanceOf(DecodeError);
    // {3: 28({0: 29(0)})}: an instance map that contains itself
    expect(rejection(hex('a103d81ca100d81d00'))).toBeInstanceOf(DecodeError);
  });
});
