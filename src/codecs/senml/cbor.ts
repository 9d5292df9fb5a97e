/**
 * cbor-x configured for the CBOR content formats (SenML CBOR, LwM2M CBOR).
 *
 * Decoding: maps always come back as `Map` (integer and array keys survive; no
 * record extension), 64-bit integers as bigint. Whatever cbor-x throws becomes
 * a DecodeError. Encoding: plain RFC 8949 items only (no tag 259 for maps, no
 * tag 64 for byte strings, no record structures).
 */
import { Decoder, Encoder, Tag, type Options } from 'cbor-x';
import { DecodeError, EncodeError } from '../codec.js';
import { normalizeInteger } from './values.js';

const decoder = new Decoder({
  useRecords: false,
  mapsAsObjects: false,
  // int64AsNumber stays off: values above 2^53 must arrive exact, as bigint
});

// useTag259ForMaps is a cbor-x option its type declarations omit
const encoderOptions: Options & { readonly useTag259ForMaps: boolean } = {
  useRecords: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  largeBigIntToFloat: false,
};
const encoder = new Encoder(encoderOptions);

/** Decodes exactly one CBOR data item: bytes after it are an error, not a second item. */
export function decodeCborItem(bytes: Uint8Array, contentFormat: number): unknown {
  // a fresh view: cbor-x caches a DataView as an expando property on the array it is given
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return decoder.decode(view);
  } catch (error) {
    // cbor-x does not report the failing position; its message says what was wrong
    const reason = error instanceof Error ? error.message : String(error);
    throw new DecodeError(contentFormat, 0, `malformed CBOR: ${reason}`);
  }
}

/** Encodes one CBOR data item into a fresh array (cbor-x hands out views of a shared arena). */
export function encodeCborItem(item: unknown, contentFormat: number): Uint8Array {
  try {
    return new Uint8Array(encoder.encode(item));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EncodeError(contentFormat, `CBOR encoder failed: ${reason}`);
  }
}

/** CBOR tag 1 (RFC 8949 §3.4.2, epoch-based date/time), used by LwM2M CBOR for Time values. */
export function epochTimeTag(seconds: number): Tag {
  return new Tag(seconds, 1);
}

export function isByteString(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** A decoded integer or float as number, or bigint when it is an integer beyond 2^53. */
export function cborNumber(value: unknown): number | bigint | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return normalizeInteger(value);
  return undefined;
}

/** Copies a decoded byte string: cbor-x returns views into the input buffer. */
export function ownBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/**
 * A number as cbor-x should see it: cbor-x writes integers outside the 32-bit range
 * as float64, so integral values there go out as bigint, which it writes as a
 * 64-bit CBOR integer (RFC 8949 §3.1, major types 0/1).
 */
export function cborInteger(value: number | bigint): number | bigint {
  if (typeof value === 'bigint') return value;
  return Number.isInteger(value) && (value > 0xffffffff || value < -0x100000000) ? BigInt(value) : value;
}
