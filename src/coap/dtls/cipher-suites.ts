/**
 * The two cipher suites the LwM2M specification asks of a PSK server, with
 * node:crypto doing AES: TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655, AEAD with an
 * 8-byte tag) and TLS_PSK_WITH_AES_128_CBC_SHA256 (RFC 5487, HMAC-SHA256
 * MAC-then-encrypt with an explicit IV per record, RFC 5246 §6.2.3.2).
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { randomBytesPooled } from '../../random.js';
import { CipherSuiteId } from './parameters.js';
import { additionalData, sequenceBytes, type RecordHeader } from './record.js';

/** Protection of the records of one direction (client→server or server→client) of one epoch. */
export interface RecordProtection {
  /** The protected fragment (GenericAEADCipher or GenericBlockCipher) for a record with this header. */
  seal(header: RecordHeader, plaintext: Buffer): Buffer;
  /** The plaintext, or undefined when the fragment is malformed or fails authentication. */
  open(header: RecordHeader, fragment: Buffer): Buffer | undefined;
}

/** The keys of one direction, cut from the key block (RFC 5246 §6.3). */
export interface DirectionKeys {
  readonly macKey: Buffer;
  readonly encKey: Buffer;
  readonly iv: Buffer;
}

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  /** RFC 5246 §6.3 key block: the lengths of each key (the block holds two of each, client's first). */
  readonly macKeyBytes: number;
  readonly encKeyBytes: number;
  readonly fixedIvBytes: number;
  protection(keys: DirectionKeys): RecordProtection;
}

// ---------------------------------------------------------------------------
// AES-128-CCM_8 (RFC 6655 §3, RFC 5116 §5.3 with an 8-byte tag)

const CCM_EXPLICIT_NONCE_BYTES = 8;
const CCM_8_TAG_BYTES = 8;

class Ccm8Protection implements RecordProtection {
  constructor(
    private readonly key: Buffer,
    /** RFC 6655 §3: the 4-byte salt, client_write_IV or server_write_IV. */
    private readonly salt: Buffer,
  ) {}

  seal(header: RecordHeader, plaintext: Buffer): Buffer {
    // RFC 6655 §3: the explicit nonce is the 64-bit sequence number (in DTLS, epoch + sequence): never repeated under one key.
    const explicit = sequenceBytes(header.epoch, header.sequence);
    const cipher = createCipheriv('aes-128-ccm', this.key, Buffer.concat([this.salt, explicit]), { authTagLength: CCM_8_TAG_BYTES });
    cipher.setAAD(additionalData(header, plaintext.length), { plaintextLength: plaintext.length });
    const encrypted = cipher.update(plaintext);
    cipher.final();
    return Buffer.concat([explicit, encrypted, cipher.getAuthTag()]);
  }

  open(header: RecordHeader, fragment: Buffer): Buffer | undefined {
    const plaintextLength = fragment.length - CCM_EXPLICIT_NONCE_BYTES - CCM_8_TAG_BYTES;
    if (plaintextLength < 0) return undefined;
    const nonce = Buffer.concat([this.salt, fragment.subarray(0, CCM_EXPLICIT_NONCE_BYTES)]);
    try {
      const decipher = createDecipheriv('aes-128-ccm', this.key, nonce, { authTagLength: CCM_8_TAG_BYTES });
      decipher.setAuthTag(fragment.subarray(fragment.length - CCM_8_TAG_BYTES));
      decipher.setAAD(additionalData(header, plaintextLength), { plaintextLength });
      const plaintext = decipher.update(fragment.subarray(CCM_EXPLICIT_NONCE_BYTES, fragment.length - CCM_8_TAG_BYTES));
      decipher.final();
      return plaintext;
    } catch {
      return undefined; // node:crypto reports a wrong tag by throwing
    }
  }
}

// ---------------------------------------------------------------------------
// AES-128-CBC with HMAC-SHA256 (RFC 5246 §6.2.3.2, MAC-then-encrypt)

const AES_BLOCK_BYTES = 16;
const SHA256_BYTES = 32;
/** IV, then at least the MAC and one padding-length byte, in whole blocks. */
const CBC_MIN_FRAGMENT_BYTES = AES_BLOCK_BYTES + Math.ceil((SHA256_BYTES + 1) / AES_BLOCK_BYTES) * AES_BLOCK_BYTES;

class CbcSha256Protection implements RecordProtection {
  constructor(
    private readonly macKey: Buffer,
    private readonly key: Buffer,
  ) {}

  private mac(header: RecordHeader, plaintext: Buffer): Buffer {
    return createHmac('sha256', this.macKey).update(additionalData(header, plaintext.length)).update(plaintext).digest();
  }

