/**
 * A strict JSON reader (RFC 8259) for the JSON content formats.
 *
 * Not JSON.parse because: integers beyond 2^53 must stay exact (LwM2M integers
 * are 64-bit, Core Appendix C), duplicate member names must be rejected rather
 * than silently overwritten, nesting must be bounded, and errors must carry the
 * byte offset for DecodeError.
 */
import { isUtf8 } from 'node:buffer';
import { DecodeError, EncodeError } from '../codec.js';

export type JsonValue = null | boolean | number | bigint | string | JsonArray | JsonObject;
export type JsonArray = readonly JsonValue[];
/** Objects keep member order and have no prototype to pollute. */
export type JsonObject = ReadonlyMap<string, JsonValue>;

export interface ParsedJson {
  readonly value: JsonValue;
  /** Byte offset where an array or object started, for error reporting. */
  offsetOf(node: JsonArray | JsonObject): number;
}

// SenML packs are two levels deep and LwM2M JSON three; anything much deeper is hostile
const MAX_DEPTH = 16;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING_SPECIAL = /["\\\u0000-\u001f]/g;
// 40 decimal digits hold any 128-bit integer; longer literals are parsed as doubles, not as huge bigints
const MAX_EXACT_DIGITS = 40;

const utf8 = new TextDecoder('utf-8');

export function parseJson(bytes: Uint8Array, contentFormat: number): ParsedJson {
  // RFC 8259 §8.1: JSON text is UTF-8; validated first because TextDecoder would substitute U+FFFD silently
  if (!isUtf8(bytes)) throw new DecodeError(contentFormat, firstInvalidUtf8(bytes), 'payload is not valid UTF-8');
  const text = utf8.decode(bytes);
  // TextDecoder drops a leading BOM (RFC 8259 §8.1 lets parsers ignore it); offsets must still count it
  const bomBytes = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const reader = new JsonReader(text, contentFormat, bomBytes);
  const value = reader.readDocument();
  return { value, offsetOf: (node) => reader.byteOffset(reader.offsets.get(node) ?? 0) };
}

class JsonReader {
  pos = 0;
  readonly offsets = new WeakMap<object, number>();

  constructor(
    private readonly text: string,
    private readonly contentFormat: number,
    private readonly bomBytes: number,
  ) {}

  readDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.readValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('unexpected data after the JSON value');
    return value;
  }

  byteOffset(charIndex: number): number {
    let bytes = this.bomBytes;
    for (let i = 0; i < charIndex && i < this.text.length; i++) {
      const code = this.text.charCodeAt(i);
      if (code < 0x80) bytes += 1;
      else if (code < 0x800) bytes += 2;
      else if (code >= 0xd800 && code <= 0xdbff) {
        bytes += 4; // a surrogate pair is one 4-byte sequence (the text came from valid UTF-8)
        i++;
      } else bytes += 3;
    }
    return bytes;
  }

  private fail(reason: string, at = this.pos): never {
    throw new DecodeError(this.contentFormat, this.byteOffset(at), reason);
  }

  private skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
    this.pos = pos;
  }

  private readValue(depth: number): JsonValue {
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.readObject(depth + 1);
      case '[':
        return this.readArray(depth + 1);
      case '"':
        return this.readString();
      case 't':
        return this.readLiteral('true', true);
      case 'f':
        return this.readLiteral('false', false);
      case 'n':
        return this.readLiteral('null', null);
      case undefined:
        return this.fail('unexpected end of JSON text');
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.readNumber();
        return this.fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }

  private readLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return value;
  }

  private readNumber(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail('invalid number');
    const literal = match[0];
    this.pos += literal.length;
    const isIntegerLiteral = !/[.eE]/.test(literal);
    const digits = literal.startsWith('-') ? literal.length - 1 : literal.length;
    if (!isIntegerLiteral || digits <= 15) return Number(literal);
    if (digits > MAX_EXACT_DIGITS) return Number(literal);
    const exact = BigInt(literal);
    return Number.isSafeInteger(Number(exact)) ? Number(exact) : exact;
  }

  private readString(): string {
    const text = this.text;
    const start = this.pos;
    let pos = start + 1;
    let out = '';
    for (;;) {
      STRING_SPECIAL.lastIndex = pos;
      const special = STRING_SPECIAL.exec(text);
      if (!special) return this.fail('unterminated string', start);
      const at = special.index;
      out += text.slice(pos, at);
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        this.pos = at + 1;
        return out;
      }
      if (c !== 0x5c) return this.fail('control character in string', at);
      const escape = text[at + 1];
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          out += escape;
          pos = at + 2;
          break;
        case 'b':
          out += '\b';
          pos = at + 2;
          break;
        case 'f':
          out += '\f';
          pos = at + 2;
          break;
        case 'n':
          out += '\n';
          pos = at + 2;
          break;
        case 'r':
          out += '\r';
          pos = at + 2;
          break;
        case 't':
          out += '\t';
          pos = at + 2;
          break;
        case 'u': {
          const hex = text.slice(at + 2, at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) return this.fail('invalid \\u escape', at);
          out += String.fromCharCode(parseInt(hex, 16));
          pos = at + 6;
          break;
        }
        default:
          return this.fail('invalid escape in string', at);
      }
    }
  }

  private readArray(depth: number): JsonArray {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    const start = this.pos;
    this.pos++;
    const items: JsonValue[] = [];
    this.offsets.set(items, start);
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.readValue(depth));
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return items;
      if (c !== ',') this.fail("expected ',' or ']' in array", this.pos - 1);
    }
  }

  private readObject(depth: number): JsonObject {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    const start = this.pos;
    this.pos++;
    const members = new Map<string, JsonValue>();
    this.offsets.set(members, start);
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return members;
    }
    for (;;) {
      this.skipWhitespace();
      const keyAt = this.pos;
      if (this.text[this.pos] !== '"') this.fail('expected a member name');
      const key = this.readString();
      // RFC 8259 §4 leaves duplicates to the implementation; last-wins would let a client hide a field
      if (members.has(key)) this.fail(`duplicate member ${JSON.stringify(key)}`, keyAt);
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("expected ':' after member name");
      this.pos++;
      this.skipWhitespace();
      members.set(key, this.readValue(depth));
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return members;
      if (c !== ',') this.fail("expected ',' or '}' in object", this.pos - 1);
    }
  }
}

