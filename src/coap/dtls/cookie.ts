/**
 * RFC 6347 §4.2.1 stateless cookies: Cookie = HMAC(Secret, Client-IP, Client-Parameters).
 * The server answers a ClientHello without a valid cookie with a HelloVerifyRequest and
 * keeps nothing; only a client that receives at its source address can send the cookie
 * back, so spoofed ClientHellos cost one HMAC and never create state. The secret is
 * replaced regularly, and cookies made with the one before are still taken.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { COOKIE_BYTES, COOKIE_SECRET_LIFETIME_MS } from './parameters.js';

export class CookieJar {
  private current = randomBytes(32);
  private previous: Buffer | undefined;
  private rotatedAt: number;

  constructor(
    private readonly secretLifetimeMs = COOKIE_SECRET_LIFETIME_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.rotatedAt = now();
  }

  /** The cookie for this client address and port and these ClientHello parameters. */
  make(address: string, port: number, binding: Buffer): Buffer {
    this.rotate();
    return cookie(this.current, address, port, binding);
  }

  verify(address: string, port: number, binding: Buffer, received: Buffer): boolean {
    this.rotate();
    if (received.length !== COOKIE_BYTES) return false;
    if (timingSafeEqual(cookie(this.current, address, port, binding), received)) return true;
    return this.previous !== undefined && timingSafeEqual(cookie(this.previous, address, port, binding), received);
  }

  private rotate(): void {
    const now = this.now();
    if (now - this.rotatedAt < this.secretLifetimeMs) return;
    // After two lifetimes without use, the previous secret is as old as it may be: drop it too.
    this.previous = now - this.rotatedAt < 2 * this.secretLifetimeMs ? this.current : undefined;
    this.current = randomBytes(32);
    this.rotatedAt = now;
  }
}

function cookie(secret: Buffer, address: string, port: number, binding: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${address}|${port}|`).update(binding).digest().subarray(0, COOKIE_BYTES);
}
