import type { ResourceType } from './node.js';

/** Operations of a resource as written in DDF `<Operations>`. */
export type ResourceOperations = '' | 'R' | 'W' | 'RW' | 'E';

export interface ResourceModel {
  readonly id: number;
  readonly name: string;
  readonly operations: ResourceOperations;
  readonly multiple: boolean;
  readonly mandatory: boolean;
  readonly type: ResourceType;
  readonly rangeEnumeration?: string;
  readonly units?: string;
  readonly description?: string;
}

export interface ObjectModel {
  readonly id: number;
  readonly name: string;
  /** Object version, `1.0` when the DDF does not say. */
  readonly version: string;
  /** LwM2M enabler version the object was written for (DDF `LWM2MVersion`). */
  readonly lwm2mVersion: string;
  readonly multiple: boolean;
  readonly mandatory: boolean;
  readonly urn?: string;
  readonly description?: string;
  readonly resources: ReadonlyMap<number, ResourceModel>;
}

/** What codecs need from the model: look up an object definition, by version when known. */
export interface ModelProvider {
  getObject(objectId: number, version?: string): ObjectModel | undefined;
}

/** A provider that knows nothing: codecs then decode to untyped values where the format carries no type. */
export const EMPTY_MODEL: ModelProvider = { getObject: () => undefined };

export function getResourceModel(
  model: ModelProvider,
  objectId: number,
  resourceId: number,
  version?: string,
): ResourceModel | undefined {
  return model.getObject(objectId, version)?.resources.get(resourceId);
}
