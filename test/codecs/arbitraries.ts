/**
 * fast-check generators of node trees typed by the test model (helpers.ts, object 1000), per
 * format flavour: each format has values it cannot carry (NaN in text, objlnk without a model in
 * CBOR...), and a round trip is only promised for what the format carries.
 */
import fc from 'fast-check';
import type {
  Lwm2mValue,
  MultipleResourceNode,
  ObjectInstanceNode,
  ObjectNode,
  ResourceInstanceNode,
  ResourceNode,
} from '../../src/model/node.js';
import { INT64_MAX, INT64_MIN, UINT64_MAX, normaliseInteger } from '../../src/codecs/scalars.js';
import { EXECUTABLE_ID, MULTIPLE_ID, SCALAR_TYPES, SINGLE_ID } from './helpers.js';

export type Flavour = 'tlv' | 'text' | 'cbor';
export type ScalarType = (typeof SCALAR_TYPES)[number];

const id16 = fc.integer({ min: 0, max: 0xffff });
const text = fc.string({ unit: 'grapheme', maxLength: 24 });

const integer = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map(normaliseInteger),
  fc.constantFrom(-129, -128, 127, 128, -32769, 32767, 32768, 2 ** 31 - 1, -(2 ** 31), 2 ** 31),
);
const unsigned = fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: UINT64_MAX }).map(normaliseInteger), fc.constantFrom(255, 256, 65535, 65536));

function floats(flavour: Flavour): fc.Arbitrary<number> {
  // text/plain has no form for NaN and the infinities; TLV and CBOR carry every double.
  const double = flavour === 'text' ? fc.double({ noNaN: true, noDefaultInfinity: true }) : fc.double();
  // fc.float() values are exactly representable in float32, exercising TLV's 4-byte form.
  const single = fc.float({ noNaN: flavour === 'text', noDefaultInfinity: flavour === 'text' });
  return fc.oneof(double, single, fc.integer());
}

function times(flavour: Flavour): fc.Arbitrary<number> {
  if (flavour !== 'cbor') return fc.oneof(fc.integer(), fc.maxSafeInteger());
  // CBOR tag 1 also carries fractional seconds. -0 is left out: it is written as the integer 0.
  return fc.oneof(
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
  );
}

export function valueArb(type: ScalarType, flavour: Flavour): fc.Arbitrary<Lwm2mValue> {
  switch (type) {
    case 'string':
      return text.map((value) => ({ type, value }));
    case 'corelnk':
      return text.map((value) => ({ type, value }));
    case 'integer':
      return integer.map((value) => ({ type, value }));
    case 'unsignedInteger':
      return unsigned.map((value) => ({ type, value }));
    case 'float':
      return floats(flavour).map((value) => ({ type, value }));
    case 'boolean':
      return fc.boolean().map((value) => ({ type, value }));
    case 'opaque':
      return fc.uint8Array({ maxLength: 300 }).map((value) => ({ type, value }));
    case 'time':
      return times(flavour).map((value) => ({ type, value }));
    case 'objlnk':
      return fc.record({ objectId: id16, instanceId: id16 }).map((value) => ({ type, value }));
  }
}

export const unknownArb: fc.Arbitrary<Lwm2mValue> = fc.uint8Array({ maxLength: 20 }).map((value) => ({ type: 'unknown', value }));

/** Resource ids of object 1000 that the model does not define (values decode to `unknown`). */
export const UNDEFINED_SINGLE_IDS = [200, 201, 202] as const;
export const UNDEFINED_MULTIPLE_IDS = [210, 211] as const;

function resourceInstances(id: number, value: fc.Arbitrary<Lwm2mValue>): fc.Arbitrary<MultipleResourceNode> {
  return fc.uniqueArray(fc.record({ id: id16, value }), { selector: (r) => r.id, maxLength: 4 }).map((instances) => ({
    kind: 'multipleResource',
    id,
    instances: instances.map((i): ResourceInstanceNode => ({ kind: 'resourceInstance', ...i })),
  }));
}

/** Every resource of object 1000 a TLV instance can hold, each with its generator. */
const TLV_RESOURCES: readonly fc.Arbitrary<ResourceNode>[] = [
  ...SCALAR_TYPES.map((t) => valueArb(t, 'tlv').map((value): ResourceNode => ({ kind: 'resource', id: SINGLE_ID[t], value }))),
  ...SCALAR_TYPES.map((t) => resourceInstances(MULTIPLE_ID[t], valueArb(t, 'tlv'))),
  fc.constant<ResourceNode>({ kind: 'resource', id: EXECUTABLE_ID, value: { type: 'none', value: null } }),
  ...UNDEFINED_SINGLE_IDS.map((id) => unknownArb.map((value): ResourceNode => ({ kind: 'resource', id, value }))),
  ...UNDEFINED_MULTIPLE_IDS.map((id) => resourceInstances(id, unknownArb)),
];

export const tlvInstanceArb: fc.Arbitrary<ObjectInstanceNode> = fc
  .tuple(fc.integer({ min: 0, max: 0xfffe }), fc.shuffledSubarray([...TLV_RESOURCES.keys()]))
  .chain(([id, picks]) =>
    fc
      .tuple(...picks.map((i) => TLV_RESOURCES[i] as fc.Arbitrary<ResourceNode>))
      .map((resources): ObjectInstanceNode => ({ kind: 'instance', id, resources })),
  );

export const tlvObjectArb: fc.Arbitrary<ObjectNode> = fc
  .uniqueArray(tlvInstanceArb, { selector: (i) => i.id, maxLength: 3 })
  .map((instances) => ({ kind: 'object', id: 1000, instances }));

/** Any single TLV resource of object 1000 (single or multiple). */
export const tlvResourceArb: fc.Arbitrary<ResourceNode> = fc.oneof(...TLV_RESOURCES);

/** A resource instance of a multiple resource of object 1000, with the resource id it belongs to. */
export const tlvResourceInstanceArb: fc.Arbitrary<{ resourceId: number; node: ResourceInstanceNode }> = fc
  .constantFrom(...SCALAR_TYPES)
  .chain((t) =>
    fc
      .record({ id: id16, value: valueArb(t, 'tlv') })
      .map((r) => ({ resourceId: MULTIPLE_ID[t], node: { kind: 'resourceInstance', ...r } as ResourceInstanceNode })),
  );
