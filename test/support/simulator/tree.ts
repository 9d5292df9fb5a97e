/**
 * The simulated client's objects, instances and resources, with the access rules
 * of LwM2M Core §6.3 (Device Management): what a Read returns, what a Write,
 * Create or Delete may change, and the CoAP code of each refusal.
 */
import { ResponseCode } from '../../../src/coap/codes.js';
import type {
  Lwm2mNode,
  Lwm2mValue,
  MultipleResourceNode,
  ObjectInstanceNode,
  ObjectNode,
  ResourceInstanceNode,
  ResourceNode,
} from '../../../src/model/node.js';
import type { ModelProvider, ResourceModel } from '../../../src/model/object-model.js';
import { formatPath, type Lwm2mPath } from '../../../src/model/path.js';

/** An operation refused with a CoAP response code; the message becomes the diagnostic payload. */
export class OperationError extends Error {
  override readonly name = 'OperationError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type ResourceState =
  | { readonly kind: 'single'; readonly value: Lwm2mValue }
  | { readonly kind: 'multiple'; readonly instances: ReadonlyMap<number, Lwm2mValue> }
  | { readonly kind: 'executable' };

type InstanceState = Map<number, ResourceState>;
type ObjectState = Map<number, InstanceState>;

/** A value with its full path, as Send and Read-Composite carry them. */
export interface Leaf {
  readonly path: Lwm2mPath;
  readonly value: Lwm2mValue;
}

/**
 * Write (replace) replaces what it names, Write (partial update) merges into it (Core §6.3.3);
 * Create may set read-only resources too, the server's Write only writable ones.
 */
export type WriteMode = 'replace' | 'update';

const sortedKeys = (map: ReadonlyMap<number, unknown>): number[] => [...map.keys()].sort((a, b) => a - b);

const notFound = (path: Lwm2mPath): OperationError => new OperationError(ResponseCode.NOT_FOUND, `${formatPath(path)} not found`);

export class ObjectTree {
  readonly #objects = new Map<number, ObjectState>();

  constructor(readonly model: ModelProvider) {}

  // ---- structure -----------------------------------------------------------------------------

