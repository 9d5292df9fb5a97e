/**
 * TLV payload → node at the request path (LwM2M Core §7.4.3).
 *
 * What each path level accepts:
 *  - `/O`       object instance TLVs → ObjectNode. A payload of bare resource TLVs is also taken, as
 *               instance 0, unless the model says the object is multi-instance (some clients answer a
 *               Read of a single-instance object without the object instance wrapper).
 *  - `/O/I`     resource / multiple resource TLVs → ObjectInstanceNode; also the same wrapped in one
 *               object instance TLV whose id is I (Wakaama, Contiki).
 *  - `/O/I/R`   one multiple resource TLV, or one resource TLV, with id R; or bare resource instance
 *               TLVs (some clients send those directly) → MultipleResourceNode.
 *  - `/O/I/R/i` one resource instance TLV with id i; or one multiple resource TLV R holding exactly it.
 * Duplicate ids at one level are rejected: they make the payload ambiguous.
 */
import { DecodeError, ContentFormat } from '../codec.js';
import type {
  Lwm2mNode,
  MultipleResourceNode,
  ObjectInstanceNode,
  ObjectNode,
  ResourceInstanceNode,
  ResourceNode,
} from '../../model/node.js';
import type { ModelProvider, ObjectModel } from '../../model/object-model.js';
import { formatPath, type Lwm2mPath } from '../../model/path.js';
import { TLV_TYPE_NAMES, TlvType, readTlvs, type TlvRecord } from './tlv.js';
import { decodeTlvValue } from './values.js';

/** Core §7.1: object instance id 65535 (MAX_ID) is reserved and never names an instance. */
const RESERVED_INSTANCE_ID = 0xffff;

class TlvDecoder {
  constructor(
    readonly bytes: Uint8Array,
    readonly object: ObjectModel | undefined,
    readonly cf: number,
  ) {}

  fail(offset: number, reason: string): never {
    throw new DecodeError(this.cf, offset, reason);
  }

  children(record: TlvRecord): TlvRecord[] {
    return readTlvs(this.bytes, record.valueStart, record.valueEnd, this.cf);
  }

  checkUnique(records: readonly TlvRecord[], what: string): void {
    // Levels are usually a handful of records: a pairwise scan beats allocating a Set.
    if (records.length > 16) {
      const seen = new Set<number>();
      for (const r of records) {
        if (seen.has(r.id)) this.fail(r.start, `duplicate ${what} id ${r.id}`);
        seen.add(r.id);
      }
      return;
    }
    for (let i = 1; i < records.length; i++) {
      const r = records[i] as TlvRecord;
      for (let j = 0; j < i; j++) {
        if ((records[j] as TlvRecord).id === r.id) this.fail(r.start, `duplicate ${what} id ${r.id}`);
      }
    }
  }

  /** `where` names the enclosing level for the message; a function so the happy path formats nothing. */
  expectType(record: TlvRecord, type: TlvType, where: () => string): void {
    if (record.type !== type) {
      this.fail(record.start, `${TLV_TYPE_NAMES[record.type]} TLV where ${where()} expects ${TLV_TYPE_NAMES[type]} TLVs`);
    }
  }

  resourceInstance(record: TlvRecord, resourceId: number): ResourceInstanceNode {
    this.expectType(record, TlvType.RESOURCE_INSTANCE, () => `multiple resource ${resourceId}`);
    const type = this.object?.resources.get(resourceId)?.type;
    return {
      kind: 'resourceInstance',
      id: record.id,
      value: decodeTlvValue(this.bytes, record.valueStart, record.valueEnd, type, this.cf),
    };
  }

  multipleResource(resourceId: number, records: readonly TlvRecord[]): MultipleResourceNode {
    this.checkUnique(records, `resource instance of resource ${resourceId}`);
    return { kind: 'multipleResource', id: resourceId, instances: records.map((r) => this.resourceInstance(r, resourceId)) };
  }

  resource(record: TlvRecord): ResourceNode {
    if (record.type === TlvType.MULTIPLE_RESOURCE) return this.multipleResource(record.id, this.children(record));
    if (record.type === TlvType.RESOURCE) {
      const type = this.object?.resources.get(record.id)?.type;
      return {
        kind: 'resource',
        id: record.id,
        value: decodeTlvValue(this.bytes, record.valueStart, record.valueEnd, type, this.cf),
      };
    }
    return this.fail(record.start, `${TLV_TYPE_NAMES[record.type]} TLV where an object instance expects resource TLVs`);
  }

