/**
 * The typed node tree every codec decodes to and encodes from (LwM2M Core §7.4:
 * object → object instance → resource → resource instance).
 */

/** Resource data types of LwM2M Core Appendix C, plus `none` for executable resources. */
export type ResourceType =
  | 'string'
  | 'integer'
  | 'unsignedInteger'
  | 'float'
  | 'boolean'
  | 'opaque'
  | 'time'
  | 'objlnk'
  | 'corelnk'
  | 'none';

export interface ObjectLink {
  readonly objectId: number;
  readonly instanceId: number;
}

/**
 * A typed value. Integers are `number` while they are safe integers and `bigint`
 * beyond (64-bit values from TLV or CBOR); decoders normalise to that rule so that
 * values compare with deep equality.
 * `unknown` holds the raw bytes of a value whose type no definition gave and the
 * format does not carry (TLV, text): nothing is thrown away.
 */
export type Lwm2mValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'integer'; readonly value: number | bigint }
  | { readonly type: 'unsignedInteger'; readonly value: number | bigint }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'opaque'; readonly value: Uint8Array }
  /** Seconds since the Unix epoch. */
  | { readonly type: 'time'; readonly value: number }
  | { readonly type: 'objlnk'; readonly value: ObjectLink }
  | { readonly type: 'corelnk'; readonly value: string }
  | { readonly type: 'none'; readonly value: null }
  | { readonly type: 'unknown'; readonly value: Uint8Array };

export type ValueType = Lwm2mValue['type'];

export interface ResourceInstanceNode {
  readonly kind: 'resourceInstance';
  readonly id: number;
  readonly value: Lwm2mValue;
}

export interface SingleResourceNode {
  readonly kind: 'resource';
  readonly id: number;
  readonly value: Lwm2mValue;
}

export interface MultipleResourceNode {
  readonly kind: 'multipleResource';
  readonly id: number;
  readonly instances: readonly ResourceInstanceNode[];
}

export type ResourceNode = SingleResourceNode | MultipleResourceNode;

export interface ObjectInstanceNode {
  readonly kind: 'instance';
  readonly id: number;
  readonly resources: readonly ResourceNode[];
}

export interface ObjectNode {
  readonly kind: 'object';
  readonly id: number;
  readonly instances: readonly ObjectInstanceNode[];
}

export type Lwm2mNode = ObjectNode | ObjectInstanceNode | ResourceNode | ResourceInstanceNode;