  seal(header: RecordHeader, plaintext: Buffer): Buffer {
    const mac = this.mac(header, plaintext);
    // §6.2.3.2: padding_length + 1 bytes of value padding_length bring the content to a whole number of blocks.
    const padding = AES_BLOCK_BYTES - ((plaintext.length + SHA256_BYTES) % AES_BLOCK_BYTES);
    const content = Buffer.concat([plaintext, mac, Buffer.alloc(padding, padding - 1)]);
    // §6.2.3.2: the IV is random per record (TLS 1.1 and later, DTLS 1.2).
    const iv = randomBytesPooled(AES_BLOCK_BYTES);
    const cipher = createCipheriv('aes-128-cbc', this.key, iv).setAutoPadding(false);
    return Buffer.concat([iv, cipher.update(content), cipher.final()]);
  }

  open(header: RecordHeader, fragment: Buffer): Buffer | undefined {
    if (fragment.length < CBC_MIN_FRAGMENT_BYTES || fragment.length % AES_BLOCK_BYTES !== 0) return undefined;
    const decipher = createDecipheriv('aes-128-cbc', this.key, fragment.subarray(0, AES_BLOCK_BYTES)).setAutoPadding(false);
    const content = Buffer.concat([decipher.update(fragment.subarray(AES_BLOCK_BYTES)), decipher.final()]);
    // §6.2.3.2 and RFC 5246 Appendix F.4: check every padding byte without an early exit, and compute
    // the MAC even when the padding is wrong (as if there were none), so that both failures take
    // about the same time. DTLS drops bad records silently (RFC 6347 §4.1.2.7), which leaves no
    // alert to time; the remaining difference is the MAC over a few more or fewer bytes.
    const paddingLength = content[content.length - 1] as number;
    let bad = paddingLength + 1 + SHA256_BYTES > content.length ? 1 : 0;
    const checked = Math.min(paddingLength, content.length - 1);
    for (let i = 1; i <= checked; i++) bad |= (content[content.length - 1 - i] as number) ^ paddingLength;
    const stripped = bad === 0 ? paddingLength + 1 : 0;
    const plaintextLength = content.length - stripped - SHA256_BYTES;
    const plaintext = content.subarray(0, plaintextLength);
    const expected = this.mac(header, plaintext);
    const macOk = timingSafeEqual(expected, content.subarray(plaintextLength, plaintextLength + SHA256_BYTES));
    return bad === 0 && macOk ? plaintext : undefined;
  }
}

export const CCM_8: CipherSuite = {
  id: CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8,
  name: 'TLS_PSK_WITH_AES_128_CCM_8',
  macKeyBytes: 0,
  encKeyBytes: 16,
  fixedIvBytes: 4,
  protection: (keys) => new Ccm8Protection(keys.encKey, keys.iv),
};

export const CBC_SHA256: CipherSuite = {
  id: CipherSuiteId.TLS_PSK_WITH_AES_128_CBC_SHA256,
  name: 'TLS_PSK_WITH_AES_128_CBC_SHA256',
  macKeyBytes: SHA256_BYTES,
  encKeyBytes: 16,
  fixedIvBytes: 0,
  protection: (keys) => new CbcSha256Protection(keys.macKey, keys.encKey),
};

/** Our order of preference: the server picks the first of these that the client offers (RFC 5246 §7.4.1.3). */
export const CIPHER_SUITES: readonly CipherSuite[] = [CCM_8, CBC_SHA256];

export function cipherSuiteById(id: number): CipherSuite | undefined {
  return CIPHER_SUITES.find((suite) => suite.id === id);
}

/** RFC 5246 §6.3: client_write_MAC_key, server_write_MAC_key, client_write_key, server_write_key, client_write_IV, server_write_IV. */
export function keyBlockLength(suite: CipherSuite): number {
  return 2 * (suite.macKeyBytes + suite.encKeyBytes + suite.fixedIvBytes);
}

export function splitKeyBlock(suite: CipherSuite, block: Buffer): { client: DirectionKeys; server: DirectionKeys } {
  let offset = 0;
  const take = (length: number): Buffer => {
    const part = Buffer.from(block.subarray(offset, offset + length));
    offset += length;
    return part;
  };
  const clientMac = take(suite.macKeyBytes);
  const serverMac = take(suite.macKeyBytes);
  const clientKey = take(suite.encKeyBytes);
  const serverKey = take(suite.encKeyBytes);
  const clientIv = take(suite.fixedIvBytes);
  const serverIv = take(suite.fixedIvBytes);
  return { client: { macKey: clientMac, encKey: clientKey, iv: clientIv }, server: { macKey: serverMac, encKey: serverKey, iv: serverIv } };
}
