/**
 * application/cbor (content format 60) for one resource or resource instance value
 * (LwM2M Core 1.1/1.2 §7.4 "CBOR" and Appendix C; CBOR itself is RFC 8949), via cbor-x.
 *
 *   integer          major type 0/1 (tag 2/3 bignums up to 64 bits accepted)
 *   unsignedInteger  major type 0 (tag 2 accepted)
 *   float            major type 7 float; encoded as float64 always. Decoding also accepts
 *                    half/single floats and integers (many encoders shrink integral floats).
 *   boolean          true / false
 *   string, corelnk  text string
 *   opaque           byte string
 *   time             tag 1 + integer seconds (encoded so); decoding also accepts a bare integer or
 *                    float, and a float under tag 1
 *   objlnk           text string "ObjID:InstID" (Core 1.2 Appendix C)
 * Without a resource definition the CBOR type decides; what maps to no LwM2M type (null, undefined)
 * is kept as `unknown` holding the raw CBOR bytes, which the encoder writes back verbatim.
 *
 * Only the shapes above are handed to cbor-x: arrays, maps and other tags are refused from the
 * initial byte, so no untrusted length reaches an allocation and no extension (records, Date,
 * shared structures) ever runs.
 */
import { Decoder, Encoder, Tag } from 'cbor-x';
import { ContentFormat, DecodeError, EncodeError, type Codec } from '../codec.js';
import type { Lwm2mNode, Lwm2mValue, ResourceType } from '../../model/node.js';
import type { ModelProvider } from '../../model/object-model.js';
import type { Lwm2mPath } from '../../model/path.js';
import {
  INT64_MAX,
  INT64_MIN,
  UINT64_MAX,
  checkedInteger,
  copyBytes,
  decodeUtf8,
  encodeUtf8,
  formatObjectLink,
  normaliseInteger,
  parseObjectLink,
  singleValueOf,
  singleValueTarget,
} from '../scalars.js';

const CF = ContentFormat.CBOR;

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });
const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
// alwaysUseFloat: cbor-x would otherwise write an integral float (3.0) as the integer 3.
const floatEncoder = new Encoder({ useRecords: false, alwaysUseFloat: true, useFloat32: 0 });

/** A decoded data item, classified by its CBOR major type rather than by its JS type. */
type Item =
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'epoch'; readonly value: number | bigint }
  | { readonly kind: 'nothing' };

const ALLOWED_SIMPLE = new Set([0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb]);