  objectIds(): number[] {
    return sortedKeys(this.#objects);
  }

  instanceIds(objectId: number): number[] {
    const object = this.#objects.get(objectId);
    return object ? sortedKeys(object) : [];
  }

  resourceIds(objectId: number, instanceId: number): number[] {
    const instance = this.#objects.get(objectId)?.get(instanceId);
    return instance ? sortedKeys(instance) : [];
  }

  resource(objectId: number, instanceId: number, resourceId: number): ResourceState | undefined {
    return this.#objects.get(objectId)?.get(instanceId)?.get(resourceId);
  }

  resourceModel(objectId: number, resourceId: number): ResourceModel | undefined {
    return this.model.getObject(objectId)?.resources.get(resourceId);
  }

  /** Whether the path names something the client has (root excepted). */
  has(path: Lwm2mPath): boolean {
    const [objectId, instanceId, resourceId, resourceInstanceId] = path;
    if (objectId === undefined) return false;
    const object = this.#objects.get(objectId);
    if (!object || instanceId === undefined) return object !== undefined;
    const instance = object.get(instanceId);
    if (!instance || resourceId === undefined) return instance !== undefined;
    const resource = instance.get(resourceId);
    if (!resource || resourceInstanceId === undefined) return resource !== undefined;
    return resource.kind === 'multiple' && resource.instances.has(resourceInstanceId);
  }

  /** Declares an object the client supports (registered as `</O>` while it has no instance). */
  addObject(objectId: number): void {
    if (!this.#objects.has(objectId)) this.#objects.set(objectId, new Map());
  }

  /** Sets a resource directly, creating its object and instance as needed (the device's own doing). */
  putResource(objectId: number, instanceId: number, resourceId: number, state: ResourceState): void {
    this.#instanceFor(objectId, instanceId).set(resourceId, state);
  }

  nextInstanceId(objectId: number): number {
    const object = this.#objects.get(objectId);
    let id = 0;
    while (object?.has(id)) id++;
    return id;
  }

  // ---- device side ---------------------------------------------------------------------------

  getValue(path: Lwm2mPath): Lwm2mValue | undefined {
    const [objectId, instanceId, resourceId, resourceInstanceId] = path;
    if (objectId === undefined || instanceId === undefined || resourceId === undefined) return undefined;
    const resource = this.resource(objectId, instanceId, resourceId);
    if (resourceInstanceId === undefined) return resource?.kind === 'single' ? resource.value : undefined;
    return resource?.kind === 'multiple' ? resource.instances.get(resourceInstanceId) : undefined;
  }

  /** Sets one value at a resource or resource instance path; throws Error for anything else. */
  setValue(path: Lwm2mPath, value: Lwm2mValue): void {
    const [objectId, instanceId, resourceId, resourceInstanceId] = path;
    if (objectId === undefined || instanceId === undefined || resourceId === undefined) {
      throw new Error(`setValue needs a resource or resource instance path, not ${formatPath(path)}`);
    }
    const current = this.resource(objectId, instanceId, resourceId);
    const multiple = this.resourceModel(objectId, resourceId)?.multiple ?? current?.kind === 'multiple';
    if (resourceInstanceId === undefined) {
      if (multiple) throw new Error(`${formatPath(path)} is a multiple resource: set one of its instances (${formatPath(path)}/0)`);
      this.putResource(objectId, instanceId, resourceId, { kind: 'single', value });
      return;
    }
    if (current !== undefined && current.kind !== 'multiple') throw new Error(`${formatPath([objectId, instanceId, resourceId])} is not a multiple resource`);
    const instances = new Map(current?.instances ?? []);
    instances.set(resourceInstanceId, value);
    this.putResource(objectId, instanceId, resourceId, { kind: 'multiple', instances });
  }

  /** Every value at or under the path, in tree order (executables have none). */
  leaves(path: Lwm2mPath): Leaf[] {
    return leavesOf(this.read(path), path);
  }

  // ---- server side (Core §6.3) ---------------------------------------------------------------

  /** Read: the node at the path; 4.04 when absent, 4.05 for an executable resource. */
  read(path: Lwm2mPath): Lwm2mNode {
    const [objectId, instanceId, resourceId, resourceInstanceId] = path;
    if (objectId === undefined) throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, 'no Read on the root path');
    const object = this.#objects.get(objectId);
    if (!object) throw notFound(path);
    if (instanceId === undefined) {
      return {
        kind: 'object',
        id: objectId,
        instances: sortedKeys(object).map((id) => instanceNode(id, object.get(id) as InstanceState)),
      } satisfies ObjectNode;
    }
    const instance = object.get(instanceId);
    if (!instance) throw notFound(path);
    if (resourceId === undefined) return instanceNode(instanceId, instance);
    const resource = instance.get(resourceId);
    if (!resource) throw notFound(path);
    if (resource.kind === 'executable') throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `${formatPath(path)} is executable, not readable`);
    if (resourceInstanceId === undefined) return resourceNode(resourceId, resource);
    const value = resource.kind === 'multiple' ? resource.instances.get(resourceInstanceId) : undefined;
    if (value === undefined) throw notFound(path);
    return { kind: 'resourceInstance', id: resourceInstanceId, value } satisfies ResourceInstanceNode;
  }

