/**
 * DTLS 1.2 handshake messages (RFC 6347 §4.2, RFC 5246 §7.4, RFC 4279 §2): the
 * 12-byte handshake header with its fragment fields, fragmentation and
 * reassembly (§4.2.3), and the encoders and parsers of the messages a PSK
 * handshake uses. Parsers return undefined for anything malformed (decode_error).
 */
import { COMPRESSION_NULL, HANDSHAKE_HEADER_BYTES, HandshakeType, MAX_HANDSHAKE_MESSAGE_BYTES, RANDOM_BYTES } from './parameters.js';

/** One handshake fragment as found in a handshake record (RFC 6347 §4.2.2). */
export interface HandshakeFragment {
  readonly msgType: number;
  /** Length of the whole message body. */
  readonly length: number;
  readonly messageSeq: number;
  readonly fragmentOffset: number;
  readonly body: Buffer;
}

/** A whole handshake message: its type, sequence number and body. */
export interface HandshakeMessage {
  readonly msgType: number;
  readonly messageSeq: number;
  readonly body: Buffer;
}

/** The fragments of a handshake record (one record may carry several, §4.2.3); undefined when malformed. */
export function decodeHandshakeFragments(fragment: Buffer): HandshakeFragment[] | undefined {
  const fragments: HandshakeFragment[] = [];
  let offset = 0;
  while (offset < fragment.length) {
    if (fragment.length - offset < HANDSHAKE_HEADER_BYTES) return undefined;
    const length = fragment.readUIntBE(offset + 1, 3);
    const fragmentOffset = fragment.readUIntBE(offset + 6, 3);
    const fragmentLength = fragment.readUIntBE(offset + 9, 3);
    const end = offset + HANDSHAKE_HEADER_BYTES + fragmentLength;
    if (end > fragment.length || fragmentOffset + fragmentLength > length) return undefined;
    fragments.push({
      msgType: fragment[offset] as number,
      length,
      messageSeq: fragment.readUInt16BE(offset + 4),
      fragmentOffset,
      body: fragment.subarray(offset + HANDSHAKE_HEADER_BYTES, end),
    });
    offset = end;
  }
  return fragments;
}

/**
 * A whole message with its header as a single fragment (offset 0, fragment_length = length).
 * This is also the form it takes in the handshake hash (§4.2.6), however it was fragmented.
 */
export function encodeHandshake(msgType: number, messageSeq: number, body: Buffer): Buffer {
  const message = Buffer.allocUnsafe(HANDSHAKE_HEADER_BYTES + body.length);
  writeHandshakeHeader(message, msgType, body.length, messageSeq, 0, body.length);
  body.copy(message, HANDSHAKE_HEADER_BYTES);
  return message;
}

/** §4.2.3: the message cut into fragments of at most `maxFragmentBytes` body bytes, each with its own header. */
export function fragmentHandshake(msgType: number, messageSeq: number, body: Buffer, maxFragmentBytes: number): Buffer[] {
  if (body.length <= maxFragmentBytes) return [encodeHandshake(msgType, messageSeq, body)];
  const fragments: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += maxFragmentBytes) {
    const part = body.subarray(offset, offset + maxFragmentBytes);
    const fragment = Buffer.allocUnsafe(HANDSHAKE_HEADER_BYTES + part.length);
    writeHandshakeHeader(fragment, msgType, body.length, messageSeq, offset, part.length);
    part.copy(fragment, HANDSHAKE_HEADER_BYTES);
    fragments.push(fragment);
  }
  return fragments;
}

function writeHandshakeHeader(
  target: Buffer,
  msgType: number,
  length: number,
  messageSeq: number,
  fragmentOffset: number,
  fragmentLength: number,
): void {
  target[0] = msgType;
  target.writeUIntBE(length, 1, 3);
  target.writeUInt16BE(messageSeq, 4);
  target.writeUIntBE(fragmentOffset, 6, 3);
  target.writeUIntBE(fragmentLength, 9, 3);
}

/**
 * §4.2.3 reassembly of one message from fragments that may overlap, repeat or come
 * in any order. A fragment that disagrees with the first on type or length is refused.
 */
export class MessageAssembly {
  private readonly body: Buffer;
  private readonly covered: Uint8Array;
  private missing: number;

  private constructor(
    readonly msgType: number,
    readonly messageSeq: number,
    length: number,
  ) {
    this.body = Buffer.alloc(length);
    this.covered = new Uint8Array(length);
    this.missing = length;
  }

