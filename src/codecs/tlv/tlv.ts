/**
 * The TLV record layer of LwM2M Core §7.4.3: type byte, identifier, length.
 *
 * Type byte (Core §7.4.3, Table 7.4.3-1):
 *   bits 7-6  identifier type: 00 object instance, 01 resource instance, 10 multiple resource, 11 resource with value
 *   bit  5    identifier length: 0 = 8 bits, 1 = 16 bits
 *   bits 4-3  length type: 00 = length in bits 2-0, 01/10/11 = 8/16/24-bit length field
 *   bits 2-0  length when the length type is 00 (ignored otherwise)
 */
import { DecodeError, EncodeError } from '../codec.js';

export const TlvType = {
  OBJECT_INSTANCE: 0,
  RESOURCE_INSTANCE: 1,
  MULTIPLE_RESOURCE: 2,
  RESOURCE: 3,
} as const;
export type TlvType = (typeof TlvType)[keyof typeof TlvType];

export const TLV_TYPE_NAMES: Readonly<Record<TlvType, string>> = {
  0: 'object instance',
  1: 'resource instance',
  2: 'multiple resource',
  3: 'resource',
};

/** One TLV record located in the input; nothing is copied until a value is decoded. */
export interface TlvRecord {
  readonly type: TlvType;
  readonly id: number;
  /** Offset of the type byte, for error positions. */
  readonly start: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** Core §7.4.3: the 24-bit length field is the largest a TLV value can declare. */
export const MAX_TLV_LENGTH = 0xffffff;

/**
 * Reads the record at `offset`. The declared length is checked against the bytes that remain before
 * anything is sliced, so a header claiming 16 MB in a 10-byte payload fails here and allocates nothing.
 */
export function readTlv(bytes: Uint8Array, offset: number, end: number, contentFormat: number): TlvRecord {
  const typeByte = bytes[offset];
  if (typeByte === undefined || offset >= end) {
    throw new DecodeError(contentFormat, offset, 'expected a TLV type byte');
  }
  const type = (typeByte >> 6) as TlvType;
  const idLength = typeByte & 0x20 ? 2 : 1;
  const lengthType = (typeByte >> 3) & 0x03;
  let p = offset + 1;
  if (p + idLength + lengthType > end) {
    throw new DecodeError(contentFormat, offset, `truncated TLV header: ${1 + idLength + lengthType} bytes needed, ${end - offset} left`);
  }
  let id = bytes[p++] as number;
  if (idLength === 2) id = (id << 8) | (bytes[p++] as number);
  let length: number;
  if (lengthType === 0) {
    length = typeByte & 0x07;
  } else {
    length = 0;
    for (let i = 0; i < lengthType; i++) length = length * 256 + (bytes[p++] as number);
  }
  if (length > end - p) {
    throw new DecodeError(
      contentFormat,
      offset,
      `TLV ${TLV_TYPE_NAMES[type]} ${id} declares ${length} value bytes but only ${end - p} remain`,
    );
  }
  return { type, id, start: offset, valueStart: p, valueEnd: p + length };
}

/** All records between `start` and `end`; each record is at least 2 bytes, so this terminates. */
export function readTlvs(bytes: Uint8Array, start: number, end: number, contentFormat: number): TlvRecord[] {
  const records: TlvRecord[] = [];
  let offset = start;
  while (offset < end) {
    const record = readTlv(bytes, offset, end, contentFormat);
    records.push(record);
    offset = record.valueEnd;
  }
  return records;
}

/** Size of a TLV header for this id and value length: the encoder always picks the shortest form. */
export function tlvHeaderSize(id: number, length: number): number {
  const idBytes = id > 0xff ? 2 : 1;
  const lengthBytes = length <= 7 ? 0 : length <= 0xff ? 1 : length <= 0xffff ? 2 : 3;
  return 1 + idBytes + lengthBytes;
}

/** Writes a header at `offset`, returns the offset of the value. */
export function writeTlvHeader(
  target: Uint8Array,
  offset: number,
  type: TlvType,
  id: number,
  length: number,
  contentFormat: number,
): number {
  if (length > MAX_TLV_LENGTH) {
    throw new EncodeError(contentFormat, `TLV value of ${length} bytes exceeds the 24-bit length field (Core §7.4.3)`);
  }
  let typeByte = type << 6;
  if (id > 0xff) typeByte |= 0x20;
  let lengthBytes: number;
  if (length <= 7) {
    typeByte |= length;
    lengthBytes = 0;
  } else {
    lengthBytes = length <= 0xff ? 1 : length <= 0xffff ? 2 : 3;
    typeByte |= lengthBytes << 3;
  }
  let p = offset;
  target[p++] = typeByte;
  if (id > 0xff) target[p++] = id >> 8;
  target[p++] = id & 0xff;
  for (let shift = (lengthBytes - 1) * 8; shift >= 0; shift -= 8) target[p++] = (length >> shift) & 0xff;
  return p;
}
