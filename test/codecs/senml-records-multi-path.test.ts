import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContentFormat, DecodeError, EncodeError } from '../../src/codecs/codec.js';
import { parseSenmlJson } from '../../src/codecs/senml-json/index.js';
import { resolveSenmlPack } from '../../src/codecs/senml/pack.js';
import {
  decodeSenmlRecords,
  encodeSenmlPaths,
  encodeSenmlRecords,
  type Lwm2mRecord,
  type SenmlContentFormat,
} from '../../src/codecs/senml/records.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import type { Lwm2mPath } from '../../src/model/path.js';
import { valueOf } from './senml-family/arbitraries.js';
import { fixture, text, toHex, utf8 } from './senml-family/fixtures.js';
import { bool, float, int, none, objlnk, str } from './senml-family/nodes.js';
import { MULTIPLE_OFFSET, SINGLE_TYPES, TEST_OBJECT, testModel } from './senml-family/test-model.js';

const JSON_CF = ContentFormat.SENML_JSON;
const CBOR_CF = ContentFormat.SENML_CBOR;
const NOW = 1_700_000_000;
const both: ReadonlyArray<readonly [string, SenmlContentFormat]> = [
  ['senml-json', JSON_CF],
  ['senml-cbor', CBOR_CF],
];
const compact = (name: string): string => utf8(fixture('senml-json', name).bytes).replace(/\n\s*/g, '');

