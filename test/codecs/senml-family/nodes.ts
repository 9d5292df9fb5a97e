/** Terse builders for expected nodes and values. */
import type {
  Lwm2mValue,
  MultipleResourceNode,
  ObjectInstanceNode,
  ObjectNode,
  ResourceInstanceNode,
  ResourceNode,
  SingleResourceNode,
} from '../../../src/model/node.js';

export const str = (value: string): Lwm2mValue => ({ type: 'string', value });
export const int = (value: number | bigint): Lwm2mValue => ({ type: 'integer', value });
export const uint = (value: number | bigint): Lwm2mValue => ({ type: 'unsignedInteger', value });
export const float = (value: number): Lwm2mValue => ({ type: 'float', value });
export const bool = (value: boolean): Lwm2mValue => ({ type: 'boolean', value });
export const bytes = (...value: number[]): Lwm2mValue => ({ type: 'opaque', value: Uint8Array.from(value) });
export const time = (value: number): Lwm2mValue => ({ type: 'time', value });
export const objlnk = (objectId: number, instanceId: number): Lwm2mValue => ({
  type: 'objlnk',
  value: { objectId, instanceId },
});
export const corelnk = (value: string): Lwm2mValue => ({ type: 'corelnk', value });
export const none: Lwm2mValue = { type: 'none', value: null };

export const res = (id: number, value: Lwm2mValue): SingleResourceNode => ({ kind: 'resource', id, value });
export const ri = (id: number, value: Lwm2mValue): ResourceInstanceNode => ({ kind: 'resourceInstance', id, value });
export const multi = (id: number, instances: ReadonlyArray<readonly [number, Lwm2mValue]>): MultipleResourceNode => ({
  kind: 'multipleResource',
  id,
  instances: instances.map(([riid, value]) => ri(riid, value)),
});
export const inst = (id: number, resources: readonly ResourceNode[]): ObjectInstanceNode => ({
  kind: 'instance',
  id,
  resources,
});
export const obj = (id: number, instances: readonly ObjectInstanceNode[]): ObjectNode => ({
  kind: 'object',
  id,
  instances,
});

/** The Device object instance of the specification examples (TS 1.0 §6.4.4, TS Core 1.1 Table 7.4.4-2), typed by the test model. */
export const DEVICE_INSTANCE = inst(0, [
  res(0, str('Open Mobile Alliance')),
  res(1, str('Lightweight M2M Client')),
  res(2, str('345000123')),
  res(3, str('1.0')),
  multi(6, [
    [0, int(1)],
    [1, int(5)],
  ]),
  multi(7, [
    [0, int(3800)],
    [1, int(5000)],
  ]),
  multi(8, [
    [0, int(125)],
    [1, int(900)],
  ]),
  res(9, int(100)),
  res(10, int(15)),
  multi(11, [[0, int(0)]]),
  res(13, time(1367491215)),
  res(14, str('+02:00')),
  res(16, str('U')),
]);
