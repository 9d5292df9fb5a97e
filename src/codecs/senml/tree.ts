/**
 * Between flat (path, value) entries and the typed node tree (LwM2M Core §7.4:
 * object → instance → resource → resource instance), for the formats that list
 * values by path: SenML JSON/CBOR, LwM2M JSON and LwM2M CBOR.
 */
import { DecodeError, EncodeError } from '../codec.js';
import type {
  Lwm2mNode,
  Lwm2mValue,
  ObjectInstanceNode,
  ResourceInstanceNode,
  ResourceNode,
} from '../../model/node.js';
import { getResourceModel, type ModelProvider } from '../../model/object-model.js';
import { formatPath, pathStartsWith, type Lwm2mPath } from '../../model/path.js';
import { isId } from './values.js';

interface ResourceAcc {
  single?: Lwm2mValue;
  multiple?: Map<number, Lwm2mValue>;
}

/**
 * Collects the entries of a payload answering `requestPath` and builds the node at
 * that path. Children keep the order in which the payload first names them.
 */
export class TreeBuilder {
  private readonly instances = new Map<number, Map<number, ResourceAcc>>();

  constructor(
    private readonly requestPath: Lwm2mPath,
    private readonly contentFormat: number,
  ) {
    if (requestPath.length === 0) {
      throw new DecodeError(contentFormat, 0, 'the root path has no single node; use the multi-path API');
    }
  }

  addValue(path: Lwm2mPath, value: Lwm2mValue, offset: number): void {
    if (!pathStartsWith(path, this.requestPath)) {
      throw new DecodeError(
        this.contentFormat,
        offset,
        `${formatPath(path)} is outside the requested ${formatPath(this.requestPath)}`,
      );
    }
    if (path.length < 3) {
      throw new DecodeError(
        this.contentFormat,
        offset,
        `${formatPath(path)} is not a resource or resource instance path`,
      );
    }
    const acc = this.resource(path[1] as number, path[2] as number);
    if (path.length === 3) {
      if (acc.single !== undefined) this.duplicate(path, offset);
      if (acc.multiple !== undefined) this.mixed(path, offset);
      acc.single = value;
    } else {
      if (acc.single !== undefined) this.mixed(path, offset);
      acc.multiple ??= new Map();
      const riid = path[3] as number;
      if (acc.multiple.has(riid)) this.duplicate(path, offset);
      acc.multiple.set(riid, value);
    }
  }

  /** A container the payload names explicitly, possibly empty (LwM2M CBOR nested maps). */
  addContainer(path: Lwm2mPath, offset: number): void {
    if (!pathStartsWith(path, this.requestPath) && !pathStartsWith(this.requestPath, path)) {
      throw new DecodeError(
        this.contentFormat,
        offset,
        `${formatPath(path)} is outside the requested ${formatPath(this.requestPath)}`,
      );
    }
    if (path.length === 2) this.instance(path[1] as number);
    if (path.length === 3) {
      const acc = this.resource(path[1] as number, path[2] as number);
      if (acc.single !== undefined) this.mixed(path, offset);
      acc.multiple ??= new Map();
    }
  }

  build(model: ModelProvider): Lwm2mNode {
    const path = this.requestPath;
    const objectId = path[0] as number;
    switch (path.length) {
      case 1:
        return {
          kind: 'object',
          id: objectId,
          instances: [...this.instances].map(([iid, resources]) => instanceNode(iid, resources)),
        };
      case 2: {
        const iid = path[1] as number;
        return instanceNode(iid, this.instances.get(iid) ?? new Map());
      }
      case 3: {
        const rid = path[2] as number;
        const acc = this.instances.get(path[1] as number)?.get(rid);
        if (acc) return resourceNode(rid, acc);
        // an empty payload is an empty multiple resource when the model says so (Leshan does the same)
        if (getResourceModel(model, objectId, rid)?.multiple)
          return { kind: 'multipleResource', id: rid, instances: [] };
        throw new DecodeError(this.contentFormat, 0, `no value for ${formatPath(path)}`);
      }
      default: {
        const riid = path[3] as number;
        const value = this.instances
          .get(path[1] as number)
          ?.get(path[2] as number)
          ?.multiple?.get(riid);
        if (value === undefined) throw new DecodeError(this.contentFormat, 0, `no value for ${formatPath(path)}`);
        return { kind: 'resourceInstance', id: riid, value };
      }
    }
  }

  private instance(iid: number): Map<number, ResourceAcc> {
    let resources = this.instances.get(iid);
    if (!resources) {
      resources = new Map();
      this.instances.set(iid, resources);
    }
    return resources;
  }

