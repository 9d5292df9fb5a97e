import { isIPv4, isIPv6 } from 'node:net';

/**
 * Where a datagram came from, as we store and show it: IPv4 dotted quad for
 * IPv4 peers (even when they reached our dual-stack socket as `::ffff:a.b.c.d`),
 * IPv6 text with its zone kept (`fe80::1%eth0`), because a link-local peer can
 * only be answered through the interface it spoke from.
 */
export interface Peer {
  readonly address: string;
  readonly port: number;
  /** Reached through a DTLS session (`coaps://`, the DTLS port) rather than plain UDP: another peer than the same address and port without it. */
  readonly secure?: true;
}

const MAPPED_PREFIX = '::ffff:';

export function normalizeAddress(address: string): string {
  if (address.toLowerCase().startsWith(MAPPED_PREFIX)) {
    const v4 = address.slice(MAPPED_PREFIX.length);
    if (isIPv4(v4)) return v4;
  }
  return address;
}

export function addressFamily(address: string): 4 | 6 {
  return isIPv4(address) ? 4 : 6;
}

export function isIpAddress(address: string): boolean {
  return isIPv4(address) || isIPv6(address.split('%')[0] ?? '');
}

export function peerKey(peer: Peer): string {
  return peer.secure ? `dtls:${peer.address}|${peer.port}` : `${peer.address}|${peer.port}`;
}

/** `[::1]:5683` or `127.0.0.1:5683`, as in a URI authority; `coaps://[::1]:5684` for a peer reached over DTLS. */
export function formatPeer(peer: Peer): string {
  const authority = addressFamily(peer.address) === 6 ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
  return peer.secure ? `coaps://${authority}` : authority;
}
