/**
 * Node → TLV payload (LwM2M Core §7.4.3), mirroring decode.ts:
 *  - `/O`       ObjectNode → object instance TLVs; an ObjectInstanceNode (Create on `/O`) → one
 *               object instance TLV.
 *  - `/O/I`     ObjectInstanceNode → its resource TLVs, without an object instance wrapper
 *               (Core §7.4.3.1, single object instance example).
 *  - `/O/I/R`   one resource TLV or one multiple resource TLV.
 *  - `/O/I/R/i` one resource instance TLV.
 * Sizes are computed first so the payload is written into a single allocation.
 */
import { ContentFormat, EncodeError } from '../codec.js';
import type { Lwm2mNode, ObjectInstanceNode, ResourceInstanceNode, ResourceNode } from '../../model/node.js';
import { formatPath, type Lwm2mPath } from '../../model/path.js';
import { TlvType, tlvHeaderSize, writeTlvHeader } from './tlv.js';
import { encodeTlvValue } from './values.js';

interface Piece {
  readonly type: TlvType;
  readonly id: number;
  /** Value bytes of a leaf record. */
  readonly value?: Uint8Array;
  readonly children?: readonly Piece[];
  /** Length of the value: the value bytes, or the children's total size. */
  readonly length: number;
}

function size(piece: Piece): number {
  return tlvHeaderSize(piece.id, piece.length) + piece.length;
}

class TlvPlanner {
  constructor(readonly cf: number) {}

  checkId(id: number, what: string, max = 0xffff): void {
    if (!Number.isInteger(id) || id < 0 || id > max) {
      throw new EncodeError(this.cf, `${what} id ${id} is not a valid LwM2M id (0..${max})`);
    }
  }

  checkUnique(nodes: readonly { readonly id: number }[], what: string): void {
    // Levels are usually a handful of nodes: a pairwise scan beats allocating a Set.
    const duplicate = (id: number): never => {
      throw new EncodeError(this.cf, `duplicate ${what} id ${id}`);
    };
    if (nodes.length > 16) {
      const seen = new Set<number>();
      for (const { id } of nodes) {
        if (seen.has(id)) duplicate(id);
        seen.add(id);
      }
      return;
    }
    for (let i = 1; i < nodes.length; i++) {
      const id = (nodes[i] as { id: number }).id;
      for (let j = 0; j < i; j++) if ((nodes[j] as { id: number }).id === id) duplicate(id);
    }
  }

  leaf(type: TlvType, id: number, value: Uint8Array): Piece {
    return { type, id, value, length: value.length };
  }

  container(type: TlvType, id: number, children: readonly Piece[]): Piece {
    let length = 0;
    for (const c of children) length += size(c);
    return { type, id, children, length };
  }

  resourceInstance(node: ResourceInstanceNode): Piece {
    this.checkId(node.id, 'resource instance');
    return this.leaf(TlvType.RESOURCE_INSTANCE, node.id, encodeTlvValue(node.value, this.cf));
  }

  resource(node: ResourceNode): Piece {
    this.checkId(node.id, 'resource');
    if (node.kind === 'resource') return this.leaf(TlvType.RESOURCE, node.id, encodeTlvValue(node.value, this.cf));
    this.checkUnique(node.instances, `resource instance of resource ${node.id}`);
    return this.container(
      TlvType.MULTIPLE_RESOURCE,
      node.id,
      node.instances.map((i) => this.resourceInstance(i)),
    );
  }

  resources(node: ObjectInstanceNode): Piece[] {
    // Core §7.1: instance id 65535 is reserved.
    this.checkId(node.id, 'object instance', 0xfffe);
    this.checkUnique(node.resources, `resource in object instance ${node.id}`);
    return node.resources.map((r) => this.resource(r));
  }

  instance(node: ObjectInstanceNode): Piece {
    return this.container(TlvType.OBJECT_INSTANCE, node.id, this.resources(node));
  }
}

function write(target: Uint8Array, offset: number, piece: Piece, cf: number): number {
  let p = writeTlvHeader(target, offset, piece.type, piece.id, piece.length, cf);
  if (piece.value) {
    target.set(piece.value, p);
    return p + piece.value.length;
  }
  for (const child of piece.children ?? []) p = write(target, p, child, cf);
  return p;
}

function plan(node: Lwm2mNode, path: Lwm2mPath, planner: TlvPlanner): Piece[] {
  const cf = planner.cf;
  const mismatch = (): never => {
    throw new EncodeError(cf, `a ${node.kind} node with id ${node.id} cannot be encoded for path ${formatPath(path)}`);
  };
  switch (path.length) {
    case 0:
      throw new EncodeError(cf, 'TLV cannot carry the root path: it has no object level');
    case 1:
      if (node.kind === 'object' && node.id === path[0]) {
        planner.checkUnique(node.instances, `instance of object ${node.id}`);
        return node.instances.map((i) => planner.instance(i));
      }
      if (node.kind === 'instance') return [planner.instance(node)];
      return mismatch();
    case 2:
      if (node.kind === 'instance' && node.id === path[1]) return planner.resources(node);
      return mismatch();
    case 3:
      if ((node.kind === 'resource' || node.kind === 'multipleResource') && node.id === path[2]) {
        return [planner.resource(node)];
      }
      return mismatch();
    case 4:
      if (node.kind === 'resourceInstance' && node.id === path[3]) return [planner.resourceInstance(node)];
      return mismatch();
  }
}

export function encodeTlv(node: Lwm2mNode, path: Lwm2mPath, contentFormat: number = ContentFormat.TLV): Uint8Array {
  const pieces = plan(node, path, new TlvPlanner(contentFormat));
  let total = 0;
  for (const piece of pieces) total += size(piece);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const piece of pieces) offset = write(out, offset, piece, contentFormat);
  return out;
}