  private resource(iid: number, rid: number): ResourceAcc {
    const resources = this.instance(iid);
    let acc = resources.get(rid);
    if (!acc) {
      acc = {};
      resources.set(rid, acc);
    }
    return acc;
  }

  private duplicate(path: Lwm2mPath, offset: number): never {
    throw new DecodeError(
      this.contentFormat,
      offset,
      `${formatPath(path)} appears twice (time series need the multi-path API)`,
    );
  }

  private mixed(path: Lwm2mPath, offset: number): never {
    throw new DecodeError(
      this.contentFormat,
      offset,
      `resource ${formatPath(path.slice(0, 3) as unknown as Lwm2mPath)} has both a single value and instances`,
    );
  }
}

function instanceNode(iid: number, resources: ReadonlyMap<number, ResourceAcc>): ObjectInstanceNode {
  return { kind: 'instance', id: iid, resources: [...resources].map(([rid, acc]) => resourceNode(rid, acc)) };
}

function resourceNode(rid: number, acc: ResourceAcc): ResourceNode {
  if (acc.single !== undefined) return { kind: 'resource', id: rid, value: acc.single };
  return {
    kind: 'multipleResource',
    id: rid,
    instances: [...(acc.multiple ?? [])].map(([riid, value]): ResourceInstanceNode => ({
      kind: 'resourceInstance',
      id: riid,
      value,
    })),
  };
}

export interface FlatEntry {
  readonly path: Lwm2mPath;
  readonly value: Lwm2mValue;
}

const LEVEL_OF_KIND = { object: 1, instance: 2, resource: 3, multipleResource: 3, resourceInstance: 4 } as const;

/** Checks that `node` is the node at `path` (kind matches the path level, id matches its last segment). */
export function checkNodeAtPath(node: Lwm2mNode, path: Lwm2mPath, contentFormat: number): void {
  if (path.length === 0)
    throw new EncodeError(contentFormat, 'the root path has no single node; use the multi-path API');
  for (const id of path) {
    if (!isId(id)) throw new EncodeError(contentFormat, `path ${formatPath(path)} has an id outside 0..65535`);
  }
  if (LEVEL_OF_KIND[node.kind] !== path.length || node.id !== path[path.length - 1]) {
    throw new EncodeError(
      contentFormat,
      `a ${node.kind} node with id ${node.id} cannot be the node at ${formatPath(path)}`,
    );
  }
}

/** The leaf values under `node` (the node at `path`) with their full paths, in tree order. */
export function flattenNode(node: Lwm2mNode, path: Lwm2mPath, contentFormat: number): FlatEntry[] {
  checkNodeAtPath(node, path, contentFormat);
  const entries: FlatEntry[] = [];
  const visit = (current: Lwm2mNode, at: readonly number[]): void => {
    switch (current.kind) {
      case 'object':
        for (const instance of uniqueChildren(current.instances, at, contentFormat))
          visit(instance, [...at, instance.id]);
        return;
      case 'instance':
        for (const resource of uniqueChildren(current.resources, at, contentFormat))
          visit(resource, [...at, resource.id]);
        return;
      case 'multipleResource':
        for (const instance of uniqueChildren(current.instances, at, contentFormat))
          visit(instance, [...at, instance.id]);
        return;
      case 'resource':
      case 'resourceInstance':
        entries.push({ path: at as unknown as Lwm2mPath, value: current.value });
        return;
    }
  };
  visit(node, path);
  return entries;
}

/** Children with valid, distinct ids: two children with one id would encode to an undecodable payload. */
export function uniqueChildren<T extends { readonly id: number }>(
  children: readonly T[],
  parent: readonly number[],
  contentFormat: number,
): readonly T[] {
  const seen = new Set<number>();
  for (const child of children) {
    if (!isId(child.id))
      throw new EncodeError(
        contentFormat,
        `id ${child.id} under ${formatPath(parent as unknown as Lwm2mPath)} is outside 0..65535`,
      );
    if (seen.has(child.id))
      throw new EncodeError(
        contentFormat,
        `id ${child.id} appears twice under ${formatPath(parent as unknown as Lwm2mPath)}`,
      );
    seen.add(child.id);
  }
  return children;
}

/** True for the node kinds that hold children, whose SenML base name ends with "/". */
export function isContainer(node: Lwm2mNode): boolean {
  return node.kind === 'object' || node.kind === 'instance' || node.kind === 'multipleResource';
}
