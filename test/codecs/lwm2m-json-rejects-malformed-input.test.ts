import { describe, expect, it } from 'vitest';
import { ContentFormat, DecodeError } from '../../src/codecs/codec.js';
import { decodeLwm2mJsonRecords, lwm2mJsonCodec as codec } from '../../src/codecs/lwm2m-json/index.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { allFixtures, text } from './senml-family/fixtures.js';
import { FUZZ_MODELS, FUZZ_PATHS, fuzz, inputs, jsonSoup } from './senml-family/fuzz.js';
import { testModel } from './senml-family/test-model.js';

const seeds = allFixtures('lwm2m-json').map((f) => f.bytes);
/** 21 000 seeded inputs (a third random bytes, a third mutated golden vectors, a third near-valid), built once. */
const corpus = [...inputs(0x2d0f, 21_000, seeds, jsonSoup)];

function rejection(payload: string, path: readonly number[] = [3, 0]): DecodeError {
  try {
    codec.decode(text(payload), path as [number, number], testModel);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('LwM2M JSON decoder robustness', () => {
  it('throws only DecodeError on 21 000 seeded random, mutated and near-valid inputs', () => {
    const report = fuzz(corpus, (bytes, i) =>
      codec.decode(
        bytes,
        FUZZ_PATHS[i % FUZZ_PATHS.length] ?? [],
        FUZZ_MODELS[i % 2] ?? EMPTY_MODEL,
        i % 3 === 0 ? 1543 : 11543,
      ),
    );
    expect(report.escapes).toEqual([]);
    expect(report.inputs).toBeGreaterThanOrEqual(20_000);
    expect(report.decoded).toBeGreaterThan(0);
  });

  it('throws only DecodeError from decodeLwm2mJsonRecords on 21 000 seeded inputs', () => {
    const report = fuzz(corpus, (bytes, i) =>
      decodeLwm2mJsonRecords(bytes, FUZZ_MODELS[i % 2] ?? EMPTY_MODEL, ContentFormat.JSON),
    );
    expect(report.escapes).toEqual([]);
    expect(report.decoded).toBeGreaterThan(0);
  });

  it('refuses wrong shapes: no object, "e" missing or not an array, entries that are not objects', () => {
    expect(rejection('[]').reason).toMatch(/must be a JSON object/);
    expect(rejection('{"bn":"/3/0/"}').reason).toMatch(/"e" must be an array/);
    expect(rejection('{"e":{}}').reason).toMatch(/"e" must be an array/);
    expect(rejection('{"e":[1]}').reason).toMatch(/must be a JSON object/);
  });

  it('refuses fields of the wrong type and entries with two values', () => {
    expect(rejection('{"bn":3,"e":[]}').reason).toMatch(/"bn" must be a string/);
    expect(rejection('{"bt":"0","e":[]}').reason).toMatch(/"bt" must be a number/);
    expect(rejection('{"bn":"/3/0/","e":[{"n":0,"v":1}]}').reason).toMatch(/"n" must be a string/);
    expect(rejection('{"bn":"/3/0/","e":[{"n":"9","v":"1"}]}').reason).toMatch(/"v" must be a number/);
    expect(rejection('{"bn":"/3/0/","e":[{"n":"9","bv":"true"}]}').reason).toMatch(/"bv" must be a boolean/);
    expect(rejection('{"bn":"/3/0/","e":[{"n":"9","ov":3}]}').reason).toMatch(/"ov" must be a string/);
    expect(rejection('{"bn":"/3/0/","e":[{"n":"9","t":"now","v":1}]}').reason).toMatch(/"t" must be a number/);
    expect(rejection('{"bn":"/3/0/","e":[{"n":"9","v":1,"sv":"1"}]}').reason).toMatch(/both "v" and "sv"/);
  });

  it('refuses names that are not LwM2M paths or lie outside the request', () => {
    expect(rejection('{"bn":"/3/0/","e":[{"n":"nine","v":1}]}').reason).toMatch(/not an LwM2M path/);
    expect(rejection('{"bn":"/3/1/","e":[{"n":"9","v":1}]}').reason).toMatch(/outside the requested/);
    expect(rejection('{"bn":"/3/","e":[{"n":"0","v":1}]}').reason).toMatch(/resource or resource instance path/);
  });

  it('stops at hostile nesting', () => {
    expect(rejection('{"e":' + '['.repeat(50_000)).reason).toMatch(/nested deeper/);
  });
});