  /** Undefined when the message is larger than we take (MAX_HANDSHAKE_MESSAGE_BYTES). */
  static start(first: HandshakeFragment): MessageAssembly | undefined {
    if (first.length > MAX_HANDSHAKE_MESSAGE_BYTES) return undefined;
    return new MessageAssembly(first.msgType, first.messageSeq, first.length);
  }

  /** Adds a fragment; false when it does not belong to this message. */
  add(fragment: HandshakeFragment): boolean {
    if (fragment.msgType !== this.msgType || fragment.length !== this.body.length) return false;
    fragment.body.copy(this.body, fragment.fragmentOffset);
    for (let i = fragment.fragmentOffset; i < fragment.fragmentOffset + fragment.body.length; i++) {
      if (this.covered[i] === 0) {
        this.covered[i] = 1;
        this.missing--;
      }
    }
    return true;
  }

  get complete(): boolean {
    return this.missing === 0;
  }

  message(): HandshakeMessage {
    return { msgType: this.msgType, messageSeq: this.messageSeq, body: this.body };
  }
}

// ---------------------------------------------------------------------------
// Message bodies

/** A reader that fails (returns undefined from the caller) instead of throwing on short input. */
class Reader {
  offset = 0;
  constructor(private readonly data: Buffer) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  bytes(length: number): Buffer | undefined {
    if (length > this.remaining) return undefined;
    const out = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  uint(size: 1 | 2 | 3): number | undefined {
    if (size > this.remaining) return undefined;
    const value = this.data.readUIntBE(this.offset, size);
    this.offset += size;
    return value;
  }

  /** An opaque vector with a length prefix of `size` bytes. */
  vector(size: 1 | 2 | 3): Buffer | undefined {
    const length = this.uint(size);
    return length === undefined ? undefined : this.bytes(length);
  }
}

/** RFC 6347 §4.2.1 / RFC 5246 §7.4.1.2 ClientHello, with the DTLS cookie. */
export interface ClientHello {
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cookie: Buffer;
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: readonly number[];
  /** Extension data by type (RFC 5246 §7.4.1.4); empty when the client sent none. */
  readonly extensions: ReadonlyMap<number, Buffer>;
  /**
   * The fields the cookie is bound to (§4.2.1: version, random, session_id, cipher_suites,
   * compression_method), as they were sent: a client repeats them with the cookie.
   */
  readonly cookieBinding: Buffer;
}

export function parseClientHello(body: Buffer): ClientHello | undefined {
  const reader = new Reader(body);
  const version = reader.uint(2);
  const random = reader.bytes(RANDOM_BYTES);
  const sessionId = reader.vector(1);
  const afterSessionId = reader.offset;
  const cookie = reader.vector(1);
  const beforeSuites = reader.offset;
  const suites = reader.vector(2);
  const compression = reader.vector(1);
  const afterCompression = reader.offset;
  if (version === undefined || !random || !sessionId || sessionId.length > 32 || !cookie || !suites || !compression) return undefined;
  if (suites.length === 0 || suites.length % 2 !== 0 || compression.length === 0) return undefined;
  const extensions = new Map<number, Buffer>();
  if (reader.remaining > 0) {
    const block = reader.vector(2);
    if (!block || reader.remaining !== 0) return undefined;
    const parsed = parseExtensions(block);
    if (!parsed) return undefined;
    for (const [type, data] of parsed) extensions.set(type, data);
  }
  const cipherSuites: number[] = [];
  for (let i = 0; i < suites.length; i += 2) cipherSuites.push(suites.readUInt16BE(i));
  return {
    version,
    random,
    sessionId,
    cookie,
    cipherSuites,
    compressionMethods: [...compression],
    extensions,
    cookieBinding: Buffer.concat([body.subarray(0, afterSessionId), body.subarray(beforeSuites, afterCompression)]),
  };
}

/** RFC 5246 §7.4.1.4: a list of (type, opaque data) in which no type appears twice. */
function parseExtensions(block: Buffer): Map<number, Buffer> | undefined {
  const reader = new Reader(block);
  const extensions = new Map<number, Buffer>();
  while (reader.remaining > 0) {
    const type = reader.uint(2);
    const data = reader.vector(2);
    if (type === undefined || !data || extensions.has(type)) return undefined;
    extensions.set(type, data);
  }
  return extensions;
}

function encodeExtensions(extensions: readonly (readonly [number, Buffer])[]): Buffer {
  if (extensions.length === 0) return Buffer.alloc(0);
  const parts = extensions.map(([type, data]) => {
    const header = Buffer.allocUnsafe(4);
    header.writeUInt16BE(type, 0);
    header.writeUInt16BE(data.length, 2);
    return Buffer.concat([header, data]);
  });
  const block = Buffer.concat(parts);
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(block.length, 0);
  return Buffer.concat([length, block]);
}

export interface ClientHelloFields {
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId?: Buffer;
  readonly cookie?: Buffer;
  readonly cipherSuites: readonly number[];
  readonly extensions?: readonly (readonly [number, Buffer])[];
}

/** A ClientHello body (our test client and tests build them). */
export function encodeClientHello(fields: ClientHelloFields): Buffer {
  const sessionId = fields.sessionId ?? Buffer.alloc(0);
  const cookie = fields.cookie ?? Buffer.alloc(0);
  const suites = Buffer.allocUnsafe(2 + 2 * fields.cipherSuites.length);
  suites.writeUInt16BE(2 * fields.cipherSuites.length, 0);
  fields.cipherSuites.forEach((suite, i) => suites.writeUInt16BE(suite, 2 + 2 * i));
  const version = Buffer.allocUnsafe(2);
  version.writeUInt16BE(fields.version, 0);
  return Buffer.concat([
    version,
    fields.random,
    Buffer.from([sessionId.length]),
    sessionId,
    Buffer.from([cookie.length]),
    cookie,
    suites,
    Buffer.from([1, COMPRESSION_NULL]),
    encodeExtensions(fields.extensions ?? []),
  ]);
}

/** RFC 6347 §4.2.1 HelloVerifyRequest: server_version and the cookie. */
export function encodeHelloVerifyRequest(version: number, cookie: Buffer): Buffer {
  const body = Buffer.allocUnsafe(3 + cookie.length);
  body.writeUInt16BE(version, 0);
  body[2] = cookie.length;
  cookie.copy(body, 3);
  return body;
}

export function parseHelloVerifyRequest(body: Buffer): { version: number; cookie: Buffer } | undefined {
  const reader = new Reader(body);
  const version = reader.uint(2);
  const cookie = reader.vector(1);
  if (version === undefined || !cookie || reader.remaining !== 0) return undefined;
  return { version, cookie };
}

export interface ServerHello {
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cipherSuite: number;
  readonly extensions: ReadonlyMap<number, Buffer>;
}

/** RFC 5246 §7.4.1.3 ServerHello with the null compression method. */
export function encodeServerHello(hello: Omit<ServerHello, 'extensions'> & { extensions: readonly (readonly [number, Buffer])[] }): Buffer {
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(hello.version, 0);
  const suite = Buffer.allocUnsafe(3);
  suite.writeUInt16BE(hello.cipherSuite, 0);
  suite[2] = COMPRESSION_NULL;
  return Buffer.concat([
    head,
    hello.random,
    Buffer.from([hello.sessionId.length]),
    hello.sessionId,
    suite,
    encodeExtensions(hello.extensions),
  ]);
}

export function parseServerHello(body: Buffer): ServerHello | undefined {
  const reader = new Reader(body);
  const version = reader.uint(2);
  const random = reader.bytes(RANDOM_BYTES);
  const sessionId = reader.vector(1);
  const cipherSuite = reader.uint(2);
  const compression = reader.uint(1);
  if (version === undefined || !random || !sessionId || cipherSuite === undefined || compression !== COMPRESSION_NULL) return undefined;
  let extensions = new Map<number, Buffer>();
  if (reader.remaining > 0) {
    const block = reader.vector(2);
    const parsed = block ? parseExtensions(block) : undefined;
    if (!parsed || reader.remaining !== 0) return undefined;
    extensions = parsed;
  }
  return { version, random, sessionId, cipherSuite, extensions };
}

/** RFC 4279 §2: ServerKeyExchange and ClientKeyExchange of plain PSK are one opaque<0..2^16-1> each (hint, identity). */
export function encodePskIdentity(identity: Buffer): Buffer {
  const body = Buffer.allocUnsafe(2 + identity.length);
  body.writeUInt16BE(identity.length, 0);
  identity.copy(body, 2);
  return body;
}

export function parsePskIdentity(body: Buffer): Buffer | undefined {
  const reader = new Reader(body);
  const identity = reader.vector(2);
  return identity && reader.remaining === 0 ? identity : undefined;
}

/** Names for logs. */
export function handshakeTypeName(type: number): string {
  const entry = Object.entries(HandshakeType).find(([, value]) => value === type);
  return entry ? entry[0].toLowerCase() : `handshake type ${type}`;
}
