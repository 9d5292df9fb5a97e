/**
 * fast-check arbitraries for typed nodes of test object 9999 at a path, for the
 * round-trip properties of the SenML JSON/CBOR, LwM2M JSON and LwM2M CBOR codecs.
 */
import fc from 'fast-check';
import type {
  Lwm2mNode,
  Lwm2mValue,
  ObjectInstanceNode,
  ResourceInstanceNode,
  ResourceNode,
} from '../../../src/model/node.js';
import type { Lwm2mPath } from '../../../src/model/path.js';
import { MULTIPLE_OFFSET, SINGLE_TYPES, TEST_OBJECT } from './test-model.js';

export interface NodeOptions {
  /** Whether instances and multiple resources inside the node may be empty (LwM2M CBOR can say so, SenML cannot). */
  readonly emptyContainers: boolean;
  /** Floats the format can carry: JSON has no NaN/Infinity, cbor-x writes -0 as the integer 0. */
  readonly floats: 'json' | 'cbor';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function normalize(value: bigint): number | bigint {
  return Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value ? Number(value) : value;
}

type SingleType = (typeof SINGLE_TYPES)[number];

/** Any Unicode scalar value (no lone surrogates: UTF-8 cannot carry them); fc's 'binary' unit costs seconds to set up. */
const codePoint = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0x10ffff }),
  )
  .map((code) => String.fromCodePoint(code));
const anyText = fc.string({ unit: codePoint, maxLength: 12 });

export function valueOf(type: SingleType, options: NodeOptions): fc.Arbitrary<Lwm2mValue> {
  switch (type) {
    case 'string':
      return anyText.map((value) => ({ type, value }));
    case 'corelnk':
      return anyText.map((value) => ({ type, value }));
    case 'integer':
      return fc
        .oneof(
          fc.integer().map(BigInt),
          fc.bigInt(INT64_MIN, INT64_MAX),
          fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n, 2n ** 53n, 2n ** 32n),
        )
        .map((value) => ({ type, value: normalize(value) }));
    case 'unsignedInteger':
      return fc
        .oneof(fc.bigInt(0n, UINT64_MAX), fc.constantFrom(0n, UINT64_MAX, 2n ** 63n, 2n ** 32n - 1n))
        .map((value) => ({ type, value: normalize(value) }));
    case 'float':
      return (
        options.floats === 'json'
          ? fc.double({ noNaN: true, noDefaultInfinity: true })
          : fc.double().filter((value) => !Object.is(value, -0))
      ).map((value) => ({ type, value }));
    case 'boolean':
      return fc.boolean().map((value) => ({ type, value }));
    case 'opaque':
      return fc.uint8Array({ maxLength: 16 }).map((value) => ({ type, value }));
    case 'time':
      return fc
        .oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 40 }), fc.maxSafeInteger())
        .map((value) => ({ type, value: value === 0 ? 0 : value }));
    case 'objlnk':
      return fc
        .record({ objectId: fc.integer({ min: 0, max: 65535 }), instanceId: fc.integer({ min: 0, max: 65535 }) })
        .map((value) => ({ type, value }));
    case 'none':
      return fc.constant({ type, value: null });
  }
}

const MULTIPLE_RIDS = SINGLE_TYPES.filter((type) => type !== 'none').map((_, index) => index + MULTIPLE_OFFSET);

function typeOf(rid: number): SingleType {
  return SINGLE_TYPES[rid >= MULTIPLE_OFFSET ? rid - MULTIPLE_OFFSET : rid] as SingleType;
}

const id = fc.integer({ min: 0, max: 65535 });
const instanceId = fc.integer({ min: 0, max: 65534 });

function resourceInstances(rid: number, options: NodeOptions, minLength: number): fc.Arbitrary<ResourceInstanceNode[]> {
  return fc
    .uniqueArray(id, { minLength, maxLength: 3 })
    .chain((ids) =>
      fc.tuple(
        ...ids.map((riid) =>
          valueOf(typeOf(rid), options).map((value): ResourceInstanceNode => ({
            kind: 'resourceInstance',
            id: riid,
            value,
          })),
        ),
      ),
    );
}

function resource(rid: number, options: NodeOptions, nested: boolean): fc.Arbitrary<ResourceNode> {
  if (rid < MULTIPLE_OFFSET)
    return valueOf(typeOf(rid), options).map((value): ResourceNode => ({ kind: 'resource', id: rid, value }));
  const minLength = nested && !options.emptyContainers ? 1 : 0;
  return resourceInstances(rid, options, minLength).map((instances): ResourceNode => ({
    kind: 'multipleResource',
    id: rid,
    instances,
  }));
}

const ALL_RIDS = [...SINGLE_TYPES.keys(), ...MULTIPLE_RIDS];

/** `topLevel`: the instance is the node at the path, so an empty one still has its place (the request path). */
function instance(iid: number, options: NodeOptions, topLevel: boolean): fc.Arbitrary<ObjectInstanceNode> {
  return fc
    .shuffledSubarray(ALL_RIDS, { minLength: options.emptyContainers || topLevel ? 0 : 1, maxLength: 6 })
    .chain((rids) => fc.tuple(...rids.map((rid) => resource(rid, options, true))))
    .map((resources): ObjectInstanceNode => ({ kind: 'instance', id: iid, resources }));
}

export interface NodeAtPath {
  readonly node: Lwm2mNode;
  readonly path: Lwm2mPath;
}

/** A node of object 9999 at any level, with the path it answers. */
export function nodeAtPath(options: NodeOptions): fc.Arbitrary<NodeAtPath> {
  const object = fc
    .uniqueArray(instanceId, { minLength: 0, maxLength: 3 })
    .chain((iids) => fc.tuple(...iids.map((iid) => instance(iid, options, false))))
    .map((instances): NodeAtPath => ({ node: { kind: 'object', id: TEST_OBJECT, instances }, path: [TEST_OBJECT] }));
  const inst = instanceId.chain((iid) =>
    instance(iid, options, true).map((node): NodeAtPath => ({ node, path: [TEST_OBJECT, iid] })),
  );
  const res = fc
    .tuple(instanceId, fc.constantFrom(...ALL_RIDS))
    .chain(([iid, rid]) =>
      resource(rid, options, false).map((node): NodeAtPath => ({ node, path: [TEST_OBJECT, iid, rid] })),
    );
  const resInstance = fc
    .tuple(instanceId, fc.constantFrom(...MULTIPLE_RIDS), id)
    .chain(([iid, rid, riid]) =>
      valueOf(typeOf(rid), options).map((value): NodeAtPath => ({
        node: { kind: 'resourceInstance', id: riid, value },
        path: [TEST_OBJECT, iid, rid, riid],
      })),
    );
  return fc.oneof(object, inst, res, resInstance);
}
