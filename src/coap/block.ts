/**
 * Block-wise transfer (RFC 7959): the Block1/Block2 option values and the state a
 * server keeps for them. The endpoint (endpoint.ts) drives the exchanges; this file
 * holds what can be tested without a socket:
 *
 * - `BlockOption` encoding (§2.2),
 * - `Block1Reassembly`: request bodies arriving in Block1 pieces (§2.5), bounded per
 *   peer and in total, dropped after a lifetime,
 * - `ServedBodies`: response bodies we serve in Block2 pieces (§2.4), kept so that
 *   the following blocks come from the same representation.
 */
import { OptionNumber, type CoapOption } from './options.js';
import type { BlockLimits } from './parameters.js';
import { peerKey, type Peer } from './peer.js';

/** RFC 7959 §2.2: NUM (up to 20 bits), M (more blocks follow), SZX (size exponent, size = 2^(SZX+4)). */
export interface BlockOption {
  readonly num: number;
  readonly more: boolean;
  readonly szx: number;
}

/** RFC 7959 §2.2: SZX 7 is reserved (BERT in RFC 8323, TCP only). */
export const MAX_SZX = 6;
/** RFC 7959 §2.2: NUM is at most 20 bits (a 3-byte option value). */
export const MAX_BLOCK_NUM = 0xfffff;

export function blockSize(szx: number): number {
  return 1 << (szx + 4);
}

/** The SZX of the largest block size not above `size` (16 → 0, 1024 → 6). */
export function szxFor(size: number): number {
  let szx = 0;
  while (szx < MAX_SZX && blockSize(szx + 1) <= size) szx++;
  return szx;
}

/** RFC 7959 §2.2: 0-3 bytes, NUM << 4 | M << 3 | SZX; undefined when malformed (over 3 bytes). */
export function decodeBlock(value: Buffer): BlockOption | undefined {
  if (value.length > 3) return undefined;
  let v = 0;
  for (const byte of value) v = v * 256 + byte;
  return { num: v >> 4, more: (v & 0x8) !== 0, szx: v & 0x7 };
}

export function encodeBlock(block: BlockOption): Buffer {
  const v = block.num * 16 + (block.more ? 8 : 0) + block.szx;
  if (v === 0) return Buffer.alloc(0);
  if (v < 0x100) return Buffer.from([v]);
  if (v < 0x10000) return Buffer.from([v >> 8, v & 0xff]);
  return Buffer.from([v >> 16, (v >> 8) & 0xff, v & 0xff]);
}

export function blockOption(number: typeof OptionNumber.BLOCK1 | typeof OptionNumber.BLOCK2, block: BlockOption): CoapOption {
  return { number, value: encodeBlock(block) };
}

/** The option if present: a block, 'malformed', or undefined when absent. */
export function getBlock(options: readonly CoapOption[], number: number): BlockOption | 'malformed' | undefined {
  const value = options.find((o) => o.number === number)?.value;
  if (value === undefined) return undefined;
  return decodeBlock(value) ?? 'malformed';
}

export function formatBlock(name: 'Block1' | 'Block2', block: BlockOption): string {
  return `${name} #${block.num}${block.more ? '+' : ''} (${blockSize(block.szx)} B)`;
}

/** Block-wise options we set ourselves: they never take part in telling transfers apart. */
const BLOCK_OPTIONS: ReadonlySet<number> = new Set([OptionNumber.BLOCK1, OptionNumber.BLOCK2, OptionNumber.SIZE1, OptionNumber.SIZE2]);

export function withoutBlockOptions(options: readonly CoapOption[], alsoRemove: readonly number[] = []): CoapOption[] {
  return options.filter((o) => !BLOCK_OPTIONS.has(o.number) && !alsoRemove.includes(o.number));
}

/**
 * RFC 7959 §2.4/§2.5: the blocks of one transfer are the requests from one peer with the same
 * method and the same options but for the block options (the token may change from block to
 * block). Observe is left out too, so that the GETs completing a notification (§3.4) find the
 * body of the Observe request.
 */
export function transferKey(peer: Peer, method: number, options: readonly CoapOption[]): string {
  const parts = [peerKey(peer), String(method)];
  for (const o of options) {
    if (BLOCK_OPTIONS.has(o.number) || o.number === OptionNumber.OBSERVE) continue;
    parts.push(`${o.number}=${o.value.toString('hex')}`);
  }
  return parts.join('|');
}

export interface BlockStats {
  /** Block1 transfers being reassembled now. */
  readonly incompleteTransfers: number;
  /** Bytes they hold. */
  readonly incompleteBytes: number;
  /** Largest number of bytes held at once by incomplete transfers. */
  readonly peakIncompleteBytes: number;
  /** Block1 transfers completed and handed to the request handler. */
  readonly completedTransfers: number;
  /** Transfers dropped to stay within the bounds (BlockLimits). */
  readonly evictedTransfers: number;
  /** Transfers dropped after EXCHANGE_LIFETIME without a block. */
  readonly expiredTransfers: number;
  /** 4.08 answers (gap, out of order, unknown transfer). */
  readonly incompleteAnswers: number;
  /** 4.13 answers (body over the limit). */
  readonly tooLargeAnswers: number;
  /** Response bodies kept for Block2 requests, and their bytes. */
  readonly servedBodies: number;
  readonly servedBytes: number;
  /** Bodies reassembled from Block2 responses (ours as a client, notifications included). */
  readonly block2Reassembled: number;
  /** Requests we sent in Block1 pieces. */
  readonly block1Sent: number;
  /** Blocks of responses and notifications we served in Block2 pieces. */
  readonly block2Served: number;
}

