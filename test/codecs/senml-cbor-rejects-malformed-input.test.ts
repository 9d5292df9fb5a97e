import { describe, expect, it } from 'vitest';
import { ContentFormat, DecodeError } from '../../src/codecs/codec.js';
import { senmlCborCodec as codec } from '../../src/codecs/senml-cbor/index.js';
import { decodeSenmlRecords } from '../../src/codecs/senml/records.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { allFixtures, hex } from './senml-family/fixtures.js';
import { cborSoup, FUZZ_MODELS, FUZZ_PATHS, fuzz, inputs } from './senml-family/fuzz.js';
import { testModel } from './senml-family/test-model.js';

const seeds = allFixtures('senml-cbor').map((f) => f.bytes);
/** 21 000 seeded inputs (a third random bytes, a third mutated golden vectors, a third near-valid), built once. */
const corpus = [...inputs(0x112, 21_000, seeds, cborSoup)];

function rejection(bytes: Uint8Array, path: readonly number[] = [3, 0]): DecodeError {
  try {
    codec.decode(bytes, path as [number, number], testModel);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('SenML CBOR decoder robustness', () => {
  it('throws only DecodeError on 21 000 seeded random, mutated and near-valid inputs', () => {
    const report = fuzz(corpus, (bytes, i) =>
      codec.decode(bytes, FUZZ_PATHS[i % FUZZ_PATHS.length] ?? [], FUZZ_MODELS[i % 2] ?? EMPTY_MODEL),
    );
    expect(report.escapes).toEqual([]);
    expect(report.inputs).toBeGreaterThanOrEqual(20_000);
    expect(report.decoded).toBeGreaterThan(0);
  });

  it('throws only DecodeError from decodeSenmlRecords on 21 000 seeded inputs', () => {
    const report = fuzz(corpus, (bytes, i) =>
      decodeSenmlRecords(bytes, ContentFormat.SENML_CBOR, FUZZ_MODELS[i % 2] ?? EMPTY_MODEL, { now: 0 }),
    );
    expect(report.escapes).toEqual([]);
    expect(report.decoded).toBeGreaterThan(0);
  });

  it('wraps what cbor-x throws: truncation, trailing bytes, reserved values, impossible lengths', () => {
    expect(rejection(hex('81a221662f332f302f')).reason).toMatch(/malformed CBOR/);
    expect(rejection(hex('8080')).reason).toMatch(/malformed CBOR/);
    expect(rejection(hex('1c')).reason).toMatch(/malformed CBOR/);
    expect(rejection(hex('9b00000000ffffffff')).reason).toMatch(/malformed CBOR/);
    expect(rejection(hex('81bf21ff')).reason).toMatch(/malformed CBOR/);
  });

  it('survives nesting deep enough to overflow the stack, and self-referencing values (tags 28/29)', () => {
    const deep = new Uint8Array(200_001).fill(0x81);
    deep[200_000] = 0x00;
    expect(rejection(deep)).toBeInstanceOf(DecodeError);
    // 28([29(0)]): an array that contains itself
    expect(rejection(hex('d81c81d81d00'))).toBeInstanceOf(DecodeError);
    // [28({-2: 29(0)})]: a record whose base name is the record
    expect(rejection(hex('81d81ca121d81d00'))).toBeInstanceOf(DecodeError);
  });

  it('refuses wrong shapes: no array, records that are not maps, labels and fields of the wrong type', () => {
    expect(rejection(hex('a0')).reason).toMatch(/must be an array/);
    expect(rejection(hex('8101')).reason).toMatch(/must be a CBOR map/);
    expect(rejection(hex('81a1a000')).reason).toMatch(/label must be an integer or a text string/);
    expect(rejection(hex('81a10001')).reason).toMatch(/"n" must be a text string/);
    // [{0: "9", 2: "1"}]
    expect(rejection(hex('81a2006139026131')).reason).toMatch(/"v" must be a number/);
    expect(rejection(hex('81a221652f332f302f0401')).reason).toMatch(/"vb" must be a boolean/);
    expect(rejection(hex('81a221652f332f302f08f6')).reason).toMatch(/"vd" must be a byte string/);
    expect(rejection(hex('81a121c101')).reason).toMatch(/"bn" must be a text string/);
  });

  it('refuses a field given twice under its integer label and its name, and two values in a record', () => {
    // [{-2: "/3/0/", "bn": "/3/0/"}]
    expect(rejection(hex('81a221652f332f302f62626e652f332f302f')).reason).toMatch(/field "bn" twice/);
    // [{-2: "/3/0/9", 2: 1, 3: "1"}]
    expect(rejection(hex('81a321662f332f302f390201036131')).reason).toMatch(/both "v" and "vs"/);
  });
});