describe('SenML records: multi-path payloads', () => {
  it.each(both)(
    'resolves the time series of Table 7.4.4-3 (%s): bt below 2^28 is relative to now (RFC 8428 §4.5.3)',
    (format, cf) => {
      expect(decodeSenmlRecords(fixture(format, 'historical-72').bytes, cf, EMPTY_MODEL, { now: NOW })).toEqual([
        { path: [72, 1, 2], value: float(22.4), time: NOW + 25462634 - 5 },
        { path: [72, 1, 2], value: float(22.9), time: NOW + 25462634 - 30 },
        { path: [72, 1, 2], value: float(24.1), time: NOW + 25462634 - 50 },
      ]);
    },
  );

  it('reads relative times against the clock when no "now" is given', () => {
    const before = Date.now() / 1000;
    const [record] = decodeSenmlRecords(text('[{"n":"/3/0/9","v":1,"t":-10}]'), JSON_CF, EMPTY_MODEL);
    const after = Date.now() / 1000;
    expect(record?.time).toBeGreaterThanOrEqual(before - 10);
    expect(record?.time).toBeLessThanOrEqual(after - 10);
  });

  it.each(both)('decodes the object links across objects of Table 7.4.4-4 (%s)', (format, cf) => {
    const records = decodeSenmlRecords(fixture(format, 'objlnk-composite-root').bytes, cf, testModel);
    expect(records).toHaveLength(12);
    expect(records.slice(0, 4)).toEqual([
      { path: [65, 0, 0, 0], value: objlnk(66, 0) },
      { path: [65, 0, 0, 1], value: objlnk(66, 1) },
      { path: [65, 0, 1], value: str('8613800755500') },
      { path: [65, 0, 2], value: int(1) },
    ]);
    expect(records[9]).toEqual({ path: [66, 1, 2], value: objlnk(65535, 65535) });
    expect(records[11]).toEqual({ path: [67, 0, 1], value: str('85.76.255.255') });
  });

  it.each(both)(
    'reads the names of a Read-Composite request (Table 7.4.4-6, %s) as value-less records',
    (format, cf) => {
      expect(decodeSenmlRecords(fixture(format, 'read-composite-request').bytes, cf, testModel)).toEqual([
        { path: [3, 0, 0], value: none },
        { path: [3, 0, 9], value: none },
        { path: [1, 0, 1], value: none },
      ]);
    },
  );

  it('writes a Read-Composite request exactly as Table 7.4.4-6', () => {
    const paths: Lwm2mPath[] = [
      [3, 0, 0],
      [3, 0, 9],
      [1, 0, 1],
    ];
    expect(utf8(encodeSenmlPaths(paths, JSON_CF))).toBe(compact('read-composite-request'));
    expect(toHex(encodeSenmlPaths(paths, CBOR_CF))).toBe(toHex(fixture('senml-cbor', 'read-composite-request').bytes));
  });

  it.each(both)('decodes the Read-Composite response (Table 7.4.4-7, %s) typed by the model', (format, cf) => {
    expect(decodeSenmlRecords(fixture(format, 'read-composite-response').bytes, cf, testModel)).toEqual([
      { path: [3, 0, 0], value: str('Open Mobile Alliance') },
      { path: [3, 0, 9], value: int(95) },
      { path: [1, 0, 1], value: int(86400) },
    ]);
  });

  it('writes composite values as Leshan does: one base name per record', () => {
    const records: Lwm2mRecord[] = [
      { path: [3, 0, 0], value: str('Open Mobile Alliance') },
      { path: [3, 0, 9], value: int(95) },
      { path: [1, 0, 1], value: int(86400) },
    ];
    expect(utf8(encodeSenmlRecords(records, JSON_CF))).toBe(
      '[{"bn":"/3/0/0","vs":"Open Mobile Alliance"},{"bn":"/3/0/9","v":95},{"bn":"/1/0/1","v":86400}]',
    );
    expect(decodeSenmlRecords(encodeSenmlRecords(records, CBOR_CF), CBOR_CF, testModel)).toEqual(records);
  });

  it.each(both)('decodes the Write-Composite request of Table 7.4.4-8 (%s)', (format, cf) => {
    expect(decodeSenmlRecords(fixture(format, 'write-composite').bytes, cf, testModel)).toEqual([
      { path: [3311, 0, 5850], value: bool(false) },
      { path: [3311, 1, 5850], value: bool(false) },
      { path: [3311, 2, 5851], value: int(20) },
      { path: [3308, 0, 5900], value: float(18) },
    ]);
  });

  it('writes timestamped values with bt, byte for byte as Leshan (absolute times at or above 2^28)', () => {
    const records = decodeSenmlRecords(fixture('senml-json', 'timestamped-resources').bytes, JSON_CF, testModel);
    expect(records).toEqual([
      { path: [1024, 0, 1], value: float(22.9), time: 268500000 },
      { path: [1024, 0, 1], value: float(22.4), time: 268500010 },
      { path: [1024, 0, 1], value: float(24.1), time: 268500020 },
    ]);
    expect(utf8(encodeSenmlRecords(records, JSON_CF))).toBe(compact('timestamped-resources'));
  });

  it('reads base times written as CBOR decimal fractions (tag 4, Leshan vector)', () => {
    expect(
      decodeSenmlRecords(fixture('senml-cbor', 'timestamped-decimal-fraction').bytes, CBOR_CF, EMPTY_MODEL),
    ).toEqual([
      { path: [0, 0, 0], value: str('SampleString'), time: 500000004 },
      { path: [0, 0, 1], value: bool(false), time: 500000005 },
      { path: [0, 0, 2], value: int(456), time: 500000006 },
    ]);
  });

  it('gives a record without time after a timed one bt 0, which reads back as "now"', () => {
    const encoded = encodeSenmlRecords(
      [
        { path: [3, 0, 9], value: int(1), time: 300000000 },
        { path: [3, 0, 10], value: int(2) },
      ],
      JSON_CF,
    );
    expect(utf8(encoded)).toBe('[{"bn":"/3/0/9","bt":300000000,"v":1},{"bn":"/3/0/10","bt":0,"v":2}]');
    expect(decodeSenmlRecords(encoded, JSON_CF, testModel, { now: NOW })[1]).toEqual({
      path: [3, 0, 10],
      value: int(2),
      time: NOW,
    });
  });

  it('resolves base name, base time and relative times of the RFC 8428 §5.1.3 example (§4.6)', () => {
    const resolved = resolveSenmlPack(
      parseSenmlJson(fixture('senml-json', 'rfc8428-multiple-measurements').bytes, JSON_CF),
      JSON_CF,
    );
    expect(resolved.map((record) => record.name)).toEqual([
      'urn:dev:ow:10e2073a0108006:voltage',
      ...new Array<string>(6).fill('urn:dev:ow:10e2073a0108006:current'),
    ]);
    const base = 1.276020076001e9;
    expect(resolved.map((record) => record.time)).toEqual([
      base,
      base - 5,
      base - 4,
      base - 3,
      base - 2,
      base - 1,
      base,
    ]);
    expect(resolved.map((record) => record.value)).toEqual(
      [120.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7].map((value) => ({ kind: 'number', value })),
    );
    // names that are not LwM2M paths cannot become LwM2M records
    expect(() =>
      decodeSenmlRecords(fixture('senml-json', 'rfc8428-multiple-measurements').bytes, JSON_CF, EMPTY_MODEL),
    ).toThrow(/not an LwM2M path/);
  });

  it('refuses a value on an object or instance path, a bad name, and a content format that is not SenML', () => {
    expect(() => decodeSenmlRecords(text('[{"n":"/3/0","v":1}]'), JSON_CF, EMPTY_MODEL)).toThrow(
      /resource or resource instance path/,
    );
    expect(() => decodeSenmlRecords(text('[{"n":"/3/0/99999","v":1}]'), JSON_CF, EMPTY_MODEL)).toThrow(DecodeError);
    expect(() => decodeSenmlRecords(text('[]'), 60 as SenmlContentFormat, EMPTY_MODEL)).toThrow(DecodeError);
    expect(() => encodeSenmlRecords([{ path: [3, 0], value: int(1) }], JSON_CF)).toThrow(EncodeError);
    expect(() => encodeSenmlPaths([[3, 70000]], CBOR_CF)).toThrow(EncodeError);
  });

  it.each(both)('round-trips lists of timed or untimed records (%s)', (_format, cf) => {
    const options = { emptyContainers: false, floats: cf === JSON_CF ? 'json' : 'cbor' } as const;
    const rids = [...SINGLE_TYPES.keys(), ...SINGLE_TYPES.slice(0, -1).map((_, i) => i + MULTIPLE_OFFSET)];
    const record = fc
      .tuple(fc.integer({ min: 0, max: 65534 }), fc.constantFrom(...rids), fc.integer({ min: 0, max: 65535 }))
      .chain(([iid, rid, riid]) => {
        const type = SINGLE_TYPES[
          rid >= MULTIPLE_OFFSET ? rid - MULTIPLE_OFFSET : rid
        ] as (typeof SINGLE_TYPES)[number];
        const path: Lwm2mPath = rid >= MULTIPLE_OFFSET ? [TEST_OBJECT, iid, rid, riid] : [TEST_OBJECT, iid, rid];
        return valueOf(type, options).map((value) => ({ path, value }));
      });
    const timed = fc
      .array(fc.tuple(record, fc.integer({ min: 2 ** 28, max: 2 ** 40 })), { maxLength: 6 })
      .map((list) => list.map(([r, time]): Lwm2mRecord => ({ ...r, time })));
    const untimed = fc.array(record, { maxLength: 6 });
    fc.assert(
      fc.property(fc.oneof(timed, untimed), (records) => {
        expect(decodeSenmlRecords(encodeSenmlRecords(records, cf), cf, testModel)).toEqual(records);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
