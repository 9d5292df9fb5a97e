/**
 * Value typing shared by the SenML JSON/CBOR, LwM2M JSON and LwM2M CBOR codecs.
 *
 * These formats carry a value *class* (number, text, boolean, bytes, object link)
 * but not the LwM2M data type. The object model refines the class into a type
 * (LwM2M Core §7.4, Appendix C); when the model is silent or contradicts the
 * payload, the payload's class wins so that no value is lost or rejected.
 */
import { DecodeError, EncodeError } from '../codec.js';
import type { Lwm2mValue, ObjectLink } from '../../model/node.js';
import type { ResourceModel } from '../../model/object-model.js';

/** A value as the wire format classifies it, before the model types it. */
export type WireValue =
  | { readonly kind: 'number'; readonly value: number | bigint }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  /** SenML `vlo` / LwM2M JSON `ov`: text "objectId:instanceId". */
  | { readonly kind: 'objlnk'; readonly value: string }
  /** LwM2M CBOR time carried with CBOR tag 1 (RFC 8949 §3.4.2), in seconds. */
  | { readonly kind: 'time'; readonly value: number }
  /** No value: SenML record without value field, LwM2M CBOR `null`. */
  | { readonly kind: 'none' };

// The 64-bit ranges and the "3:0" object-link parser are the ones every codec uses.
export { INT64_MAX, INT64_MIN, parseObjectLink, UINT64_MAX } from '../scalars.js';
import { INT64_MAX, INT64_MIN, parseObjectLink, UINT64_MAX } from '../scalars.js';
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Integers are `number` while safe and `bigint` beyond (node.ts contract); -0 becomes 0. */
export function normalizeInteger(value: bigint | number): number | bigint {
  if (typeof value === 'number') return value === 0 ? 0 : value;
  return value >= SAFE_MIN && value <= SAFE_MAX ? Number(value) : value;
}

/** The exact integer a number or bigint denotes, or undefined when it is not integral. */
export function exactInteger(value: number | bigint): bigint | undefined {
  if (typeof value === 'bigint') return value;
  return Number.isInteger(value) ? BigInt(value) : undefined;
}

/**
 * Untyped numbers (no model): integral values that fit 64 bits stay exact integers,
 * everything else is a float. Values above INT64_MAX can only be unsigned.
 */
function untypedNumber(value: number | bigint): Lwm2mValue {
  const int = exactInteger(value);
  if (int !== undefined && int >= INT64_MIN && int <= UINT64_MAX) {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      // a float that happens to be integral beyond 2^53 (1e18 sent as a double): it was never exact
      return { type: 'float', value };
    }
    return int > INT64_MAX
      ? { type: 'unsignedInteger', value: normalizeInteger(int) }
      : { type: 'integer', value: normalizeInteger(int) };
  }
  return { type: 'float', value: Number(value) };
}

function typedNumber(value: number | bigint, model: ResourceModel): Lwm2mValue | undefined {
  switch (model.type) {
    case 'integer': {
      const int = exactInteger(value);
      return int !== undefined && int >= INT64_MIN && int <= INT64_MAX
        ? { type: 'integer', value: normalizeInteger(int) }
        : undefined;
    }
    case 'unsignedInteger': {
      const int = exactInteger(value);
      return int !== undefined && int >= 0n && int <= UINT64_MAX
        ? { type: 'unsignedInteger', value: normalizeInteger(int) }
        : undefined;
    }
    case 'float': {
      if (typeof value === 'number') return { type: 'float', value };
      const asFloat = Number(value);
      // a 64-bit integer a double cannot hold exactly stays an integer rather than losing digits
      return BigInt(asFloat) === value ? { type: 'float', value: asFloat } : undefined;
    }
    case 'time': {
      if (typeof value === 'number')
        return Number.isFinite(value) ? { type: 'time', value: value === 0 ? 0 : value } : undefined;
      return value >= SAFE_MIN && value <= SAFE_MAX ? { type: 'time', value: Number(value) } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Types a wire value with the resource model. Total: a class the model does not
 * accept falls back to the untyped reading of the payload.
 * `base64Text`: LwM2M 1.0 JSON carries opaque as Base64 in `sv` (TS 1.0 §6.4.4).
 */
export function typeWireValue(
  wire: WireValue,
  model: ResourceModel | undefined,
  options: { readonly base64Text?: boolean } = {},
): Lwm2mValue {
  switch (wire.kind) {
    case 'none':
      return { type: 'none', value: null };
    case 'number':
      return (model && typedNumber(wire.value, model)) ?? untypedNumber(wire.value);
    case 'boolean':
      return { type: 'boolean', value: wire.value };
    case 'bytes':
      return { type: 'opaque', value: wire.value };
    case 'time':
      return { type: 'time', value: wire.value };
    case 'objlnk': {
      const link = parseObjectLink(wire.value);
      return link ? { type: 'objlnk', value: link } : { type: 'string', value: wire.value };
    }
    case 'string': {
      switch (model?.type) {
        case 'corelnk':
          return { type: 'corelnk', value: wire.value };
        case 'objlnk': {
          // LwM2M CBOR (TS Core 1.2 §7.4.6) carries object links as text strings
          const link = parseObjectLink(wire.value);
          if (link) return { type: 'objlnk', value: link };
          break;
        }
        case 'opaque': {
          if (options.base64Text) {
            const bytes = decodeBase64(wire.value);
            if (bytes) return { type: 'opaque', value: bytes };
          }
          break;
        }
        default:
          break;
      }
      return { type: 'string', value: wire.value };
    }
  }
}

export function formatObjectLink(link: ObjectLink, contentFormat: number): string {
  if (!isId(link.objectId) || !isId(link.instanceId)) {
    throw new EncodeError(contentFormat, `object link ${link.objectId}:${link.instanceId} has an id outside 0..65535`);
  }
  return `${link.objectId}:${link.instanceId}`;
}

export function isId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= 65535;
}

// RFC 4648 §4 and §5 alphabets, accepted together; padding optional (RFC 8428 §5 forbids it, clients add it anyway)
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Strict-enough Base64/Base64url decoding: undefined when the text is not Base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (text.length !== unpadded.length && text.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** RFC 8428 §5: `vd` is base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Checks an integer value against its LwM2M range (Appendix C: 64-bit signed / unsigned) before encoding. */
export function checkedInteger(
  value: Lwm2mValue & { type: 'integer' | 'unsignedInteger' },
  contentFormat: number,
): number | bigint {
  const raw = value.value;
  const int = exactInteger(raw);
  const [min, max] = value.type === 'integer' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
  if (int === undefined || int < min || int > max) {
    throw new EncodeError(
      contentFormat,
      `${value.type} value ${String(raw)} is not a 64-bit ${value.type === 'integer' ? 'signed' : 'unsigned'} integer`,
    );
  }
  return normalizeInteger(int);
}

/** Raises the DecodeError for a value of the wrong wire type in a known field. */
export function wrongType(contentFormat: number, offset: number, field: string, expected: string): never {
  throw new DecodeError(contentFormat, offset, `field "${field}" must be ${expected}`);
}