export type Block1Outcome =
  /** Not the last block: answer 2.31 Continue (§2.3). */
  | { readonly kind: 'continue' }
  /** The last block: the whole body, for the handler. */
  | { readonly kind: 'complete'; readonly payload: Buffer }
  /** Refused: 4.08, 4.13 (with Size1) or 4.00, with a reason for the log and the diagnostic payload. */
  | { readonly kind: 'incomplete' | 'too-large' | 'bad'; readonly reason: string };

interface Transfer {
  readonly key: string;
  readonly peer: string;
  readonly chunks: Buffer[];
  received: number;
  /** Offset of the last block taken, to acknowledge its repetition again (§2.5, a lost 2.31). */
  lastOffset: number;
  lastActive: number;
}

/**
 * RFC 7959 §2.5: reassembly of request bodies sent in Block1 pieces. Blocks must come in
 * order (NUM × size = bytes received so far); §2.9.2 4.08 otherwise. The Map's insertion
 * order is kept as activity order (a transfer is re-inserted on each block), so eviction
 * and expiry look at the least recently active transfers first.
 */
export class Block1Reassembly {
  private readonly transfers = new Map<string, Transfer>();
  private readonly perPeer = new Map<string, { transfers: number; bytes: number }>();
  private bytes = 0;
  private peakBytes = 0;
  completed = 0;
  evicted = 0;
  expired = 0;
  incompleteAnswers = 0;
  tooLargeAnswers = 0;

