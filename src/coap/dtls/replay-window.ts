/**
 * RFC 6347 §4.1.2.6 anti-replay: a sliding window of the sequence numbers seen in
 * one epoch. A record older than the window, or seen before inside it, is dropped;
 * the window moves only once a record has been authenticated, so that a forged
 * record with a huge sequence number cannot push the real ones out of it.
 *
 * The 64-bit bitmap is two 32-bit numbers (bit i: top - i was accepted): every session
 * has two windows, and a typed array would cost several times the 8 bytes of state.
 */
import { REPLAY_WINDOW_SIZE } from './parameters.js';

export class ReplayWindow {
  /** Highest sequence number accepted so far; -1 before the first. */
  private top = -1;
  /** Bits 0-31: top - 0 … top - 31. */
  private low = 0;
  /** Bits 32-63: top - 32 … top - 63. */
  private high = 0;

  /** True when a record with this sequence number may be new: check it before decrypting. */
  mayAccept(sequence: number): boolean {
    if (sequence > this.top) return true;
    const age = this.top - sequence;
    if (age >= REPLAY_WINDOW_SIZE) return false;
    const bit = age < 32 ? (this.low >>> age) & 1 : (this.high >>> (age - 32)) & 1;
    return bit === 0;
  }

  /** Records that an authenticated record with this sequence number was received. */
  accept(sequence: number): void {
    if (sequence > this.top) {
      this.shift(this.top < 0 ? REPLAY_WINDOW_SIZE : sequence - this.top);
      this.top = sequence;
    }
    const age = this.top - sequence;
    if (age >= REPLAY_WINDOW_SIZE) return;
    if (age < 32) this.low = (this.low | (1 << age)) >>> 0;
    else this.high = (this.high | (1 << (age - 32))) >>> 0;
  }

  /** A new epoch starts a new window (§4.1.2.6: one per epoch). */
  reset(): void {
    this.top = -1;
    this.low = 0;
    this.high = 0;
  }

  /** Moves every bit `by` places towards the old end (JavaScript shifts count modulo 32: each range apart). */
  private shift(by: number): void {
    if (by >= 64) {
      this.low = 0;
      this.high = 0;
    } else if (by >= 32) {
      this.high = by === 32 ? this.low : (this.low << (by - 32)) >>> 0;
      this.low = 0;
    } else {
      this.high = ((this.high << by) | (this.low >>> (32 - by))) >>> 0;
      this.low = (this.low << by) >>> 0;
    }
  }
}
