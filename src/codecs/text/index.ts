/**
 * text/plain (content format 0) for one resource or resource instance value
 * (LwM2M Core §7.4.1 and the "Text" column of Appendix C):
 *   integer, unsignedInteger, time → decimal ASCII; float → decimal (exponent accepted);
 *   boolean → "0" / "1"; string, corelnk → UTF-8; objlnk → "ObjID:InstID";
 *   opaque → base64 (Core 1.1 §7.4.1: opaque in text is base64, RFC 4648 §4 alphabet).
 * Without a resource definition the payload is kept as `unknown` with its raw bytes.
 */
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

const CF = ContentFormat.TEXT;
const SIGNED = /^[+-]?[0-9]+$/;
const UNSIGNED = /^\+?[0-9]+$/;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
// RFC 4648 §4 alphabet; padding optional on input (some clients strip it), emitted on output.
const BASE64 = /^[A-Za-z0-9+/]*$/;
// Bound the digits handed to BigInt: a 64-bit value has at most 20 digits, plus leading zeros clients
// rarely send; anything much longer is out of range anyway and must not cost quadratic time.
const MAX_INTEGER_CHARS = 64;

function parseInteger(text: string, pattern: RegExp, min: bigint, max: bigint, what: string): number | bigint {
  if (!pattern.test(text) || text.length > MAX_INTEGER_CHARS) {
    throw new DecodeError(CF, 0, `"${preview(text)}" is not a decimal ${what}`);
  }
  const value = BigInt(text.startsWith('+') ? text.slice(1) : text);
  if (value < min || value > max) throw new DecodeError(CF, 0, `${what} ${value} is outside [${min}, ${max}]`);
  return normaliseInteger(value);
}

function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function decodeBase64(text: string): Uint8Array {
  const unpadded = text.endsWith('==') ? text.slice(0, -2) : text.endsWith('=') ? text.slice(0, -1) : text;
  const paddingOk = unpadded.length === text.length || text.length % 4 === 0;
  if (!BASE64.test(unpadded) || !paddingOk || unpadded.length % 4 === 1) {
    throw new DecodeError(CF, 0, 'opaque value is not base64 (LwM2M Core §7.4.1)');
  }
  return copyBytes(Buffer.from(unpadded, 'base64'));
}

export function decodeTextValue(bytes: Uint8Array, type: ResourceType | undefined): Lwm2mValue {
  if (type === undefined) return { type: 'unknown', value: copyBytes(bytes) };
  if (type === 'none') return bytes.length === 0 ? { type: 'none', value: null } : { type: 'unknown', value: copyBytes(bytes) };
  const text = decodeUtf8(bytes, CF, 0);
  switch (type) {
    case 'string':
      return { type: 'string', value: text };
    case 'corelnk':
      return { type: 'corelnk', value: text };
    case 'integer':
      return { type: 'integer', value: parseInteger(text, SIGNED, INT64_MIN, INT64_MAX, 'integer') };
    case 'unsignedInteger':
      return { type: 'unsignedInteger', value: parseInteger(text, UNSIGNED, 0n, UINT64_MAX, 'unsignedInteger') };
    case 'time': {
      const seconds = parseInteger(text, SIGNED, INT64_MIN, INT64_MAX, 'time');
      if (typeof seconds === 'bigint') throw new DecodeError(CF, 0, `time ${seconds} is beyond the safe integer range`);
      return { type: 'time', value: seconds };
    }
    case 'float': {
      const value = DECIMAL.test(text) ? Number(text) : NaN;
      if (!Number.isFinite(value)) throw new DecodeError(CF, 0, `"${preview(text)}" is not a finite decimal number`);
      return { type: 'float', value };
    }
    case 'boolean':
      if (text === '1') return { type: 'boolean', value: true };
      if (text === '0') return { type: 'boolean', value: false };
      throw new DecodeError(CF, 0, `boolean must be "0" or "1", got "${preview(text)}"`);
    case 'objlnk': {
      const link = parseObjectLink(text);
      if (!link) throw new DecodeError(CF, 0, `objlnk must be "ObjID:InstID" with 16-bit ids, got "${preview(text)}"`);
      return { type: 'objlnk', value: link };
    }
    case 'opaque':
      return { type: 'opaque', value: decodeBase64(text) };
  }
}

function formatFloat(value: number): string {
  if (!Number.isFinite(value)) throw new EncodeError(CF, `float ${value} has no decimal text form`);
  // String(-0) is "0": keep the sign so that the value survives a round trip.
  return Object.is(value, -0) ? '-0.0' : String(value);
}

export function encodeTextValue(value: Lwm2mValue): Uint8Array {
  switch (value.type) {
    case 'string':
    case 'corelnk':
      return encodeUtf8(value.value, CF);
    case 'integer':
      return ascii(checkedInteger(value.value, INT64_MIN, INT64_MAX, CF, 'integer').toString());
    case 'unsignedInteger':
      return ascii(checkedInteger(value.value, 0n, UINT64_MAX, CF, 'unsignedInteger').toString());
    case 'time':
      if (!Number.isSafeInteger(value.value)) throw new EncodeError(CF, `time ${value.value} is not an integer number of seconds`);
      return ascii(String(value.value));
    case 'float':
      return ascii(formatFloat(value.value));
    case 'boolean':
      return ascii(value.value ? '1' : '0');
    case 'objlnk':
      return ascii(formatObjectLink(value.value, CF));
    case 'opaque':
      return ascii(Buffer.from(value.value.buffer, value.value.byteOffset, value.value.byteLength).toString('base64'));
    case 'unknown':
      // Raw bytes of a text payload nobody could type: written back verbatim.
      return copyBytes(value.value);
    case 'none':
      return new Uint8Array(0);
  }
}

const asciiEncoder = new TextEncoder();

function ascii(text: string): Uint8Array {
  return asciiEncoder.encode(text);
}

export const textCodec: Codec = {
  name: 'text/plain',
  contentFormats: [ContentFormat.TEXT],
  decode(bytes: Uint8Array, path: Lwm2mPath, model: ModelProvider): Lwm2mNode {
    const target = singleValueTarget(path, model, CF);
    return target.node(decodeTextValue(bytes, target.resource?.type));
  },
  encode(node: Lwm2mNode, path: Lwm2mPath): Uint8Array {
    return encodeTextValue(singleValueOf(node, path, CF));
  },
};
