/**
 * Every protocol constant of the CoAP layer in one place (RFC 7252 §4.8 and §12).
 * Transmission parameters are configurable; the derived times follow from them.
 */

export interface TransmissionParameters {
  /** RFC 7252 §4.8 ACK_TIMEOUT, in milliseconds. */
  readonly ackTimeoutMs: number;
  /** RFC 7252 §4.8 ACK_RANDOM_FACTOR. */
  readonly ackRandomFactor: number;
  /** RFC 7252 §4.8 MAX_RETRANSMIT. */
  readonly maxRetransmit: number;
}

export const DEFAULT_TRANSMISSION: TransmissionParameters = {
  ackTimeoutMs: 2000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
};

/** RFC 7252 §4.8.2 MAX_LATENCY: 100 s. */
export const MAX_LATENCY_MS = 100_000;
/** RFC 7252 §4.8.2 PROCESSING_DELAY defaults to ACK_TIMEOUT. */

/** RFC 7252 §4.8.2 MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR (45 s by default). */
export function maxTransmitSpanMs(p: TransmissionParameters): number {
  return p.ackTimeoutMs * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;
}

/** RFC 7252 §4.8.2 MAX_TRANSMIT_WAIT = ACK_TIMEOUT * (2^(MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR (93 s by default). */
export function maxTransmitWaitMs(p: TransmissionParameters): number {
  return p.ackTimeoutMs * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;
}

/** RFC 7252 §4.8.2 EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY (247 s by default). */
export function exchangeLifetimeMs(p: TransmissionParameters): number {
  return maxTransmitSpanMs(p) + 2 * MAX_LATENCY_MS + p.ackTimeoutMs;
}

/** RFC 7252 §4.8.2 NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY (145 s by default). */
export function nonLifetimeMs(p: TransmissionParameters): number {
  return maxTransmitSpanMs(p) + MAX_LATENCY_MS;
}

/**
 * Largest datagram we accept or send. RFC 7252 §4.6 recommends 1152 bytes of
 * message in a 1280-byte IPv6 MTU; we read up to the UDP maximum and let the
 * block-wise layer keep what we send small.
 */
export const MAX_DATAGRAM_BYTES = 65_507;

/** Token length we use for requests we originate (RFC 7252 §5.3.1: up to 8 bytes, random). */
export const TOKEN_LENGTH = 8;

/**
 * Kernel socket buffer we ask for. The Linux default (208 KiB) holds about 200
 * small datagrams: a burst of notifications from a thousand devices overflows it
 * and the kernel drops the rest. Linux caps the request at net.core.rmem_max.
 */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Datagrams kept while an endpoint bound with `holdUntilOpen` is not yet serving (the hub
 * wiring its services at start). Beyond this many they are dropped: their senders retransmit.
 */
export const MAX_HELD_DATAGRAMS = 10_000;

/**
 * RFC 7959 §2.2: block sizes are 2^(SZX+4), 16 to 1024 bytes; SZX 7 is reserved (BERT, RFC 8323, TCP only).
 * 1024 is what we use when nothing asks for less (RFC 7252 §4.6: a 1024-byte payload fits a 1280-byte MTU).
 */
export const DEFAULT_BLOCK_SIZE = 1024;

/** Largest body reassembled from Block1 or Block2 pieces unless told otherwise (`--coap-max-body`). */
export const DEFAULT_MAX_BODY_BYTES = 65_536;

/**
 * Bounds of what incomplete block-wise transfers may hold (RFC 7959 §2.5, §7: a peer can
 * open transfers and walk away). Past a bound the least recently active transfer is dropped;
 * its next block then gets 4.08 Request Entity Incomplete.
 */
export interface BlockLimits {
  /** Incomplete Block1 transfers (requests being reassembled) per peer (address and port). */
  readonly transfersPerPeer: number;
  /** Incomplete Block1 transfers in total. */
  readonly transfersTotal: number;
  /** Bytes held by incomplete Block1 transfers of one peer. */
  readonly bytesPerPeer: number;
  /** Bytes held by incomplete Block1 transfers in total. */
  readonly bytesTotal: number;
  /** Response bodies kept to serve the following Block2 pieces (RFC 7959 §2.4), in total. */
  readonly servedBodies: number;
  /** Bytes of those response bodies, in total. */
  readonly servedBytes: number;
}

export const DEFAULT_BLOCK_LIMITS: BlockLimits = {
  transfersPerPeer: 4,
  transfersTotal: 1024,
  bytesPerPeer: 256 * 1024,
  bytesTotal: 16 * 1024 * 1024,
  servedBodies: 1024,
  servedBytes: 16 * 1024 * 1024,
};

/** Restarts of a Block1 transfer with a smaller size after 4.13 (RFC 7959 §2.9.3) before we give up. */
export const MAX_BLOCK1_RESTARTS = 6;
