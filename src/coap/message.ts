/**
 * The CoAP message format (RFC 7252 §3): bytes ↔ CoapMessage.
 *
 * Decoding is total: it never throws. It tells apart a datagram that is not
 * CoAP at all (dropped in silence, §3 and §4.2) from one whose header parsed
 * but whose options did not (a message format error that a CON gets a Reset
 * for, §4.2), because the first still has no message ID to answer.
 */
import { EMPTY_CODE } from './codes.js';
import type { CoapOption } from './options.js';

export const MessageType = { CON: 0, NON: 1, ACK: 2, RST: 3 } as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface CoapMessage {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  readonly token: Buffer;
  /** In ascending option-number order, repeated options in their wire order. */
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

export interface MessageHeader {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  readonly token: Buffer;
}

export type DecodeMessageResult =
  | { readonly ok: true; readonly message: CoapMessage }
  /** Not CoAP, wrong version, or too short for its own header and token: drop. */
  | { readonly ok: false; readonly header: undefined; readonly reason: string }
  /** Header and token parsed, the rest is malformed: a CON gets a Reset. */
  | { readonly ok: false; readonly header: MessageHeader; readonly reason: string };

const PAYLOAD_MARKER = 0xff;
/** Shared by every message without a payload; a zero-length Buffer cannot be written to. */
const EMPTY = Buffer.alloc(0);

/**
 * Token, option values and payload are views into `datagram`, not copies: node:dgram hands
 * every datagram its own buffer, and the caller must not reuse it while the message lives.
 */
export function decodeMessage(datagram: Uint8Array): DecodeMessageResult {
  const buf = Buffer.isBuffer(datagram) ? datagram : Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (buf.length < 4) return { ok: false, header: undefined, reason: 'shorter than the 4-byte header' };
  const first = buf[0] as number;
  const version = first >> 6;
  // RFC 7252 §3: messages with unknown version numbers MUST be silently ignored.
  if (version !== 1) return { ok: false, header: undefined, reason: `unknown version ${version}` };
  const type = ((first >> 4) & 0x3) as MessageType;
  const tokenLength = first & 0x0f;
  // RFC 7252 §3: token lengths 9-15 are reserved and MUST be processed as a message format error.
  if (tokenLength > 8) return { ok: false, header: undefined, reason: `reserved token length ${tokenLength}` };
  if (buf.length < 4 + tokenLength) return { ok: false, header: undefined, reason: 'truncated token' };
  const code = buf[1] as number;
  const messageId = (buf[2] as number) * 256 + (buf[3] as number);
  const token = buf.subarray(4, 4 + tokenLength);

  // RFC 7252 §4.1: an Empty message has code 0.00, no token, no options, no payload.
  if (code === EMPTY_CODE) {
    if (tokenLength !== 0 || buf.length !== 4) return { ok: false, header: { type, code, messageId, token }, reason: 'empty message with content' };
    return { ok: true, message: { type, code, messageId, token, options: [], payload: EMPTY } };
  }

  // The option loop runs for every datagram: plain locals, no object per option header.
  const options: CoapOption[] = [];
  let offset = 4 + tokenLength;
  let optionNumber = 0;
  while (offset < buf.length) {
    const byte = buf[offset] as number;
    if (byte === PAYLOAD_MARKER) {
      offset += 1;
      // RFC 7252 §3: a marker followed by a zero-length payload is a message format error.
      if (offset === buf.length) return { ok: false, header: { type, code, messageId, token }, reason: 'payload marker without payload' };
      return { ok: true, message: { type, code, messageId, token, options, payload: buf.subarray(offset) } };
    }
    offset += 1;
    // RFC 7252 §3.1: nibble 13 → 1 extra byte + 13, 14 → 2 extra bytes + 269, 15 → reserved.
    let delta = byte >> 4;
    if (delta >= 13) {
      const extended = readExtended(buf, delta, offset);
      if (extended < 0) return { ok: false, header: { type, code, messageId, token }, reason: `bad option delta at byte ${offset - 1}` };
      offset += delta === 13 ? 1 : 2;
      delta = extended;
    }
    let length = byte & 0x0f;
    if (length >= 13) {
      const extended = readExtended(buf, length, offset);
      if (extended < 0) return { ok: false, header: { type, code, messageId, token }, reason: `bad option length at byte ${offset - 1}` };
      offset += length === 13 ? 1 : 2;
      length = extended;
    }
    if (offset + length > buf.length) return { ok: false, header: { type, code, messageId, token }, reason: 'option value runs past the datagram' };
    optionNumber += delta;
    options.push({ number: optionNumber, value: buf.subarray(offset, offset + length) });
    offset += length;
  }
  return { ok: true, message: { type, code, messageId, token, options, payload: EMPTY } };
}

/** The value of an extended delta or length field (nibble 13 or 14) at `offset`; -1 when truncated or reserved (15). */
function readExtended(buf: Buffer, nibble: number, offset: number): number {
  if (nibble === 13) return offset + 1 > buf.length ? -1 : (buf[offset] as number) + 13;
  if (nibble === 14) return offset + 2 > buf.length ? -1 : (buf[offset] as number) * 256 + (buf[offset + 1] as number) + 269;
  return -1;
}

export function encodeMessage(message: CoapMessage): Buffer {
  if (message.token.length > 8) throw new RangeError('token longer than 8 bytes');
  // Stable sort keeps repeated options (Uri-Path, Location-Path) in their given order; options
  // already in order (as nearly all are) are not copied.
  const options = inOptionOrder(message.options) ? message.options : [...message.options].sort((a, b) => a.number - b.number);
  // Two passes: the size first, then one buffer written in place (no buffer per option header).
  let size = 4 + message.token.length;
  let previous = 0;
  for (const option of options) {
    size += 1 + extendedBytes(option.number - previous) + extendedBytes(option.value.length) + option.value.length;
    previous = option.number;
  }
  if (message.payload.length > 0) size += 1 + message.payload.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = (1 << 6) | (message.type << 4) | message.token.length;
  out[1] = message.code;
  out.writeUInt16BE(message.messageId & 0xffff, 2);
  out.set(message.token, 4);
  let offset = 4 + message.token.length;
  previous = 0;
  for (const option of options) {
    const delta = option.number - previous;
    previous = option.number;
    const length = option.value.length;
    out[offset++] = (nibble(delta) << 4) | nibble(length);
    offset = writeExtended(out, offset, delta);
    offset = writeExtended(out, offset, length);
    out.set(option.value, offset);
    offset += length;
  }
  if (message.payload.length > 0) {
    out[offset++] = PAYLOAD_MARKER;
    out.set(message.payload, offset);
  }
  return out;
}

function inOptionOrder(options: readonly CoapOption[]): boolean {
  for (let i = 1; i < options.length; i++) if ((options[i] as CoapOption).number < (options[i - 1] as CoapOption).number) return false;
  return true;
}

/** RFC 7252 §3.1: a delta or length below 13 fits the nibble; up to 268 takes 1 extra byte (nibble 13), up to 65804 takes 2 (nibble 14). */
function extendedBytes(value: number): number {
  if (value < 13) return 0;
  if (value < 269) return 1;
  if (value < 65805) return 2;
  throw new RangeError(`option delta or length too large: ${value}`);
}

function nibble(value: number): number {
  return value < 13 ? value : value < 269 ? 13 : 14;
}

function writeExtended(out: Buffer, offset: number, value: number): number {
  if (value < 13) return offset;
  if (value < 269) {
    out[offset] = value - 13;
    return offset + 1;
  }
  out.writeUInt16BE(value - 269, offset);
  return offset + 2;
}

export function emptyMessage(type: MessageType, messageId: number): CoapMessage {
  return { type, code: EMPTY_CODE, messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) };
}
