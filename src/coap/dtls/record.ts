/**
 * The DTLS 1.2 record layer framing (RFC 6347 §4.1): a datagram holds one or more
 * records, each a 13-byte header (type, version, epoch, 48-bit sequence number,
 * length) and its fragment. Protection of the fragment is in cipher-suites.ts.
 */
import { MAX_CIPHERTEXT_BYTES, RECORD_HEADER_BYTES } from './parameters.js';

export interface RecordHeader {
  readonly type: number;
  readonly version: number;
  readonly epoch: number;
  /** 48 bits: exact in a JavaScript number. */
  readonly sequence: number;
}

export interface DtlsRecord extends RecordHeader {
  readonly fragment: Buffer;
}

/**
 * The records of a datagram, in order. RFC 6347 §4.1.2.7: a malformed record is
 * discarded; a length running past the datagram ends the parse (nothing after it
 * can be framed), and what was read before it is kept.
 */
export function decodeRecords(datagram: Buffer): DtlsRecord[] {
  const records: DtlsRecord[] = [];
  let offset = 0;
  while (datagram.length - offset >= RECORD_HEADER_BYTES) {
    const length = datagram.readUInt16BE(offset + 11);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > datagram.length || length > MAX_CIPHERTEXT_BYTES) break;
    records.push({
      type: datagram[offset] as number,
      version: datagram.readUInt16BE(offset + 1),
      epoch: datagram.readUInt16BE(offset + 3),
      sequence: datagram.readUIntBE(offset + 5, 6),
      fragment: datagram.subarray(offset + RECORD_HEADER_BYTES, end),
    });
    offset = end;
  }
  return records;
}

export function encodeRecord(header: RecordHeader, fragment: Buffer): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + fragment.length);
  writeRecordHeader(record, 0, header, fragment.length);
  fragment.copy(record, RECORD_HEADER_BYTES);
  return record;
}

export function writeRecordHeader(target: Buffer, offset: number, header: RecordHeader, length: number): void {
  target[offset] = header.type;
  target.writeUInt16BE(header.version, offset + 1);
  target.writeUInt16BE(header.epoch, offset + 3);
  target.writeUIntBE(header.sequence, offset + 5, 6);
  target.writeUInt16BE(length, offset + 11);
}

/**
 * RFC 6347 §4.1.2.1: the 64-bit seq_num of the MAC and AEAD computations (RFC 5246 §6.2.3)
 * is, in DTLS, the 16-bit epoch followed by the 48-bit sequence number, as on the wire.
 */
export function sequenceBytes(epoch: number, sequence: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeUInt16BE(epoch, 0);
  bytes.writeUIntBE(sequence, 2, 6);
  return bytes;
}

/** RFC 5246 §6.2.3.1/§6.2.3.3: seq_num + type + version + length, authenticated with every protected record. */
export function additionalData(header: RecordHeader, plaintextLength: number): Buffer {
  const data = Buffer.allocUnsafe(13);
  data.writeUInt16BE(header.epoch, 0);
  data.writeUIntBE(header.sequence, 2, 6);
  data[8] = header.type;
  data.writeUInt16BE(header.version, 9);
  data.writeUInt16BE(plaintextLength, 11);
  return data;
}
