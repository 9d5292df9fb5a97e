/**
 * TLV value encodings (LwM2M Core Appendix C, column "TLV").
 *
 * Float rule: a float is written as 4 bytes when float32 represents it exactly
 * (`Math.fround(v) === v`, which includes ±0 and ±Infinity), otherwise as 8 bytes. NaN is written as
 * 8 bytes. Either way decoding yields exactly the encoded number. Both widths are decoded.
 */
import { DecodeError, EncodeError } from '../codec.js';
import type { Lwm2mValue, ResourceType } from '../../model/node.js';
import {
  INT64_MAX,
  INT64_MIN,
  UINT64_MAX,
  checkObjectLink,
  checkedInteger,
  copyBytes,
  decodeUtf8,
  encodeUtf8,
  normaliseInteger,
} from '../scalars.js';

const EMPTY = new Uint8Array(0);

function view(bytes: Uint8Array, start: number, length: number): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset + start, length);
}

function invalidLength(contentFormat: number, offset: number, type: string, length: number, allowed: string): DecodeError {
  return new DecodeError(contentFormat, offset, `${type} value of ${length} bytes; TLV allows ${allowed}`);
}

/** Core Appendix C: Integer is 1, 2, 4 or 8 bytes, two's complement, network byte order. */
function readSigned(bytes: Uint8Array, start: number, length: number, cf: number, what: string): number | bigint {
  // Lengths were checked against the input by readTlv, so every index below is in range.
  const b = (k: number): number => bytes[start + k] as number;
  switch (length) {
    case 1:
      return (b(0) << 24) >> 24;
    case 2:
      return (((b(0) << 8) | b(1)) << 16) >> 16;
    case 4:
      return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    case 8:
      return normaliseInteger(view(bytes, start, 8).getBigInt64(0));
    default:
      throw invalidLength(cf, start, what, length, '1, 2, 4 or 8');
  }
}

/** Core 1.1 Appendix C: Unsigned Integer is 1, 2, 4 or 8 bytes, network byte order. */
function readUnsigned(bytes: Uint8Array, start: number, length: number, cf: number): number | bigint {
  const dv = view(bytes, start, length);
  switch (length) {
    case 1:
      return dv.getUint8(0);
    case 2:
      return dv.getUint16(0);
    case 4:
      return dv.getUint32(0);
    case 8:
      return normaliseInteger(dv.getBigUint64(0));
    default:
      throw invalidLength(cf, start, 'unsignedInteger', length, '1, 2, 4 or 8');
  }
}

/**
 * Decodes the value bytes `[start, end)` as `type`. Without a type (no definition) the bytes are kept
 * verbatim as `unknown`: TLV does not say what they are, and nothing may be lost.
 */
export function decodeTlvValue(
  bytes: Uint8Array,
  start: number,
  end: number,
  type: ResourceType | undefined,
  contentFormat: number,
): Lwm2mValue {
  const length = end - start;
  const raw = (): Uint8Array => copyBytes(bytes.subarray(start, end));
  switch (type) {
    case undefined:
      return { type: 'unknown', value: raw() };
    case 'string':
      return { type: 'string', value: decodeUtf8(bytes.subarray(start, end), contentFormat, start) };
    case 'corelnk':
      return { type: 'corelnk', value: decodeUtf8(bytes.subarray(start, end), contentFormat, start) };
    case 'opaque':
      return { type: 'opaque', value: raw() };
    case 'integer':
      return { type: 'integer', value: readSigned(bytes, start, length, contentFormat, 'integer') };
    case 'unsignedInteger':
      return { type: 'unsignedInteger', value: readUnsigned(bytes, start, length, contentFormat) };
    case 'time': {
      // Core Appendix C: Time is a signed integer of seconds since the epoch, same encoding as Integer.
      const seconds = readSigned(bytes, start, length, contentFormat, 'time');
      if (typeof seconds === 'bigint') {
        throw new DecodeError(contentFormat, start, `time ${seconds} is beyond the safe integer range`);
      }
      return { type: 'time', value: seconds };
    }
    case 'float': {
      // Core Appendix C: Float is 4 or 8 bytes IEEE 754, network byte order.
      if (length === 4) return { type: 'float', value: view(bytes, start, 4).getFloat32(0) };
      if (length === 8) return { type: 'float', value: view(bytes, start, 8).getFloat64(0) };
      throw invalidLength(contentFormat, start, 'float', length, '4 or 8');
    }
    case 'boolean': {
      // Core Appendix C: Boolean is one byte, 0 or 1; any other byte is not a boolean.
      if (length !== 1) throw invalidLength(contentFormat, start, 'boolean', length, '1');
      const b = bytes[start];
      if (b !== 0 && b !== 1) throw new DecodeError(contentFormat, start, `boolean byte 0x${b?.toString(16)} is not 0 or 1`);
      return { type: 'boolean', value: b === 1 };
    }
    case 'objlnk': {
      // Core Appendix C: Objlnk is two 16-bit unsigned integers, object id then instance id.
      if (length !== 4) throw invalidLength(contentFormat, start, 'objlnk', length, '4');
      const dv = view(bytes, start, 4);
      return { type: 'objlnk', value: { objectId: dv.getUint16(0), instanceId: dv.getUint16(2) } };
    }
    case 'none':
      // Executable resources carry no value; if a client sends bytes anyway, keep them.
      return length === 0 ? { type: 'none', value: null } : { type: 'unknown', value: raw() };
  }
}

