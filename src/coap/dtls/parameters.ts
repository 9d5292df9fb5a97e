/**
 * Every protocol constant of the DTLS layer in one place: wire code points of
 * RFC 5246 (TLS 1.2), RFC 6347 (DTLS 1.2), RFC 4279 (PSK), RFC 6655 (CCM),
 * RFC 5746 and RFC 7627 (extensions), and the limits and timers we chose.
 */

/** RFC 5246 §6.2.1 ContentType. */
export const ContentType = {
  CHANGE_CIPHER_SPEC: 20,
  ALERT: 21,
  HANDSHAKE: 22,
  APPLICATION_DATA: 23,
} as const;

/** RFC 5246 §7.4 HandshakeType, with RFC 6347 §4.2.1 hello_verify_request. */
export const HandshakeType = {
  HELLO_REQUEST: 0,
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  HELLO_VERIFY_REQUEST: 3,
  SERVER_KEY_EXCHANGE: 12,
  SERVER_HELLO_DONE: 14,
  CLIENT_KEY_EXCHANGE: 16,
  FINISHED: 20,
} as const;

/** RFC 5246 §7.2 AlertLevel. */
export const AlertLevel = { WARNING: 1, FATAL: 2 } as const;

/** RFC 5246 §7.2 AlertDescription (the ones we send or name in logs), RFC 4279 §2 unknown_psk_identity. */
export const AlertDescription = {
  CLOSE_NOTIFY: 0,
  UNEXPECTED_MESSAGE: 10,
  BAD_RECORD_MAC: 20,
  RECORD_OVERFLOW: 22,
  HANDSHAKE_FAILURE: 40,
  ILLEGAL_PARAMETER: 47,
  DECODE_ERROR: 50,
  DECRYPT_ERROR: 51,
  PROTOCOL_VERSION: 70,
  INTERNAL_ERROR: 80,
  NO_RENEGOTIATION: 100,
  UNSUPPORTED_EXTENSION: 110,
  UNKNOWN_PSK_IDENTITY: 115,
} as const;

/** RFC 6347 §4.1: DTLS 1.2 is {254, 253}; DTLS 1.0 {254, 255} (versions count down). */
export const DTLS_1_2 = 0xfefd;
export const DTLS_1_0 = 0xfeff;

/** Cipher suites we implement, in our order of preference. */
export const CipherSuiteId = {
  /** RFC 6655 §4, the LwM2M mandatory suite (LwM2M 1.1 Transport §5.2.8.1). */
  TLS_PSK_WITH_AES_128_CCM_8: 0xc0a8,
  /** RFC 5487 §3.1. */
  TLS_PSK_WITH_AES_128_CBC_SHA256: 0x00ae,
} as const;

/** RFC 5746 §3.3: a client that sends no renegotiation_info extension signals secure renegotiation with this suite. */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/** RFC 5246 §7.4.1.4 extension types we act on. */
export const ExtensionType = {
  /** RFC 7627 §5.1. */
  EXTENDED_MASTER_SECRET: 0x0017,
  /** RFC 5746 §3.2. */
  RENEGOTIATION_INFO: 0xff01,
} as const;

/** RFC 5246 §7.4.1.2: the null compression method, the only one DTLS 1.2 peers use. */
export const COMPRESSION_NULL = 0;

/** RFC 6347 §4.1: type, version, epoch, 48-bit sequence number, length. */
export const RECORD_HEADER_BYTES = 13;
/** RFC 6347 §4.2.2: type, length, message_seq, fragment_offset, fragment_length. */
export const HANDSHAKE_HEADER_BYTES = 12;
/** RFC 5246 §6.2.1: a record carries at most 2^14 bytes of plaintext. */
export const MAX_PLAINTEXT_BYTES = 2 ** 14;
/** RFC 5246 §6.2.3: and at most 2^14 + 2048 bytes of protected fragment. */
export const MAX_CIPHERTEXT_BYTES = 2 ** 14 + 2048;
/** RFC 6347 §4.1: sequence numbers are 48 bits; one is never reused within an epoch. */
export const MAX_SEQUENCE_NUMBER = 2 ** 48 - 1;
/** RFC 6347 §4.1.2.6: the anti-replay window (64 is the minimum the RFC asks for, and the default it suggests). */
export const REPLAY_WINDOW_SIZE = 64;
/** RFC 5246 §7.4.9: verify_data is 12 bytes with every suite we offer. */
export const VERIFY_DATA_BYTES = 12;
/** RFC 5246 §7.4.1.2: ClientHello.random and ServerHello.random. */
export const RANDOM_BYTES = 32;
/** RFC 5246 §8.1: the master secret. */
export const MASTER_SECRET_BYTES = 48;

/**
 * Largest handshake message we reassemble. Ours are far smaller; a ClientHello
 * with every suite and extension OpenSSL offers is under 300 bytes, and RFC 4279
 * §5.3 asks servers to take PSK identities of up to 128 bytes.
 */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 8192;
/** Handshake messages of the current flight buffered ahead of the one we wait for (RFC 6347 §4.2.2 reordering). */
export const MAX_MESSAGES_AHEAD = 8;
/** Records held while the PSK of the identity is looked up (the rest of flight 5 usually arrives in the same datagram). */
export const MAX_RECORDS_QUEUED = 32;

/** HMAC bytes kept in a cookie (RFC 6347 §4.2.1: opaque, at most 255 bytes). */
export const COOKIE_BYTES = 16;
/** The cookie secret changes this often; cookies made with the previous one are still taken (§4.2.1). */
export const COOKIE_SECRET_LIFETIME_MS = 5 * 60_000;

/** RFC 6347 §4.2.4: flight retransmission timer. */
export interface RetransmissionParameters {
  /** §4.2.4.1: 1 s initial timer. */
  readonly initialMs: number;
  /** §4.2.4.1: doubled at each retransmission, up to 60 s. */
  readonly maxMs: number;
  /** Retransmissions of a flight before the handshake is given up. */
  readonly maxRetransmissions: number;
}

export const DEFAULT_DTLS_RETRANSMISSION: RetransmissionParameters = {
  initialMs: 1000,
  maxMs: 60_000,
  // 1 + 2 + 4 + 8 + 16 + 32 s: a handshake stalls at most about a minute.
  maxRetransmissions: 6,
};

/** Bounds of the state a DTLS server keeps; past them it evicts or refuses rather than grows. */
export interface DtlsLimits {
  /**
   * Sessions (established or handshaking) kept at once; past it the least recently active established one is
   * closed. An established session holds about 2.3 KB of heap, so the default (the hub's scale target) is ~230 MB.
   */
  readonly maxSessions: number;
  /** Handshakes in progress (after a valid cookie) at once; past it the oldest is dropped. */
  readonly maxHandshakes: number;
  /**
   * An established session silent this long is forgotten. The default outlives the LwM2M
   * default lifetime (Core §E.1, 86 400 s), so that a device that updates once a day keeps its session.
   */
  readonly sessionIdleMs: number;
}

export const DEFAULT_DTLS_LIMITS: DtlsLimits = {
  maxSessions: 100_000,
  maxHandshakes: 1024,
  sessionIdleMs: 25 * 3600_000,
};

/** How often idle sessions are looked for. */
export const SWEEP_INTERVAL_MS = 30_000;
