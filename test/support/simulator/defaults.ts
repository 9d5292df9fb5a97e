/**
 * The simulated client's objects at start-up, typed by the object model, and the
 * shipped model itself (loaded once per process).
 */
import type { Lwm2mValue, ResourceType } from '../../../src/model/node.js';
import type { ModelProvider } from '../../../src/model/object-model.js';
import { createDefaultRegistry, type ObjectLoadError } from '../../../src/model/object-registry.js';
import { parsePath } from '../../../src/model/path.js';
import type { ObjectTree } from './tree.js';

/** Objects the default state needs a definition of. */
const REQUIRED_OBJECTS = [1, 3, 3303];

let shipped: Promise<ModelProvider> | undefined;

/** Our `objects/` folder; fails loudly when it lacks an object the default state uses. */
export function shippedModel(): Promise<ModelProvider> {
  shipped ??= (async () => {
    const errors: ObjectLoadError[] = [];
    const registry = await createDefaultRegistry([], (error) => errors.push(error));
    const missing = REQUIRED_OBJECTS.filter((id) => registry.getObject(id) === undefined);
    if (missing.length > 0) {
      const reasons = errors.map((e) => `${e.file}: ${e.reason}`).join('; ');
      throw new Error(`shipped objects lack ${missing.join(', ')}${reasons ? ` (${reasons})` : ''}`);
    }
    return registry;
  })();
  return shipped;
}

type Scalar = string | number | boolean;
/** A resource of the default state: one value, the values of a multiple resource, or an executable. */
type Initial = Scalar | readonly Scalar[] | typeof EXECUTABLE;

const EXECUTABLE = Symbol('executable');

export interface DefaultStateOptions {
  readonly endpoint: string;
  readonly lifetime: number;
  /** Binding as the Server object and the Device's Supported Binding show it (`U`, or `UQ` for a 1.0 queue-mode client). */
  readonly binding: string;
}

function defaultResources(options: DefaultStateOptions, now: number): ReadonlyArray<readonly [string, Initial]> {
  return [
    // Server (Core Appendix E.2)
    ['/1/0/0', 1],
    ['/1/0/1', options.lifetime],
    ['/1/0/7', options.binding],
    // Device (Core Appendix E.4)
    ['/3/0/0', 'lwm2m-hub simulator'],
    ['/3/0/1', 'sim-1'],
    ['/3/0/2', `SN-${options.endpoint}`],
    ['/3/0/3', '1.0.0'],
    ['/3/0/4', EXECUTABLE],
    ['/3/0/6', [1, 5]],
    ['/3/0/7', [3800, 5000]],
    ['/3/0/9', 95],
    ['/3/0/11', [0]],
    ['/3/0/13', now],
    ['/3/0/14', '+01:00'],
    ['/3/0/16', options.binding],
    // Temperature (IPSO 3303)
    ['/3303/0/5700', 21.5],
    ['/3303/0/5701', 'Cel'],
    ['/3303/0/5601', 18.25],
    ['/3303/0/5602', 23.75],
  ];
}

export function loadDefaultState(tree: ObjectTree, options: DefaultStateOptions): void {
  const now = Math.floor(Date.now() / 1000);
  for (const [text, initial] of defaultResources(options, now)) {
    const [objectId, instanceId, resourceId] = parsePath(text) as readonly [number, number, number];
    if (initial === EXECUTABLE) {
      tree.putResource(objectId, instanceId, resourceId, { kind: 'executable' });
      continue;
    }
    const type = tree.resourceModel(objectId, resourceId)?.type;
    if (Array.isArray(initial)) {
      const values: readonly Scalar[] = initial;
      tree.putResource(objectId, instanceId, resourceId, {
        kind: 'multiple',
        instances: new Map(values.map((raw, id) => [id, typedValue(type, raw)])),
      });
    } else {
      tree.putResource(objectId, instanceId, resourceId, { kind: 'single', value: typedValue(type, initial as Scalar) });
    }
  }
}

/** A raw value as the resource's data type (Core Appendix C); inferred from the value without a definition. */
export function typedValue(type: ResourceType | undefined, raw: Scalar): Lwm2mValue {
  switch (type) {
    case 'string':
      return { type, value: String(raw) };
    case 'integer':
    case 'unsignedInteger':
    case 'float':
    case 'time':
      return { type, value: Number(raw) };
    case 'boolean':
      return { type, value: Boolean(raw) };
    case 'opaque':
      return { type, value: Buffer.from(String(raw)) };
    case 'corelnk':
      return { type, value: String(raw) };
    case 'objlnk': {
      const [objectId, instanceId] = String(raw).split(':').map(Number);
      return { type, value: { objectId: objectId ?? 0, instanceId: instanceId ?? 0 } };
    }
    case 'none':
      return { type, value: null };
    case undefined:
      if (typeof raw === 'boolean') return { type: 'boolean', value: raw };
      if (typeof raw === 'number') return Number.isInteger(raw) ? { type: 'integer', value: raw } : { type: 'float', value: raw };
      return { type: 'string', value: raw };
  }
}
