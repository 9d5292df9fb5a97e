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