  /**
   * Write of a decoded node at an instance, resource or resource instance path. Everything
   * is checked before anything changes, so a refused Write leaves the state as it was.
   */
  write(path: Lwm2mPath, node: Lwm2mNode, mode: WriteMode): void {
    const [objectId, instanceId, resourceId] = path;
    if (objectId === undefined || instanceId === undefined) {
      throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `no Write on ${formatPath(path)}`);
    }
    const instance = this.#objects.get(objectId)?.get(instanceId);
    if (!instance) throw notFound(path);
    switch (node.kind) {
      case 'instance': {
        for (const resource of node.resources) this.#checkWritable(objectId, instanceId, resource.id, 'server');
        if (mode === 'replace') {
          // Replace: writable optional resources the payload leaves out are gone (Core §6.3.3).
          const kept = new Set(node.resources.map((r) => r.id));
          for (const id of [...instance.keys()]) {
            const model = this.resourceModel(objectId, id);
            if (!kept.has(id) && model?.operations.includes('W') && !model.mandatory) instance.delete(id);
          }
        }
        for (const resource of node.resources) this.#writeResource(instance, resource, mode);
        return;
      }
      case 'resource':
      case 'multipleResource':
        this.#checkWritable(objectId, instanceId, node.id, 'server');
        this.#writeResource(instance, node, mode);
        return;
      case 'resourceInstance': {
        if (resourceId === undefined) throw new OperationError(ResponseCode.BAD_REQUEST, 'a resource instance needs its resource');
        this.#checkWritable(objectId, instanceId, resourceId, 'server');
        const current = instance.get(resourceId);
        const multiple = this.resourceModel(objectId, resourceId)?.multiple ?? current?.kind === 'multiple';
        if (!multiple || (current !== undefined && current.kind !== 'multiple')) {
          throw new OperationError(ResponseCode.BAD_REQUEST, `${formatPath([objectId, instanceId, resourceId])} is not a multiple resource`);
        }
        const instances = new Map(current?.instances ?? []);
        instances.set(node.id, node.value);
        instance.set(resourceId, { kind: 'multiple', instances });
        return;
      }
      case 'object':
        throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `no Write on ${formatPath(path)}`);
    }
  }

  /** Write-Composite (1.1 Core §6.3.x): values at resource or resource instance paths, all checked before any is set. */
  writeComposite(leaves: readonly Leaf[]): void {
    for (const { path } of leaves) {
      const [objectId, instanceId, resourceId, resourceInstanceId] = path;
      if (objectId === undefined || instanceId === undefined || resourceId === undefined) {
        throw new OperationError(ResponseCode.BAD_REQUEST, `a value needs a resource path, not ${formatPath(path)}`);
      }
      if (!this.#objects.get(objectId)?.has(instanceId)) throw notFound(path);
      this.#checkWritable(objectId, instanceId, resourceId, 'server');
      const current = this.resource(objectId, instanceId, resourceId);
      const multiple = this.resourceModel(objectId, resourceId)?.multiple ?? current?.kind === 'multiple';
      if (multiple !== (resourceInstanceId !== undefined)) {
        throw new OperationError(ResponseCode.BAD_REQUEST, `${formatPath(path)} does not match the resource's multiplicity`);
      }
    }
    for (const { path, value } of leaves) this.setValue(path, value);
  }

  /** Create (Core §6.3.4): 4.04 for an object the client lacks, 4.00 when the instance exists. */
  create(objectId: number, node: ObjectInstanceNode): void {
    const object = this.#objects.get(objectId);
    if (!object) throw notFound([objectId]);
    if (object.has(node.id)) throw new OperationError(ResponseCode.BAD_REQUEST, `/${objectId}/${node.id} already exists`);
    if (this.model.getObject(objectId)?.multiple === false && object.size > 0) {
      throw new OperationError(ResponseCode.BAD_REQUEST, `object ${objectId} is single-instance`);
    }
    for (const resource of node.resources) this.#checkWritable(objectId, node.id, resource.id, 'create');
    const instance: InstanceState = new Map();
    for (const resource of node.resources) this.#writeResource(instance, resource, 'replace');
    object.set(node.id, instance);
  }

  /** Delete (Core §6.3.5) of an object instance; the Device instance refuses. */
  delete(path: Lwm2mPath): void {
    const [objectId, instanceId] = path;
    if (objectId === undefined || instanceId === undefined || path.length !== 2) {
      throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `Delete targets an object instance, not ${formatPath(path)}`);
    }
    const object = this.#objects.get(objectId);
    if (!object?.has(instanceId)) throw notFound(path);
    const model = this.model.getObject(objectId);
    if (model?.mandatory && !model.multiple) throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `${formatPath(path)} cannot be deleted`);
    object.delete(instanceId);
  }

  /** Execute (Core §6.3.6) is allowed on the path: 4.04 when absent, 4.05 when not executable. */
  checkExecutable(path: Lwm2mPath): void {
    const [objectId, instanceId, resourceId] = path;
    if (objectId === undefined || instanceId === undefined || resourceId === undefined || path.length !== 3) {
      throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `Execute targets a resource, not ${formatPath(path)}`);
    }
    const resource = this.resource(objectId, instanceId, resourceId);
    if (!resource) throw notFound(path);
    if (resource.kind !== 'executable') throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `${formatPath(path)} is not executable`);
  }

  #instanceFor(objectId: number, instanceId: number): InstanceState {
    let object = this.#objects.get(objectId);
    if (!object) {
      object = new Map();
      this.#objects.set(objectId, object);
    }
    let instance = object.get(instanceId);
    if (!instance) {
      instance = new Map();
      object.set(instanceId, instance);
    }
    return instance;
  }

  /** The server may write W resources; Create may set any resource but an executable one. */
  #checkWritable(objectId: number, instanceId: number, resourceId: number, writer: 'server' | 'create'): void {
    const path: Lwm2mPath = [objectId, instanceId, resourceId];
    if (this.resource(objectId, instanceId, resourceId)?.kind === 'executable') {
      throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `${formatPath(path)} is executable`);
    }
    const object = this.model.getObject(objectId);
    if (!object) return; // no definition: nothing to check against
    const model = object.resources.get(resourceId);
    if (!model) throw notFound(path);
    if (model.operations === 'E') throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `${formatPath(path)} is executable`);
    if (writer === 'server' && !model.operations.includes('W')) {
      throw new OperationError(ResponseCode.METHOD_NOT_ALLOWED, `${formatPath(path)} is not writable`);
    }
  }

  #writeResource(instance: InstanceState, node: ResourceNode, mode: WriteMode): void {
    if (node.kind === 'resource') {
      instance.set(node.id, { kind: 'single', value: node.value });
      return;
    }
    const current = instance.get(node.id);
    const instances = new Map(mode === 'update' && current?.kind === 'multiple' ? current.instances : []);
    for (const child of node.instances) instances.set(child.id, child.value);
    instance.set(node.id, { kind: 'multiple', instances });
  }
}