function cborx(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new DecodeError(CF, 0, `malformed CBOR: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Length of the head (initial byte + argument) of a definite-length item (RFC 8949 §3). */
function headLength(initial: number): number {
  const info = initial & 0x1f;
  return info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : info === 26 ? 5 : 9;
}

function isNumberHead(initial: number | undefined): boolean {
  if (initial === undefined) return false;
  const major = initial >> 5;
  return major === 0 || major === 1 || initial === 0xf9 || initial === 0xfa || initial === 0xfb;
}

function asInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new DecodeError(CF, 0, 'CBOR integer did not decode to an integer');
}

function readItem(bytes: Uint8Array): Item {
  const initial = bytes[0] as number;
  const major = initial >> 5;
  switch (major) {
    case 0:
    case 1:
      return { kind: 'int', value: asInt(cborx(bytes)) };
    case 2: {
      const value = cborx(bytes);
      if (!(value instanceof Uint8Array)) throw new DecodeError(CF, 0, 'CBOR byte string did not decode to bytes');
      return { kind: 'bytes', value: copyBytes(value) };
    }
    case 3:
      cborx(bytes); // well-formedness and exact length; the text itself is checked strictly below
      return { kind: 'text', value: decodeUtf8(bytes.subarray(headLength(initial)), CF, headLength(initial)) };
    case 4:
    case 5:
      throw new DecodeError(CF, 0, 'a CBOR array or map is not a single resource value');
    case 6: {
      if (initial === 0xc1) {
        // RFC 8949 §3.4.2: tag 1 is epoch-based date/time, an integer or float. Decoded here rather
        // than by cbor-x, which would turn it into a Date and round to milliseconds.
        if (!isNumberHead(bytes[1])) throw new DecodeError(CF, 1, 'tag 1 (epoch time) must hold an integer or float');
        const inner = cborx(bytes.subarray(1));
        if (typeof inner !== 'number' && typeof inner !== 'bigint') throw new DecodeError(CF, 1, 'tag 1 must hold a number');
        return { kind: 'epoch', value: inner };
      }
      if (initial === 0xc2 || initial === 0xc3) {
        // RFC 8949 §3.4.3 bignums; the byte string length is bounded by the input (checked by cbor-x).
        const next = bytes[1];
        if (next === undefined || next >> 5 !== 2) throw new DecodeError(CF, 1, 'bignum tag must hold a byte string');
        if (bytes.length > 64) throw new DecodeError(CF, 0, 'bignum larger than any LwM2M integer');
        return { kind: 'int', value: asInt(cborx(bytes)) };
      }
      throw new DecodeError(CF, 0, `CBOR tag in initial byte 0x${initial.toString(16)} has no LwM2M meaning here`);
    }
    default: {
      if (!ALLOWED_SIMPLE.has(initial)) throw new DecodeError(CF, 0, `CBOR simple value 0x${initial.toString(16)} is not a LwM2M value`);
      const value = cborx(bytes);
      if (typeof value === 'boolean') return { kind: 'bool', value };
      if (typeof value === 'number') return { kind: 'float', value };
      return { kind: 'nothing' };
    }
  }
}

function inRange(value: bigint, min: bigint, max: bigint, what: string): number | bigint {
  if (value < min || value > max) throw new DecodeError(CF, 0, `${what} ${value} is outside [${min}, ${max}]`);
  return normaliseInteger(value);
}

function mismatch(type: ResourceType, item: Item): never {
  throw new DecodeError(CF, 0, `resource of type ${type} cannot hold a CBOR ${item.kind} value`);
}

function timeSeconds(value: number | bigint): number {
  const seconds = typeof value === 'bigint' ? normaliseInteger(value) : value;
  if (typeof seconds === 'bigint' || !Number.isFinite(seconds)) {
    throw new DecodeError(CF, 0, `time ${String(seconds)} is not a representable number of seconds`);
  }
  return seconds;
}

function typeItem(item: Item, type: ResourceType | undefined, bytes: Uint8Array): Lwm2mValue {
  switch (type) {
    case undefined:
      // No definition: CBOR says what the value is.
      switch (item.kind) {
        case 'int':
          return item.value > INT64_MAX
            ? { type: 'unsignedInteger', value: inRange(item.value, 0n, UINT64_MAX, 'unsignedInteger') }
            : { type: 'integer', value: inRange(item.value, INT64_MIN, INT64_MAX, 'integer') };
        case 'float':
          return { type: 'float', value: item.value };
        case 'bool':
          return { type: 'boolean', value: item.value };
        case 'text':
          return { type: 'string', value: item.value };
        case 'bytes':
          return { type: 'opaque', value: item.value };
        case 'epoch':
          return { type: 'time', value: timeSeconds(item.value) };
        case 'nothing':
          return { type: 'unknown', value: copyBytes(bytes) };
      }
      break;
    case 'integer':
      if (item.kind === 'int') return { type: 'integer', value: inRange(item.value, INT64_MIN, INT64_MAX, 'integer') };
      return mismatch(type, item);
    case 'unsignedInteger':
      if (item.kind === 'int') return { type: 'unsignedInteger', value: inRange(item.value, 0n, UINT64_MAX, 'unsignedInteger') };
      return mismatch(type, item);
    case 'float':
      if (item.kind === 'float') return { type: 'float', value: item.value };
      if (item.kind === 'int') return { type: 'float', value: Number(item.value) };
      return mismatch(type, item);
    case 'boolean':
      if (item.kind === 'bool') return { type: 'boolean', value: item.value };
      return mismatch(type, item);
    case 'string':
      if (item.kind === 'text') return { type: 'string', value: item.value };
      return mismatch(type, item);
    case 'corelnk':
      if (item.kind === 'text') return { type: 'corelnk', value: item.value };
      return mismatch(type, item);
    case 'opaque':
      if (item.kind === 'bytes') return { type: 'opaque', value: item.value };
      return mismatch(type, item);
    case 'time':
      if (item.kind === 'epoch' || item.kind === 'int' || item.kind === 'float') {
        return { type: 'time', value: timeSeconds(item.value) };
      }
      return mismatch(type, item);
    case 'objlnk': {
      const link = item.kind === 'text' ? parseObjectLink(item.value) : undefined;
      if (link) return { type: 'objlnk', value: link };
      throw new DecodeError(CF, 0, 'objlnk must be a CBOR text string "ObjID:InstID" (LwM2M Core 1.2 Appendix C)');
    }
    case 'none':
      // Executable resources have no value; keep whatever a client sent.
      return { type: 'unknown', value: copyBytes(bytes) };
  }
}

export function decodeCborValue(bytes: Uint8Array, type: ResourceType | undefined): Lwm2mValue {
  if (bytes.length === 0) {
    if (type === 'none') return { type: 'none', value: null };
    throw new DecodeError(CF, 0, 'empty payload: CBOR needs one data item');
  }
  return typeItem(readItem(bytes), type, bytes);
}

/** cbor-x writes a JS number above 32 bits as a float; a bigint keeps it an integer (major type 0/1). */
function cborInteger(value: bigint): number | bigint {
  return value >= -0x100000000n && value <= 0xffffffffn ? Number(value) : value;
}

function own(buffer: Uint8Array): Uint8Array {
  // cbor-x returns a view into its reusable encode buffer: copy before the next encode overwrites it.
  return copyBytes(buffer);
}

export function encodeCborValue(value: Lwm2mValue): Uint8Array {
  switch (value.type) {
    case 'string':
    case 'corelnk':
      encodeUtf8(value.value, CF); // refuses lone surrogates, which cbor-x would replace silently
      return own(encoder.encode(value.value));
    case 'integer':
      return own(encoder.encode(cborInteger(checkedInteger(value.value, INT64_MIN, INT64_MAX, CF, 'integer'))));
    case 'unsignedInteger':
      return own(encoder.encode(cborInteger(checkedInteger(value.value, 0n, UINT64_MAX, CF, 'unsignedInteger'))));
    case 'float':
      return own(floatEncoder.encode(value.value));
    case 'boolean':
      return own(encoder.encode(value.value));
    case 'opaque':
      // A Buffer view: cbor-x writes Buffers as byte strings (major type 2) without a typed-array tag.
      return own(encoder.encode(Buffer.from(value.value.buffer, value.value.byteOffset, value.value.byteLength)));
    case 'time': {
      if (!Number.isFinite(value.value)) throw new EncodeError(CF, `time ${value.value} is not a finite number`);
      const seconds = Number.isSafeInteger(value.value) ? cborInteger(BigInt(value.value)) : value.value;
      if (typeof seconds === 'number' && !Number.isInteger(seconds)) {
        return own(floatEncoder.encode(new Tag(seconds, 1)));
      }
      return own(encoder.encode(new Tag(seconds, 1)));
    }
    case 'objlnk':
      return own(encoder.encode(formatObjectLink(value.value, CF)));
    case 'unknown':
      // Raw CBOR bytes of an item nobody could type: written back verbatim.
      return copyBytes(value.value);
    case 'none':
      return new Uint8Array(0);
  }
}

export const cborCodec: Codec = {
  name: 'application/cbor',
  contentFormats: [ContentFormat.CBOR],
  decode(bytes: Uint8Array, path: Lwm2mPath, model: ModelProvider): Lwm2mNode {
    const target = singleValueTarget(path, model, CF);
    return target.node(decodeCborValue(bytes, target.resource?.type));
  },
  encode(node: Lwm2mNode, path: Lwm2mPath): Uint8Array {
    return encodeCborValue(singleValueOf(node, path, CF));
  },
};