  instance(instanceId: number, records: readonly TlvRecord[], offset: number): ObjectInstanceNode {
    if (instanceId === RESERVED_INSTANCE_ID) this.fail(offset, 'object instance id 65535 is reserved');
    this.checkUnique(records, `resource in object instance ${instanceId}`);
    return { kind: 'instance', id: instanceId, resources: records.map((r) => this.resource(r)) };
  }
}

function isResourceRecord(r: TlvRecord): boolean {
  return r.type === TlvType.RESOURCE || r.type === TlvType.MULTIPLE_RESOURCE;
}

export function decodeTlv(bytes: Uint8Array, path: Lwm2mPath, model: ModelProvider, contentFormat: number = ContentFormat.TLV): Lwm2mNode {
  const cf = contentFormat;
  if (path.length === 0) throw new DecodeError(cf, 0, 'TLV cannot carry the root path: it has no object level');
  const [objectId] = path;
  const d = new TlvDecoder(bytes, model.getObject(objectId), cf);
  const top = readTlvs(bytes, 0, bytes.length, cf);
  const where = (): string => formatPath(path);

  switch (path.length) {
    case 1: {
      if (top.length > 0 && top.every(isResourceRecord) && d.object?.multiple !== true) {
        return { kind: 'object', id: objectId, instances: [d.instance(0, top, 0)] } satisfies ObjectNode;
      }
      for (const r of top) d.expectType(r, TlvType.OBJECT_INSTANCE, where);
      d.checkUnique(top, `instance of object ${objectId}`);
      return {
        kind: 'object',
        id: objectId,
        instances: top.map((r) => d.instance(r.id, d.children(r), r.start)),
      } satisfies ObjectNode;
    }
    case 2: {
      const instanceId = path[1];
      const first = top[0];
      if (first?.type === TlvType.OBJECT_INSTANCE) {
        if (top.length !== 1) d.fail(top[1]?.start ?? 0, `${where()} expects one object instance TLV, got ${top.length} records`);
        if (first.id !== instanceId) d.fail(first.start, `object instance TLV ${first.id} does not match ${where()}`);
        return d.instance(instanceId, d.children(first), first.start);
      }
      for (const r of top) {
        if (!isResourceRecord(r)) d.fail(r.start, `${TLV_TYPE_NAMES[r.type]} TLV where ${where()} expects resource TLVs`);
      }
      return d.instance(instanceId, top, 0);
    }
    case 3: {
      const resourceId = path[2];
      const first = top[0];
      if (first === undefined) {
        if (d.object?.resources.get(resourceId)?.multiple) return { kind: 'multipleResource', id: resourceId, instances: [] };
        return d.fail(0, `empty payload for resource ${where()}`);
      }
      if (first.type === TlvType.RESOURCE_INSTANCE) {
        for (const r of top) d.expectType(r, TlvType.RESOURCE_INSTANCE, where);
        return d.multipleResource(resourceId, top);
      }
      if (top.length !== 1) d.fail(top[1]?.start ?? 0, `${where()} expects one resource TLV, got ${top.length} records`);
      if (!isResourceRecord(first)) d.fail(first.start, `${TLV_TYPE_NAMES[first.type]} TLV where ${where()} expects a resource TLV`);
      if (first.id !== resourceId) d.fail(first.start, `resource TLV ${first.id} does not match ${where()}`);
      return d.resource(first);
    }
    case 4: {
      const resourceId = path[2];
      const resourceInstanceId = path[3];
      if (top.length !== 1) d.fail(top[1]?.start ?? 0, `${where()} expects one resource instance TLV, got ${top.length} records`);
      let record = top[0] as TlvRecord;
      if (record.type === TlvType.MULTIPLE_RESOURCE) {
        if (record.id !== resourceId) d.fail(record.start, `multiple resource TLV ${record.id} does not match ${where()}`);
        const inner = d.children(record);
        if (inner.length !== 1) d.fail(record.start, `${where()} expects one resource instance, got ${inner.length}`);
        record = inner[0] as TlvRecord;
      }
      d.expectType(record, TlvType.RESOURCE_INSTANCE, where);
      if (record.id !== resourceInstanceId) d.fail(record.start, `resource instance TLV ${record.id} does not match ${where()}`);
      return d.resourceInstance(record, resourceId);
    }
  }
}