function instanceNode(id: number, instance: InstanceState): ObjectInstanceNode {
  const resources: ResourceNode[] = [];
  for (const resourceId of sortedKeys(instance)) {
    const resource = instance.get(resourceId) as ResourceState;
    if (resource.kind !== 'executable') resources.push(resourceNode(resourceId, resource));
  }
  return { kind: 'instance', id, resources };
}

function resourceNode(id: number, resource: Exclude<ResourceState, { kind: 'executable' }>): ResourceNode {
  if (resource.kind === 'single') return { kind: 'resource', id, value: resource.value };
  return {
    kind: 'multipleResource',
    id,
    instances: sortedKeys(resource.instances).map((riid) => ({
      kind: 'resourceInstance',
      id: riid,
      value: resource.instances.get(riid) as Lwm2mValue,
    })),
  } satisfies MultipleResourceNode;
}

function leavesOf(node: Lwm2mNode, path: Lwm2mPath): Leaf[] {
  const at = (id: number): Lwm2mPath => [...path, id] as unknown as Lwm2mPath;
  switch (node.kind) {
    case 'object':
      return node.instances.flatMap((child) => leavesOf(child, at(child.id)));
    case 'instance':
      return node.resources.flatMap((child) => leavesOf(child, at(child.id)));
    case 'multipleResource':
      return node.instances.flatMap((child) => leavesOf(child, at(child.id)));
    case 'resource':
    case 'resourceInstance':
      return [{ path, value: node.value }];
  }
}