/**
 * Offset of the first byte that makes the input invalid UTF-8 (RFC 3629 §4), only
 * computed on the error path: isUtf8 says that the input is bad, not where.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    let length: number;
    let min = 0x80;
    let max = 0xbf;
    if (lead < 0x80) length = 1;
    else if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) min = 0xa0; // overlong
      if (lead === 0xed) max = 0x9f; // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) min = 0x90; // overlong
      if (lead === 0xf4) max = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined) return i;
      if (k === 1 ? next < min || next > max : next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return i;
}

/** A JSON string literal; JSON.stringify escapes lone surrogates (ES2019 well-formed stringify). */
export function jsonString(text: string): string {
  return JSON.stringify(text);
}

/**
 * A JSON number. Floats that happen to be integral keep a fraction ("23.0", as Leshan
 * writes them) so that a reader without the model still sees a float; -0 keeps its sign.
 */
export function jsonNumber(value: number | bigint, asFloat: boolean, contentFormat: number): string {
  if (typeof value === 'bigint') return value.toString();
  if (!Number.isFinite(value)) throw new EncodeError(contentFormat, `${value} has no JSON representation`);
  if (Object.is(value, -0)) return asFloat ? '-0.0' : '0';
  const text = String(value);
  return asFloat && Number.isInteger(value) && !/[e.]/.test(text) ? `${text}.0` : text;
}
