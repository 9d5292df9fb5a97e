/**
 * Key derivation of TLS 1.2 (used unchanged by DTLS 1.2, RFC 6347 §4.2): the
 * PRF with HMAC-SHA256 (RFC 5246 §5) and what is derived with it, from the PSK
 * premaster secret (RFC 4279 §2) to the Finished verify_data (RFC 5246 §7.4.9).
 */
import { createHmac } from 'node:crypto';
import { MASTER_SECRET_BYTES, VERIFY_DATA_BYTES } from './parameters.js';

/**
 * RFC 5246 §5: PRF(secret, label, seed) = P_SHA256(secret, label + seed), where
 * P_hash = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + … and
 * A(0) = seed, A(i) = HMAC(secret, A(i-1)); cut to `length` bytes.
 */
export function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelAndSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const output = Buffer.alloc(length);
  let a: Buffer = labelAndSeed;
  let offset = 0;
  while (offset < length) {
    a = createHmac('sha256', secret).update(a).digest();
    offset += createHmac('sha256', secret).update(a).update(labelAndSeed).digest().copy(output, offset);
  }
  return output;
}

/** RFC 4279 §2: the premaster secret of plain PSK is uint16 N, N zero bytes, uint16 N, the PSK (N bytes). */
export function pskPremasterSecret(psk: Buffer): Buffer {
  const premaster = Buffer.alloc(4 + 2 * psk.length);
  premaster.writeUInt16BE(psk.length, 0);
  premaster.writeUInt16BE(psk.length, 2 + psk.length);
  psk.copy(premaster, 4 + psk.length);
  return premaster;
}

/** RFC 5246 §8.1: master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]. */
export function masterSecret(premaster: Buffer, clientRandom: Buffer, serverRandom: Buffer): Buffer {
  return prf(premaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), MASTER_SECRET_BYTES);
}

/**
 * RFC 7627 §4: with the extended master secret, the master secret is bound to the
 * whole handshake: PRF(pre_master_secret, "extended master secret", session_hash)[0..47],
 * session_hash being the hash of the handshake messages up to and including ClientKeyExchange.
 */
export function extendedMasterSecret(premaster: Buffer, sessionHash: Buffer): Buffer {
  return prf(premaster, 'extended master secret', sessionHash, MASTER_SECRET_BYTES);
}

/** RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random). */
export function keyBlock(master: Buffer, clientRandom: Buffer, serverRandom: Buffer, length: number): Buffer {
  return prf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), length);
}

/** RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]. */
export function finishedVerifyData(master: Buffer, sender: 'client' | 'server', handshakeHash: Buffer): Buffer {
  return prf(master, `${sender} finished`, handshakeHash, VERIFY_DATA_BYTES);
}
