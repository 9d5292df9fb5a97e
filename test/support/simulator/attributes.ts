/**
 * Notification attributes (LwM2M Core §5.1.2 / 1.1 §7.3.2): what Write-Attributes sets,
 * how they inherit down the tree, and the link-format answer of Discover (Core §6.3.x).
 */
import { ResponseCode } from '../../../src/coap/codes.js';
import type { Link } from '../../../src/codecs/link-format/index.js';
import { formatPath, pathStartsWith, type Lwm2mPath } from '../../../src/model/path.js';
import type { Lwm2mVersion } from './formats.js';
import { OperationError, type ObjectTree } from './tree.js';

type AttributeKind = 'uint' | 'number' | 'flag';

/** Attribute names a client accepts, with the shape of their value (1.1 added epmin/epmax, 1.2 edge/con/hqmax). */
const ATTRIBUTES: Readonly<Record<string, AttributeKind>> = {
  pmin: 'uint',
  pmax: 'uint',
  gt: 'number',
  lt: 'number',
  st: 'number',
  epmin: 'uint',
  epmax: 'uint',
  edge: 'flag',
  con: 'flag',
  hqmax: 'uint',
};

/** Attributes that only make sense on a (numeric) resource. */
const RESOURCE_ONLY = new Set(['gt', 'lt', 'st', 'edge']);

const SHAPES: Readonly<Record<AttributeKind, RegExp>> = {
  uint: /^\d{1,10}$/,
  number: /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/,
  flag: /^[01]$/,
};

/** `['pmin=10', 'pmax']` → pmin set to 10, pmax removed (Core §5.1.2: a name without value clears it). */
export function parseWriteAttributes(uriQuery: readonly string[], path: Lwm2mPath): Map<string, string | undefined> {
  const changes = new Map<string, string | undefined>();
  for (const item of uriQuery) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    const kind = ATTRIBUTES[name];
    if (kind === undefined) throw new OperationError(ResponseCode.BAD_REQUEST, `unknown attribute "${name}"`);
    if (value !== undefined && !SHAPES[kind].test(value)) {
      throw new OperationError(ResponseCode.BAD_REQUEST, `attribute ${name}="${value}" is not a valid ${kind}`);
    }
    if (RESOURCE_ONLY.has(name) && path.length < 3) {
      throw new OperationError(ResponseCode.BAD_REQUEST, `attribute ${name} applies to resources, not ${formatPath(path)}`);
    }
    changes.set(name, value);
  }
  return changes;
}

export class AttributeStore {
  readonly #byPath = new Map<string, Map<string, string>>();

  /** Attributes set on exactly this path. */
  get(path: Lwm2mPath): Record<string, string> {
    return Object.fromEntries(this.#byPath.get(formatPath(path)) ?? []);
  }

  apply(path: Lwm2mPath, changes: ReadonlyMap<string, string | undefined>): void {
    const key = formatPath(path);
    const current = new Map(this.#byPath.get(key) ?? []);
    for (const [name, value] of changes) {
      if (value === undefined) current.delete(name);
      else current.set(name, value);
    }
    if (current.size === 0) this.#byPath.delete(key);
    else this.#byPath.set(key, current);
  }

  /** Attributes in force at the path: the object's, overridden by the instance's, then the resource's (Core §5.1.1). */
  effective(path: Lwm2mPath): Record<string, string> {
    let merged: Record<string, string> = {};
    for (let level = 1; level <= path.length; level++) merged = { ...merged, ...this.get(path.slice(0, level) as unknown as Lwm2mPath) };
    return merged;
  }

  /** Forgets the attributes of a deleted instance and everything under it. */
  deleteUnder(path: Lwm2mPath): void {
    for (const key of [...this.#byPath.keys()]) {
      const ids = key.split('/').slice(1).map(Number);
      if (pathStartsWith(ids as unknown as Lwm2mPath, path)) this.#byPath.delete(key);
    }
  }
}

/**
 * Discover (Core §6.3.x): the target and what lies under it down to resources, each link
 * with the attributes set on it; a resource target also shows what it inherits. From 1.1,
 * multiple resources carry `dim` and object links the object version when it is not 1.0.
 */
export function discoverLinks(tree: ObjectTree, attributes: AttributeStore, path: Lwm2mPath, version: Lwm2mVersion): Link[] {
  const [objectId, instanceId, resourceId] = path;
  if (objectId === undefined || path.length > 3) {
    throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `no Discover on ${formatPath(path)}`);
  }
  if (!tree.has(path)) throw new OperationError(ResponseCode.NOT_FOUND, `${formatPath(path)} not found`);
  const modern = version !== '1.0';
  const link = (at: Lwm2mPath, extra: Record<string, string> = {}): Link => ({
    uri: formatPath(at),
    attributes: { ...extra, ...(at.length === path.length && at.length === 3 ? attributes.effective(at) : attributes.get(at)) },
  });
  const resourceLinks = (oid: number, iid: number, rids: readonly number[]): Link[] =>
    rids.map((rid) => {
      const resource = tree.resource(oid, iid, rid);
      const dim: Record<string, string> = modern && resource?.kind === 'multiple' ? { dim: String(resource.instances.size) } : {};
      return link([oid, iid, rid], dim);
    });
  const instanceLinks = (oid: number, iid: number): Link[] => [link([oid, iid]), ...resourceLinks(oid, iid, tree.resourceIds(oid, iid))];

  if (instanceId === undefined) {
    const objectVersion = tree.model.getObject(objectId)?.version;
    const ver: Record<string, string> = modern && objectVersion !== undefined && objectVersion !== '1.0' ? { ver: objectVersion } : {};
    return [link([objectId], ver), ...tree.instanceIds(objectId).flatMap((iid) => instanceLinks(objectId, iid))];
  }
  if (resourceId === undefined) return instanceLinks(objectId, instanceId);
  return resourceLinks(objectId, instanceId, [resourceId]);
}
