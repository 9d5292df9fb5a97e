/**
 * Value conventions shared by the codecs: integer ranges and normalisation, strict UTF-8,
 * the "ObjID:InstID" object-link text form (LwM2M Core Appendix C), and how a single-value
 * payload (text/plain, octet-stream, CBOR) maps onto a request path.
 */
import { DecodeError, EncodeError } from './codec.js';
import type { Lwm2mNode, Lwm2mValue, ObjectLink } from '../model/node.js';
import type { ModelProvider, ResourceModel } from '../model/object-model.js';
import { getResourceModel } from '../model/object-model.js';
import { formatPath, type Lwm2mPath } from '../model/path.js';

/** LwM2M Core Appendix C: Integer is at most 64-bit signed, Unsigned Integer at most 64-bit unsigned. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

/** The node tree's rule (model/node.ts): number while safe, bigint beyond, so values deep-equal. */
export function normaliseInteger(value: bigint): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) && BigInt(n) === value ? n : value;
}

/** Integer value of a node as bigint, or undefined when it is not an integer at all (e.g. 1.5, NaN). */
export function integerAsBigInt(value: number | bigint): bigint | undefined {
  if (typeof value === 'bigint') return value;
  return Number.isSafeInteger(value) ? BigInt(value) : undefined;
}

/** Range-checked integer of an integer/unsignedInteger/time value, for encoders. */
export function checkedInteger(value: number | bigint, min: bigint, max: bigint, contentFormat: number, what: string): bigint {
  const big = integerAsBigInt(value);
  if (big === undefined) throw new EncodeError(contentFormat, `${what} ${String(value)} is not an integer`);
  if (big < min || big > max) throw new EncodeError(contentFormat, `${what} ${String(value)} is outside [${min}, ${max}]`);
  return big;
}

// ignoreBOM: a leading U+FEFF is part of the value, not a byte-order mark to strip silently.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Strict UTF-8 (LwM2M Core Appendix C: String is UTF-8): malformed bytes are a DecodeError, not U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, contentFormat: number, offset: number): string {
  // Short ASCII (the bulk of LwM2M strings) is cheaper to build directly than through TextDecoder.
  if (bytes.length <= ASCII_FAST_PATH_MAX) {
    let ascii = '';
    let i = 0;
    for (; i < bytes.length; i++) {
      const b = bytes[i] as number;
      if (b >= 0x80) break;
      ascii += String.fromCharCode(b);
    }
    if (i === bytes.length) return ascii;
  }
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new DecodeError(contentFormat, offset, 'string value is not valid UTF-8');
  }
}

const ASCII_FAST_PATH_MAX = 64;

// A lone surrogate cannot be written as UTF-8: TextEncoder would substitute U+FFFD and the value would
// silently change on the wire.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function encodeUtf8(text: string, contentFormat: number): Uint8Array {
  if (text.length <= ASCII_FAST_PATH_MAX) {
    const out = new Uint8Array(text.length);
    let i = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      out[i] = c;
    }
    if (i === text.length) return out;
  }
  if (LONE_SURROGATE.test(text)) {
    throw new EncodeError(contentFormat, 'string contains a lone UTF-16 surrogate, which UTF-8 cannot carry');
  }
  return utf8Encoder.encode(text);
}

/** LwM2M Core Appendix C: Objlnk as text is "ObjID:InstID", both 16-bit decimal. */
export function formatObjectLink(link: ObjectLink, contentFormat: number): string {
  checkObjectLink(link, contentFormat);
  return `${link.objectId}:${link.instanceId}`;
}

export function checkObjectLink(link: ObjectLink, contentFormat: number): void {
  for (const id of [link.objectId, link.instanceId]) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff) {
      throw new EncodeError(contentFormat, `object link id ${id} is not a 16-bit unsigned integer`);
    }
  }
}

const OBJLNK_TEXT = /^(0|[1-9][0-9]{0,4}):(0|[1-9][0-9]{0,4})$/;

export function parseObjectLink(text: string): ObjectLink | undefined {
  const match = OBJLNK_TEXT.exec(text);
  if (!match) return undefined;
  const objectId = Number(match[1]);
  const instanceId = Number(match[2]);
  if (objectId > 0xffff || instanceId > 0xffff) return undefined;
  return { objectId, instanceId };
}

/** A copy that owns its memory and is a plain Uint8Array (not a Buffer view of the request). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Where a single-value payload (text, opaque, CBOR) lands: a resource or one resource instance. */
export interface SingleValueTarget {
  readonly resource: ResourceModel | undefined;
  node(value: Lwm2mValue): Lwm2mNode;
}

/**
 * text/plain, octet-stream and CBOR carry exactly one value (LwM2M Core §7.4.1 plain text, §7.4.2 opaque, §7.4 CBOR),
 * so they answer only a single-instance resource or a resource-instance path.
 */
export function singleValueTarget(path: Lwm2mPath, model: ModelProvider, contentFormat: number): SingleValueTarget {
  if (path.length === 3) {
    const [objectId, , resourceId] = path;
    const resource = getResourceModel(model, objectId, resourceId);
    if (resource?.multiple) {
      throw new DecodeError(
        contentFormat,
        0,
        `${formatPath(path)} is a multiple resource; this content format carries a single value only`,
      );
    }
    return { resource, node: (value) => ({ kind: 'resource', id: resourceId, value }) };
  }
  if (path.length === 4) {
    const [objectId, , resourceId, resourceInstanceId] = path;
    const resource = getResourceModel(model, objectId, resourceId);
    return { resource, node: (value) => ({ kind: 'resourceInstance', id: resourceInstanceId, value }) };
  }
  throw new DecodeError(
    contentFormat,
    0,
    `${formatPath(path)} is not a resource or resource instance path; this content format carries a single value only`,
  );
}

/** The value an encoder of a single-value format writes, after checking that node and path agree. */
export function singleValueOf(node: Lwm2mNode, path: Lwm2mPath, contentFormat: number): Lwm2mValue {
  if (path.length === 3 && node.kind === 'resource' && node.id === path[2]) return node.value;
  if (path.length === 4 && node.kind === 'resourceInstance' && node.id === path[3]) return node.value;
  if (node.kind === 'multipleResource') {
    throw new EncodeError(contentFormat, `multiple resource ${node.id} needs a multi-value format (TLV, SenML, LwM2M CBOR)`);
  }
  throw new EncodeError(contentFormat, `a ${node.kind} node with id ${node.id} cannot be encoded for path ${formatPath(path)}`);
}