function signedBytes(value: bigint): Uint8Array {
  let out: Uint8Array;
  if (value >= -0x80n && value <= 0x7fn) {
    out = new Uint8Array(1);
    new DataView(out.buffer).setInt8(0, Number(value));
  } else if (value >= -0x8000n && value <= 0x7fffn) {
    out = new Uint8Array(2);
    new DataView(out.buffer).setInt16(0, Number(value));
  } else if (value >= -0x80000000n && value <= 0x7fffffffn) {
    out = new Uint8Array(4);
    new DataView(out.buffer).setInt32(0, Number(value));
  } else {
    out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, value);
  }
  return out;
}

/** Fast path for the common case of a small number; avoids BigInt. */
function smallSignedBytes(value: number): Uint8Array | undefined {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) return undefined;
  if (value >= -0x80 && value <= 0x7f) return Uint8Array.of(value & 0xff);
  if (value >= -0x8000 && value <= 0x7fff) return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
  return Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

function unsignedBytes(value: bigint): Uint8Array {
  let out: Uint8Array;
  if (value <= 0xffn) {
    out = Uint8Array.of(Number(value));
  } else if (value <= 0xffffn) {
    out = new Uint8Array(2);
    new DataView(out.buffer).setUint16(0, Number(value));
  } else if (value <= 0xffffffffn) {
    out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, Number(value));
  } else {
    out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, value);
  }
  return out;
}

/** The value bytes of a TLV record; integers take the smallest of 1/2/4/8 bytes (Core Appendix C). */
export function encodeTlvValue(value: Lwm2mValue, contentFormat: number): Uint8Array {
  switch (value.type) {
    case 'string':
    case 'corelnk':
      return encodeUtf8(value.value, contentFormat);
    case 'opaque':
    case 'unknown':
      // `unknown` holds the raw TLV value bytes it was decoded from: write them back verbatim.
      return value.value;
    case 'integer':
      return (
        (typeof value.value === 'number' ? smallSignedBytes(value.value) : undefined) ??
        signedBytes(checkedInteger(value.value, INT64_MIN, INT64_MAX, contentFormat, 'integer'))
      );
    case 'time':
      if (!Number.isSafeInteger(value.value)) {
        throw new EncodeError(contentFormat, `time ${value.value} is not an integer number of seconds`);
      }
      return smallSignedBytes(value.value) ?? signedBytes(BigInt(value.value));
    case 'unsignedInteger':
      return unsignedBytes(checkedInteger(value.value, 0n, UINT64_MAX, contentFormat, 'unsignedInteger'));
    case 'float': {
      if (Math.fround(value.value) === value.value) {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setFloat32(0, value.value);
        return out;
      }
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, value.value);
      return out;
    }
    case 'boolean':
      return Uint8Array.of(value.value ? 1 : 0);
    case 'objlnk': {
      checkObjectLink(value.value, contentFormat);
      const { objectId, instanceId } = value.value;
      return Uint8Array.of(objectId >> 8, objectId & 0xff, instanceId >> 8, instanceId & 0xff);
    }
    case 'none':
      return EMPTY;
  }
}
