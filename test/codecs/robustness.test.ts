/**
 * Totality: every decoder, fed 20 000+ random and mutated inputs (seeded, so reproducible), returns a
 * node or throws DecodeError — never another exception, never a hang. Corpora are the golden
 * vectors and typical payloads, so that mutations land in deep, structured code paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cborCodec } from '../../src/codecs/cbor/index.js';
import type { Codec } from '../../src/codecs/codec.js';
import { opaqueCodec } from '../../src/codecs/opaque/index.js';
import { decodePayload } from '../../src/codecs/registry.js';
import { textCodec } from '../../src/codecs/text/index.js';
import { tlvCodec } from '../../src/codecs/tlv/index.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import type { Lwm2mPath } from '../../src/model/path.js';
import {
  MULTIPLE_ID,
  SCALAR_TYPES,
  SINGLE_ID,
  expectOnlyDecodeErrors,
  fromHex,
  fuzzInputs,
  loadTlvFixture,
  testModel,
  tlvFixtureNames,
} from './helpers.js';
import { float, int, objlnk, opaque, res, str, time, uint } from './nodes.js';

const INPUTS = 20_000;

/** Decodes each input at a path and model picked round-robin, so all path levels see all inputs kinds. */
function fuzz(codec: Codec, seed: number, corpus: readonly Uint8Array[], paths: readonly Lwm2mPath[]): void {
  let i = 0;
  const stats = expectOnlyDecodeErrors(fuzzInputs(seed, INPUTS, corpus), (bytes) => {
    const path = paths[i % paths.length] as Lwm2mPath;
    const model = i++ % 5 === 0 ? EMPTY_MODEL : testModel;
    return codec.decode(bytes, path, model);
  });
  expect(stats.decoded + stats.rejected).toBe(INPUTS);
  // the corpus keeps a good share of inputs decodable: the fuzzing reaches value decoding
  expect(stats.decoded).toBeGreaterThan(INPUTS / 50);
}

const singleValuePaths: Lwm2mPath[] = [
  ...SCALAR_TYPES.map((t): Lwm2mPath => [1000, 0, SINGLE_ID[t]]),
  ...SCALAR_TYPES.map((t): Lwm2mPath => [1000, 0, MULTIPLE_ID[t], 3]),
  [1000, 0, 10],
  [1000, 0, 200],
  [1000, 0],
];

describe('decoders are total', () => {
  // Most mutated inputs are rejected, and capturing a stack trace for each DecodeError costs more than
  // the decoding itself; stacks say nothing about totality, so they are off for these runs.
  let stackTraceLimit: number;
  beforeAll(() => {
    stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });

  it('TLV', () => {
    const corpus = tlvFixtureNames().map((n) => loadTlvFixture(n).bytes);
    const paths: Lwm2mPath[] = [
      ...tlvFixtureNames().map((n) => loadTlvFixture(n).path),
      [1000],
      [1000, 0],
      [1000, 300],
      [1000, 0, 302],
      [1000, 0, 302, 1],
      [1000, 0, 1],
      [3, 0, 7, 1],
      [],
    ];
    fuzz(tlvCodec, 1, corpus, paths);
  });

  it('text/plain', () => {
    const corpus = [
      '0',
      '1',
      '-42',
      '18446744073709551615',
      '3.14',
      '-1.5e-3',
      '3:0',
      '65535:65535',
      'AQIDBA==',
      'héllo',
      '</3/0>',
      '',
    ].map((s) => new TextEncoder().encode(s));
    fuzz(textCodec, 3, corpus, singleValuePaths);
  });

  it('application/octet-stream', () => {
    fuzz(opaqueCodec, 4, [Uint8Array.of(1, 2, 3)], singleValuePaths);
  });

  it('CBOR', () => {
    const values = [
      res(2, int(-1000)),
      res(2, int(2n ** 62n)),
      res(3, uint(2n ** 64n - 1n)),
      res(4, float(1.1)),
      res(1, str('IETF')),
      res(6, opaque(1, 2, 3, 4)),
      res(7, time(1363896240)),
      res(7, time(1.5)),
      res(8, objlnk(3, 0)),
    ];
    const corpus = [
      ...values.map((node) => cborCodec.encode(node, [1000, 0, node.id], testModel)),
      ...['F93C00', 'F5', 'F6', 'C24101', 'C34101', '820102', 'A0', '7F6161FF', '5F4101FF', 'D8FF00', 'C0', 'C11A514B67B0'].map(fromHex),
    ];
    fuzz(cborCodec, 5, corpus, singleValuePaths);
  });

  it('the registry, for any content format', () => {
    const corpus = tlvFixtureNames().map((n) => loadTlvFixture(n).bytes);
    const formats = [0, 42, 60, 1542, 11542, 110, 9999];
    let i = 0;
    expectOnlyDecodeErrors(fuzzInputs(6, INPUTS, corpus), (bytes) => {
      const result = decodePayload(formats[i % formats.length] as number, bytes, [3, 0, 7, i++ % 3], testModel);
      if (!result.ok) throw result.error;
      return result.node;
    });
  });
});
