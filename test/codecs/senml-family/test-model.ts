/**
 * A small in-memory object model for the SenML JSON/CBOR, LwM2M JSON and LwM2M CBOR
 * suites (the DDF loader lives elsewhere). Object 9999 has one resource per data
 * type: singles at 0..9, multiples of the same types at 10..18.
 */
import type { ResourceType } from '../../../src/model/node.js';
import type { ModelProvider, ObjectModel, ResourceModel } from '../../../src/model/object-model.js';

type Spec = readonly [id: number, type: ResourceType, multiple?: boolean];

function object(id: number, specs: readonly Spec[]): ObjectModel {
  const resources = new Map<number, ResourceModel>(
    specs.map(([rid, type, multiple = false]) => [
      rid,
      { id: rid, name: `r${rid}`, operations: type === 'none' ? 'E' : 'RW', multiple, mandatory: false, type },
    ]),
  );
  return { id, name: `o${id}`, version: '1.0', lwm2mVersion: '1.1', multiple: true, mandatory: false, resources };
}

export const TEST_OBJECT = 9999;
export const SINGLE_TYPES = [
  'string',
  'integer',
  'unsignedInteger',
  'float',
  'boolean',
  'opaque',
  'time',
  'objlnk',
  'corelnk',
  'none',
] as const satisfies readonly ResourceType[];
/** Resource ids of object 9999: `rid` has SINGLE_TYPES[rid]; `rid + 10` is the multiple variant (not for none). */
export const MULTIPLE_OFFSET = 10;

const objects: ObjectModel[] = [
  object(0, [[3, 'opaque']]),
  object(1, [[1, 'integer']]),
  object(3, [
    [0, 'string'],
    [1, 'string'],
    [2, 'string'],
    [3, 'string'],
    [4, 'none'],
    [6, 'integer', true],
    [7, 'integer', true],
    [8, 'integer', true],
    [9, 'integer'],
    [10, 'integer'],
    [11, 'integer', true],
    [13, 'time'],
    [14, 'string'],
    [15, 'string'],
    [16, 'string'],
  ]),
  // shaped after the entries of Anjay Lite's all_data_types_notify_msg vector
  object(8, [
    [0, 'integer'],
    [1, 'unsignedInteger'],
    [2, 'time'],
    [3, 'string'],
    [4, 'opaque'],
    [5, 'boolean'],
    [6, 'objlnk'],
    [7, 'float'],
  ]),
  object(65, [
    [0, 'objlnk', true],
    [1, 'string'],
    [2, 'integer'],
  ]),
  object(66, [
    [0, 'string'],
    [1, 'string'],
    [2, 'objlnk'],
  ]),
  object(67, [
    [0, 'string'],
    [1, 'string'],
  ]),
  object(1024, [[1, 'float']]),
  object(3308, [[5900, 'float']]),
  object(3311, [
    [5850, 'boolean'],
    [5851, 'integer'],
  ]),
  object(TEST_OBJECT, [
    ...SINGLE_TYPES.map((type, rid): Spec => [rid, type]),
    ...SINGLE_TYPES.filter((type) => type !== 'none').map((type, index): Spec => [index + MULTIPLE_OFFSET, type, true]),
  ]),
];

const byId = new Map(objects.map((o) => [o.id, o]));

export const testModel: ModelProvider = { getObject: (objectId) => byId.get(objectId) };
