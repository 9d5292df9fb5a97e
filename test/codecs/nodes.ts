/** Terse constructors for expected node trees in codec tests. */
import type {
  Lwm2mValue,
  MultipleResourceNode,
  ObjectInstanceNode,
  ObjectNode,
  ResourceInstanceNode,
  ResourceNode,
  SingleResourceNode,
} from '../../src/model/node.js';

export const str = (value: string): Lwm2mValue => ({ type: 'string', value });
export const int = (value: number | bigint): Lwm2mValue => ({ type: 'integer', value });
export const uint = (value: number | bigint): Lwm2mValue => ({ type: 'unsignedInteger', value });
export const float = (value: number): Lwm2mValue => ({ type: 'float', value });
export const bool = (value: boolean): Lwm2mValue => ({ type: 'boolean', value });
export const opaque = (...bytes: number[]): Lwm2mValue => ({ type: 'opaque', value: Uint8Array.from(bytes) });
export const time = (value: number): Lwm2mValue => ({ type: 'time', value });
export const objlnk = (objectId: number, instanceId: number): Lwm2mValue => ({ type: 'objlnk', value: { objectId, instanceId } });
export const corelnk = (value: string): Lwm2mValue => ({ type: 'corelnk', value });
export const unknown = (...bytes: number[]): Lwm2mValue => ({ type: 'unknown', value: Uint8Array.from(bytes) });
export const none: Lwm2mValue = { type: 'none', value: null };

export const res = (id: number, value: Lwm2mValue): SingleResourceNode => ({ kind: 'resource', id, value });
export const ri = (id: number, value: Lwm2mValue): ResourceInstanceNode => ({ kind: 'resourceInstance', id, value });
export const multi = (id: number, instances: readonly (readonly [number, Lwm2mValue])[]): MultipleResourceNode => ({
  kind: 'multipleResource',
  id,
  instances: instances.map(([riid, value]) => ri(riid, value)),
});
export const inst = (id: number, resources: readonly ResourceNode[]): ObjectInstanceNode => ({ kind: 'instance', id, resources });
export const obj = (id: number, instances: readonly ObjectInstanceNode[]): ObjectNode => ({ kind: 'object', id, instances });