  constructor(
    private readonly limits: BlockLimits,
    private readonly maxBodyBytes: number,
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.transfers.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  get peakHeldBytes(): number {
    return this.peakBytes;
  }

  /** Takes one block; `size1` is the Size1 option of the request (§4: the size of the whole body, when the client knows it). */
  receive(peer: Peer, key: string, block: BlockOption, payload: Buffer, size1: number | undefined): Block1Outcome {
    this.sweep();
    if (block.szx > MAX_SZX) return { kind: 'bad', reason: 'SZX 7 is reserved (RFC 7959 §2.2)' };
    const size = blockSize(block.szx);
    // §2.2: every block but the last carries exactly the block size.
    if (block.more && payload.length !== size) {
      this.drop(key);
      return { kind: 'bad', reason: `${formatBlock('Block1', block)} carries ${payload.length} bytes, not ${size}` };
    }
    if (payload.length > size) {
      this.drop(key);
      return { kind: 'bad', reason: `${formatBlock('Block1', block)} carries ${payload.length} bytes, more than its size` };
    }
    const offset = block.num * size;
    // §2.9.3 / §4: 4.13 with Size1 as soon as the body is known to be too large.
    if ((size1 !== undefined && size1 > this.maxBodyBytes) || offset + payload.length > this.maxBodyBytes) {
      this.drop(key);
      this.tooLargeAnswers++;
      const total = size1 !== undefined && size1 > this.maxBodyBytes ? `${size1} bytes` : `over ${offset + payload.length} bytes`;
      return { kind: 'too-large', reason: `body of ${total} exceeds the limit of ${this.maxBodyBytes} bytes` };
    }
    let transfer = this.transfers.get(key);
    if (block.num === 0) {
      // §2.5: block 0 (re)starts the transfer.
      if (transfer) this.drop(key);
      if (!block.more) return { kind: 'complete', payload };
      transfer = undefined;
    } else if (!transfer) {
      this.incompleteAnswers++;
      return { kind: 'incomplete', reason: `${formatBlock('Block1', block)} without the blocks before it (no transfer in progress)` };
    } else if (offset === transfer.lastOffset && offset + payload.length === transfer.received) {
      // The same block again with a new message ID (our 2.31 was lost after the retransmissions): acknowledge again.
      this.touch(transfer);
      return { kind: 'continue' };
    } else if (offset !== transfer.received) {
      this.drop(key);
      this.incompleteAnswers++;
      const why =
        offset > transfer.received
          ? `missing bytes ${transfer.received}-${offset - 1}`
          : `out of order, ${transfer.received} bytes already received`;
      return { kind: 'incomplete', reason: `${formatBlock('Block1', block)} at byte ${offset}: ${why}` };
    }
    if (!block.more) {
      const whole = transfer ? Buffer.concat([...transfer.chunks, payload]) : payload;
      this.drop(key);
      this.completed++;
      return { kind: 'complete', payload: whole };
    }
    const peerId = peerKey(peer);
    // Room is made before the block is stored, so the bounds hold at every moment.
    if (!this.makeRoom(peerId, key, transfer === undefined, payload.length)) {
      this.drop(key);
      this.evicted++;
      this.incompleteAnswers++;
      return { kind: 'incomplete', reason: `${formatBlock('Block1', block)}: no room for this transfer within the bounds` };
    }
    if (!transfer) {
      transfer = { key, peer: peerId, chunks: [], received: 0, lastOffset: 0, lastActive: this.now() };
      this.transfers.set(key, transfer);
      const counts = this.perPeer.get(peerId) ?? { transfers: 0, bytes: 0 };
      counts.transfers++;
      this.perPeer.set(peerId, counts);
    }
    transfer.chunks.push(payload);
    transfer.received += payload.length;
    transfer.lastOffset = offset;
    this.addBytes(peerId, payload.length);
    this.touch(transfer);
    return { kind: 'continue' };
  }

  /** Drops transfers idle for the lifetime (EXCHANGE_LIFETIME, RFC 7252 §4.8.2). */
  sweep(): void {
    const deadline = this.now() - this.lifetimeMs;
    for (const transfer of this.transfers.values()) {
      if (transfer.lastActive > deadline) break;
      this.drop(transfer.key);
      this.expired++;
    }
  }

  clear(): void {
    this.transfers.clear();
    this.perPeer.clear();
    this.bytes = 0;
  }

  private touch(transfer: Transfer): void {
    transfer.lastActive = this.now();
    // Re-insert: the Map's order stays the order of activity.
    this.transfers.delete(transfer.key);
    this.transfers.set(transfer.key, transfer);
  }

  private addBytes(peerId: string, n: number): void {
    this.bytes += n;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    const counts = this.perPeer.get(peerId);
    if (counts) counts.bytes += n;
  }

  /**
   * Drops the least recently active transfers (the peer's own first, then anyone's) until
   * `bytes` more, and one more transfer when `adding`, fit the bounds. False when only
   * dropping the current transfer itself would do.
   */
  private makeRoom(peerId: string, current: string, adding: boolean, bytes: number): boolean {
    const extra = adding ? 1 : 0;
    const counts = (): { transfers: number; bytes: number } => this.perPeer.get(peerId) ?? { transfers: 0, bytes: 0 };
    while (counts().transfers + extra > this.limits.transfersPerPeer || counts().bytes + bytes > this.limits.bytesPerPeer) {
      const victim = this.oldest((t) => t.peer === peerId && t.key !== current);
      if (!victim) return false;
      this.drop(victim.key);
      this.evicted++;
    }
    while (this.transfers.size + extra > this.limits.transfersTotal || this.bytes + bytes > this.limits.bytesTotal) {
      const victim = this.oldest((t) => t.key !== current);
      if (!victim) return false;
      this.drop(victim.key);
      this.evicted++;
    }
    return true;
  }

  private oldest(accept: (transfer: Transfer) => boolean): Transfer | undefined {
    for (const transfer of this.transfers.values()) if (accept(transfer)) return transfer;
    return undefined;
  }

  private drop(key: string): void {
    const transfer = this.transfers.get(key);
    if (!transfer) return;
    this.transfers.delete(key);
    this.bytes -= transfer.received;
    const counts = this.perPeer.get(transfer.peer);
    if (counts) {
      counts.transfers--;
      counts.bytes -= transfer.received;
      if (counts.transfers <= 0) this.perPeer.delete(transfer.peer);
    }
  }
}

interface ServedBody {
  readonly key: string;
  readonly code: number;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
  readonly storedAt: number;
}

/**
 * RFC 7959 §2.4: the response bodies we answered block-wise, kept (bounded, for a lifetime) so
 * that the requests for the following blocks are served from the same representation instead
 * of running the handler again (which may give a different one, §2.4 "ETag").
 */
export class ServedBodies {
  private readonly bodies = new Map<string, ServedBody>();
  private bytes = 0;

  constructor(
    private readonly limits: BlockLimits,
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.bodies.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  get(key: string): ServedBody | undefined {
    this.sweep();
    return this.bodies.get(key);
  }

  set(key: string, code: number, options: readonly CoapOption[], payload: Buffer): void {
    this.delete(key);
    if (payload.length > this.limits.servedBytes) return;
    this.bodies.set(key, { key, code, options, payload, storedAt: this.now() });
    this.bytes += payload.length;
    while (this.bodies.size > this.limits.servedBodies || this.bytes > this.limits.servedBytes) {
      const oldest = this.bodies.values().next().value;
      if (!oldest) break;
      this.delete(oldest.key);
    }
  }

  delete(key: string): void {
    const body = this.bodies.get(key);
    if (!body) return;
    this.bodies.delete(key);
    this.bytes -= body.payload.length;
  }

  deleteWhere(match: (key: string) => boolean): void {
    for (const key of [...this.bodies.keys()]) if (match(key)) this.delete(key);
  }

  sweep(): void {
    const deadline = this.now() - this.lifetimeMs;
    for (const body of this.bodies.values()) {
      if (body.storedAt > deadline) break;
      this.delete(body.key);
    }
  }

  clear(): void {
    this.bodies.clear();
    this.bytes = 0;
  }
}
