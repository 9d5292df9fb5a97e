/**
 * Round-trip properties: decode(encode(node)) deep-equals node, for nodes generated over the test
 * model, at every path level each format supports. Seeded so that a failure reproduces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cborCodec } from '../../src/codecs/cbor/index.js';
import type { Codec } from '../../src/codecs/codec.js';
import { opaqueCodec } from '../../src/codecs/opaque/index.js';
import { textCodec } from '../../src/codecs/text/index.js';
import { tlvCodec } from '../../src/codecs/tlv/index.js';
import type { Lwm2mNode, Lwm2mValue } from '../../src/model/node.js';
import { EMPTY_MODEL, type ModelProvider } from '../../src/model/object-model.js';
import type { Lwm2mPath } from '../../src/model/path.js';
import {
  UNDEFINED_SINGLE_IDS,
  tlvInstanceArb,
  tlvObjectArb,
  tlvResourceArb,
  tlvResourceInstanceArb,
  unknownArb,
  valueArb,
  type Flavour,
} from './arbitraries.js';
import { MULTIPLE_ID, SCALAR_TYPES, SINGLE_ID, TEST_OBJECT_ID, testModel } from './helpers.js';

const SEED = 0x1f2e3d;
const RUNS = 300;

function roundTrips(codec: Codec, node: Lwm2mNode, path: Lwm2mPath, model: ModelProvider = testModel): void {
  const bytes = codec.encode(node, path, model);
  expect(codec.decode(bytes, path, model)).toEqual(node);
}

describe('TLV round trip', () => {
  it('objects at /1000', () => {
    fc.assert(
      fc.property(tlvObjectArb, (node) => roundTrips(tlvCodec, node, [TEST_OBJECT_ID])),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('object instances at /1000/i, under both content formats', () => {
    fc.assert(
      fc.property(tlvInstanceArb, fc.constantFrom(11542, 1542), (node, cf) => {
        const bytes = tlvCodec.encode(node, [TEST_OBJECT_ID, node.id], testModel, cf);
        expect(tlvCodec.decode(bytes, [TEST_OBJECT_ID, node.id], testModel, cf)).toEqual(node);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('resources at /1000/0/r', () => {
    fc.assert(
      fc.property(tlvResourceArb, (node) => roundTrips(tlvCodec, node, [TEST_OBJECT_ID, 0, node.id])),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('resource instances at /1000/0/r/i', () => {
    fc.assert(
      fc.property(tlvResourceInstanceArb, ({ resourceId, node }) => roundTrips(tlvCodec, node, [TEST_OBJECT_ID, 0, resourceId, node.id])),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('untyped instances keep every byte (no model: all values unknown)', () => {
    fc.assert(
      fc.property(tlvInstanceArb, (node) => {
        const bytes = tlvCodec.encode(node, [TEST_OBJECT_ID, node.id], testModel);
        const untyped = tlvCodec.decode(bytes, [TEST_OBJECT_ID, node.id], EMPTY_MODEL);
        expect(tlvCodec.encode(untyped, [TEST_OBJECT_ID, node.id], EMPTY_MODEL)).toEqual(bytes);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

/** One value of each type, at its single resource and as an instance of its multiple resource. */
function singleValueProperty(codec: Codec, flavour: Flavour, types: readonly (typeof SCALAR_TYPES)[number][]): void {
  for (const type of types) {
    it(`${type} at a resource and at a resource instance`, () => {
      fc.assert(
        fc.property(valueArb(type, flavour), id16Arb, (value, riid) => {
          roundTrips(codec, { kind: 'resource', id: SINGLE_ID[type], value }, [TEST_OBJECT_ID, 0, SINGLE_ID[type]]);
          roundTrips(codec, { kind: 'resourceInstance', id: riid, value }, [TEST_OBJECT_ID, 0, MULTIPLE_ID[type], riid]);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }
}

const id16Arb = fc.integer({ min: 0, max: 0xffff });

describe('text/plain round trip', () => {
  singleValueProperty(textCodec, 'text', SCALAR_TYPES);

  it('unknown bytes of an undefined resource', () => {
    fc.assert(
      fc.property(unknownArb, fc.constantFrom(...UNDEFINED_SINGLE_IDS), (value, id) =>
        roundTrips(textCodec, { kind: 'resource', id, value }, [TEST_OBJECT_ID, 0, id], EMPTY_MODEL),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('CBOR round trip', () => {
  singleValueProperty(cborCodec, 'cbor', SCALAR_TYPES);

  it('values whose type CBOR itself carries, without a model', () => {
    const inferable = fc.oneof(
      ...(['string', 'integer', 'float', 'boolean', 'opaque'] as const).map((t) => valueArb(t, 'cbor')),
      // an integer above INT64_MAX can only be an unsignedInteger
      fc.bigInt({ min: 2n ** 63n, max: 2n ** 64n - 1n }).map((value): Lwm2mValue => ({ type: 'unsignedInteger', value })),
      valueArb('time', 'cbor'),
      fc.constantFrom<Lwm2mValue>({ type: 'unknown', value: Uint8Array.of(0xf6) }, { type: 'unknown', value: Uint8Array.of(0xf7) }),
    );
    fc.assert(
      fc.property(inferable, (value) => roundTrips(cborCodec, { kind: 'resource', id: 200, value }, [TEST_OBJECT_ID, 0, 200], EMPTY_MODEL)),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('octet-stream round trip', () => {
  singleValueProperty(opaqueCodec, 'tlv', ['opaque']);
});
