import { describe, expect, it } from 'vitest';
import { ContentFormat, DecodeError } from '../../src/codecs/codec.js';
import { senmlJsonCodec as codec } from '../../src/codecs/senml-json/index.js';
import { decodeSenmlRecords } from '../../src/codecs/senml/records.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { allFixtures, text } from './senml-family/fixtures.js';
import { FUZZ_MODELS, FUZZ_PATHS, fuzz, inputs, jsonSoup } from './senml-family/fuzz.js';
import { testModel } from './senml-family/test-model.js';

const seeds = allFixtures('senml-json').map((f) => f.bytes);
/** 21 000 seeded inputs (a third random bytes, a third mutated golden vectors, a third near-valid), built once. */
const corpus = [...inputs(0x110, 21_000, seeds, jsonSoup)];

function rejection(payload: string | Uint8Array, path: readonly number[] = [3, 0]): DecodeError {
  try {
    codec.decode(typeof payload === 'string' ? text(payload) : payload, path as [number, number], testModel);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('SenML JSON decoder robustness', () => {
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
      decodeSenmlRecords(bytes, ContentFormat.SENML_JSON, FUZZ_MODELS[i % 2] ?? EMPTY_MODEL, { now: 0 }),
    );
    expect(report.escapes).toEqual([]);
    expect(report.decoded).toBeGreaterThan(0);
  });

  it('points at the byte where the JSON goes wrong, counting multi-byte characters', () => {
    expect(rejection('[{"bn":"/3/0/","n":"0","vs":"é"},{"n":"9","v":tru}]').offset).toBe(47);
    expect(rejection('[{"n":"/3/0/0","vs":"x"}] ,').offset).toBe(26);
    expect(rejection(new Uint8Array([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d])).reason).toMatch(/UTF-8/);
  });

  it('refuses wrong shapes: no array, records that are not objects, fields of the wrong type', () => {
    expect(rejection('{"bn":"/3/0/"}').reason).toMatch(/must be an array/);
    expect(rejection('[[]]').reason).toMatch(/JSON object/);
    expect(rejection('[{"n":9,"v":1}]').reason).toMatch(/"n" must be a string/);
    expect(rejection('[{"bn":"/3/0/","n":"9","v":"1"}]').reason).toMatch(/"v" must be a number/);
    expect(rejection('[{"bn":"/3/0/","n":"9","vb":1}]').reason).toMatch(/"vb" must be a boolean/);
    expect(rejection('[{"bn":"/3/0/","bt":"x","n":"9","v":1}]').reason).toMatch(/"bt" must be a number/);
    expect(rejection('[{"bn":"/3/0/","n":"5","vd":"not base64!"}]', [9999, 0]).reason).toMatch(/base64url/);
  });

  it('refuses records with two values, duplicate members and duplicate paths', () => {
    expect(rejection('[{"bn":"/3/0/","n":"9","v":1,"vs":"1"}]').reason).toMatch(/both "v" and "vs"/);
    expect(rejection('[{"bn":"/3/0/","n":"9","n":"10","v":1}]').reason).toMatch(/duplicate member "n"/);
    expect(rejection('[{"bn":"/3/0/","n":"9","v":1},{"n":"9","v":2}]').reason).toMatch(/appears twice/);
    expect(rejection('[{"bn":"/3/0/","n":"7","v":1},{"n":"7/0","v":2}]').reason).toMatch(/single value and instances/);
  });

  it('refuses names that are not LwM2M paths or lie outside the request', () => {
    expect(rejection('[{"n":"/3/0/x","v":1}]').reason).toMatch(/not an LwM2M path/);
    expect(rejection('[{"n":"/3/1/0","v":1}]').reason).toMatch(/outside the requested/);
    expect(rejection('[{"n":"/3/0/0/0/0","v":1}]').reason).toMatch(/not an LwM2M path/);
    expect(rejection('[{"n":"/3/0","v":1}]').reason).toMatch(/resource or resource instance path/);
    expect(rejection('[]', []).reason).toMatch(/root path/);
  });

  it('stops at hostile nesting, huge literals and control characters without running away', () => {
    expect(rejection('['.repeat(100_000)).reason).toMatch(/nested deeper/);
    // a 100 000-digit literal is read as a double (Infinity), never as a 100 000-digit bigint
    const huge = codec.decode(text(`[{"bn":"/3/0/","n":"9","v":${'9'.repeat(100_000)}}]`), [3, 0, 9], testModel);
    expect(huge).toEqual({ kind: 'resource', id: 9, value: { type: 'float', value: Infinity } });
    expect(rejection('[{"n":"/3/0/0","vs":"a\u0001"}]').reason).toMatch(/control character/);
    expect(rejection('[{"n":"/3/0/0","vs":"\\x"}]').reason).toMatch(/invalid escape/);
  });
});
