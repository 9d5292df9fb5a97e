/**
 * One UDP socket that is both a CoAP server and a CoAP client (RFC 7252 §4, §5).
 *
 * LwM2M needs this: devices (Wakaama, Contiki) accept requests only from the
 * address and port they registered to, so the requests we send to them must
 * leave from the socket that received their registration. node-coap keeps the
 * server and the agent apart and the agent resets every request it did not
 * originate, so this layer is ours. It knows nothing of LwM2M: it hands incoming
 * requests to one handler and matches responses to the requests we sent.
 */
import { createHash, randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { Logger } from 'pino';
import {
  Block1Reassembly,
  blockOption,
  blockSize,
  formatBlock,
  getBlock,
  MAX_BLOCK_NUM,
  ServedBodies,
  szxFor,
  transferKey,
  withoutBlockOptions,
  type BlockOption,
  type BlockStats,
} from './block.js';
import { formatCode, isRequestCode, isResponseCode, isSuccessCode, Method, methodName, ResponseCode } from './codes.js';
import { DuplicateCache } from './deduplication.js';
import { decodeMessage, emptyMessage, encodeMessage, MessageType, type CoapMessage } from './message.js';
import {
  getOption,
  getStringOptions,
  getUintOption,
  isCritical,
  isKnownOption,
  OptionNumber,
  stringOption,
  uintOption,
  type CoapOption,
} from './options.js';
import {
  DEFAULT_BLOCK_LIMITS,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TRANSMISSION,
  MAX_BLOCK1_RESTARTS,
  type BlockLimits,
  exchangeLifetimeMs,
  MAX_DATAGRAM_BYTES,
  MAX_HELD_DATAGRAMS,
  maxTransmitWaitMs,
  nonLifetimeMs,
  TOKEN_LENGTH,
  type TransmissionParameters,
} from './parameters.js';
import { randomBytesPooled } from '../random.js';
import { formatPeer, normalizeAddress, peerKey, type Peer } from './peer.js';
import { BatchedSender, bindUdpSocket, sendAddress, type SecureDatagramTransport, type TransportSecurity } from './transport.js';

export interface IncomingRequest {
  readonly peer: Peer;
  readonly method: number;
  readonly confirmable: boolean;
  readonly messageId: number;
  readonly token: Buffer;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
  readonly uriPath: readonly string[];
  readonly uriQuery: readonly string[];
  readonly contentFormat: number | undefined;
  /** Present exactly when the request came through a DTLS session (then `peer.secure` is set too). */
  readonly security?: TransportSecurity;
}

export interface OutgoingResponse {
  readonly code: number;
  readonly options?: readonly CoapOption[];
  readonly payload?: Buffer | string;
}

export type RequestHandler = (request: IncomingRequest) => Promise<OutgoingResponse> | OutgoingResponse;

export interface OutgoingRequest {
  readonly method: number;
  readonly uriPath?: readonly string[];
  readonly uriQuery?: readonly string[];
  readonly options?: readonly CoapOption[];
  readonly payload?: Buffer;
  /** CON (default) is retransmitted per RFC 7252 §4.2; NON is sent once. */
  readonly confirmable?: boolean;
  /** A token of the caller's (an observation's, to cancel it with the same token, RFC 7641 §3.6); random by default. */
  readonly token?: Buffer;
}

export interface ReceivedResponse {
  readonly peer: Peer;
  readonly code: number;
  readonly token: Buffer;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
  readonly contentFormat: number | undefined;
}

/** A response we send outside a request/response exchange: an RFC 7641 notification. */
export interface OutgoingNotification {
  readonly token: Buffer;
  readonly code: number;
  readonly options?: readonly CoapOption[];
  readonly payload?: Buffer;
  /** CON notifications are retransmitted until acknowledged (RFC 7641 §4.5). */
  readonly confirmable?: boolean;
}

/**
 * Decides the fate of a response whose token matches no request of ours, such as
 * an RFC 7641 notification: true accepts it (a CON is acknowledged), false rejects
 * it with a Reset, which also tells the peer to stop notifying (RFC 7641 §3.6).
 *
 * A NON notification may come twice: the endpoint leaves its duplicates to the handler,
 * which must order notifications by their Observe numbers (RFC 7641 §3.4; a copy is not
 * fresher than itself).
 */
export type UnmatchedResponseHandler = (response: ReceivedResponse) => boolean | Promise<boolean>;

export interface RequestOptions {
  /** Give up waiting for the response after this long (default MAX_TRANSMIT_WAIT, 93 s); a block-wise transfer as a whole. */
  readonly timeoutMs?: number;
}

export class CoapTimeoutError extends Error {
  override readonly name = 'CoapTimeoutError';
  constructor(
    readonly peer: Peer,
    readonly method: number,
    readonly acknowledged: boolean,
  ) {
    super(
      `${methodName(method)} to ${formatPeer(peer)} timed out ${acknowledged ? 'waiting for the separate response' : 'without acknowledgement'}`,
    );
  }
}

export class CoapResetError extends Error {
  override readonly name = 'CoapResetError';
  constructor(readonly peer: Peer) {
    super(`${formatPeer(peer)} rejected the request with a Reset`);
  }
}

/** A block-wise transfer (RFC 7959) failed: which block, with which peer, and why. */
export class CoapBlockError extends Error {
  override readonly name = 'CoapBlockError';
  constructor(
    readonly peer: Peer,
    readonly method: number,
    /** `Block2 #3 (64 B)` or `Block1 #0+ (1024 B)`. */
    readonly block: string,
    readonly reason: string,
  ) {
    super(`${methodName(method)} to ${formatPeer(peer)}: ${block}: ${reason}`);
  }
}

export class CoapEndpointClosedError extends Error {
  override readonly name = 'CoapEndpointClosedError';
  constructor() {
    super('CoAP endpoint closed');
  }
}

export interface CoapEndpointOptions {
  /** `::` (default) listens on IPv6 and IPv4 on one port; an IPv4 literal binds an IPv4-only socket. */
  readonly host?: string;
  readonly port?: number;
  readonly transmission?: TransmissionParameters;
  readonly logger?: Logger;
  /**
   * Block size (16-1024, RFC 7959 §2.2) of the requests we send in Block1 pieces and of the
   * responses we serve in Block2 pieces. When set it is also asked of peers in a Block2 option
   * on our GET and FETCH requests (early negotiation, §2.4). Unset: 1024, and no early negotiation.
   */
  readonly blockSize?: number;
  /** Largest body reassembled from Block1 or Block2 pieces (default 65536); larger Block1 requests get 4.13 with Size1 (§2.9.3). */
  readonly maxBodyBytes?: number;
  /** Bounds of the memory held by incomplete transfers (default DEFAULT_BLOCK_LIMITS). */
  readonly blockLimits?: Partial<BlockLimits>;
  /** How long an idle incomplete transfer is kept (default EXCHANGE_LIFETIME, RFC 7252 §4.8.2). */
  readonly blockLifetimeMs?: number;
  /**
   * Bind now (a port in use fails at once) but keep what arrives until open(): a hub that is
   * still wiring its services must not answer 4.04 to an Update, nor take a Register whose
   * events nobody publishes yet.
   */
  readonly holdUntilOpen?: boolean;
}

/** Requests we sent with Observe, by peer and token: the GETs completing a block-wise notification repeat them (RFC 7959 §3.4). */
const MAX_OBSERVE_TEMPLATES = 65_536;

interface PendingExchange {
  readonly peer: Peer;
  readonly method: number;
  readonly messageId: number;
  readonly token: Buffer;
  readonly tokenKey: string;
  readonly datagram: Buffer;
  acknowledged: boolean;
  retransmitTimer: NodeJS.Timeout | undefined;
  readonly deadline: NodeJS.Timeout;
  readonly resolve: (response: ReceivedResponse) => void;
  readonly reject: (error: Error) => void;
}

interface MessageIdCounter {
  next: number;
  lastUsed: number;
}

export class CoapEndpoint {
  /** Handles every request a peer sends us; answers 4.04 until one is set. */
  onRequest: RequestHandler = () => ({ code: ResponseCode.NOT_FOUND });
  /** Handles responses that match no pending request (notifications); rejects them until one is set. */
  onUnmatchedResponse: UnmatchedResponseHandler = () => false;
  /**
   * The request behind an observation this endpoint did not send itself (before a restart, or
   * from another instance), to fetch the rest of a block-wise notification (RFC 7959 §3.4).
   */
  resolveObserveRequest: ((peer: Peer, token: Buffer) => Promise<OutgoingRequest | undefined>) | undefined;

  private readonly socket: Socket;
  private readonly ipv6Socket: boolean;
  private readonly sender: BatchedSender;
  /** The DTLS server carrying CoAP for peers with `secure` set (attachSecureTransport). */
  private secure: SecureDatagramTransport | undefined;
  private readonly transmission: TransmissionParameters;
  private readonly logger: Logger | undefined;
  /** RFC 7252 §4.5: CON messages are remembered for EXCHANGE_LIFETIME (247 s), NON ones for NON_LIFETIME (145 s). */
  private readonly conDuplicates: DuplicateCache;
  private readonly nonDuplicates: DuplicateCache;
  private readonly byMessageId = new Map<string, PendingExchange>();
  private readonly byToken = new Map<string, PendingExchange>();
  /** CON notifications we sent, by peer and message id, waiting for their ACK or RST. */
  private readonly notificationsInFlight = new Map<string, (acknowledged: boolean) => void>();
  private readonly messageIds = new Map<string, MessageIdCounter>();
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;
  /** Set by close(): new requests are dropped (their senders retransmit, to whoever serves next). */
  private draining = false;
  private handlersRunning = 0;
  /** RFC 7959: block size we send and serve in, the one we ask for (if any), and the body limit. */
  private readonly blockSize: number;
  private readonly askedBlockSize: number | undefined;
  private readonly maxBodyBytes: number;
  private readonly block1: Block1Reassembly;
  private readonly served: ServedBodies;
  private readonly observeTemplates = new Map<string, OutgoingRequest>();
  private block2Reassembled = 0;
  private block1Sent = 0;
  private block2Served = 0;
  /** Datagrams that arrived before open(), in order (holdUntilOpen); undefined once serving. */
  private held: [Buffer, Peer, TransportSecurity | undefined][] | undefined;
  private heldDropped = 0;

  private constructor(socket: Socket, ipv6Socket: boolean, options: CoapEndpointOptions) {
    this.socket = socket;
    this.ipv6Socket = ipv6Socket;
    this.sender = new BatchedSender(socket, this.afterSend);
    this.transmission = options.transmission ?? DEFAULT_TRANSMISSION;
    this.logger = options.logger;
    this.conDuplicates = new DuplicateCache(exchangeLifetimeMs(this.transmission));
    // NON requests and NON responses without Observe; NON notifications are left to the Observe order.
    this.nonDuplicates = new DuplicateCache(nonLifetimeMs(this.transmission));
    if (options.blockSize !== undefined && (options.blockSize < 16 || options.blockSize > 1024)) {
      throw new RangeError(`block size must be 16 to 1024 bytes, not ${options.blockSize}`);
    }
    this.askedBlockSize = options.blockSize === undefined ? undefined : blockSize(szxFor(options.blockSize));
    this.blockSize = this.askedBlockSize ?? DEFAULT_BLOCK_SIZE;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    // A body the limit allows must fit the per-peer and total bounds.
    const limits: BlockLimits = {
      ...DEFAULT_BLOCK_LIMITS,
      bytesPerPeer: Math.max(DEFAULT_BLOCK_LIMITS.bytesPerPeer, this.maxBodyBytes),
      bytesTotal: Math.max(DEFAULT_BLOCK_LIMITS.bytesTotal, this.maxBodyBytes),
      servedBytes: Math.max(DEFAULT_BLOCK_LIMITS.servedBytes, this.maxBodyBytes),
      ...options.blockLimits,
    };
    const blockLifetime = options.blockLifetimeMs ?? exchangeLifetimeMs(this.transmission);
    this.block1 = new Block1Reassembly(limits, this.maxBodyBytes, blockLifetime);
    this.served = new ServedBodies(limits, blockLifetime);
    this.sweepTimer = setInterval(() => this.sweep(), 10_000).unref();
    if (options.holdUntilOpen) this.held = [];
    socket.on('message', (datagram, rinfo) => {
      this.receive(datagram, { address: normalizeAddress(rinfo.address), port: rinfo.port });
    });
    socket.on('error', (error) => this.logger?.error({ err: error }, 'CoAP socket error'));
  }

  static async bind(options: CoapEndpointOptions = {}): Promise<CoapEndpoint> {
    const { socket, ipv6 } = await bindUdpSocket(options.host ?? '::', options.port ?? 0, options.logger);
    return new CoapEndpoint(socket, ipv6, options);
  }

  address(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  /**
   * Serves CoAP over a secure transport too (RFC 7252 §9, `coaps://`): its peers have `secure`
   * set, their requests carry `security`, and what is sent to them goes through it. The endpoint
   * closes it when it closes.
   */
  attachSecureTransport(transport: SecureDatagramTransport): void {
    this.secure = transport;
    transport.onDatagram = (datagram, peer, security) => this.receive(datagram, peer, security);
  }

  /** Datagrams waiting for open() (holdUntilOpen). */
  get heldDatagrams(): number {
    return this.held?.length ?? 0;
  }

  /** Starts serving (holdUntilOpen): what arrived meanwhile is handled first, in order of arrival. */
  open(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    if (held.length > 0 || this.heldDropped > 0) this.logger?.info({ datagrams: held.length, dropped: this.heldDropped }, 'CoAP datagrams held during start handled');
    for (const [datagram, peer, security] of held) this.receive(datagram, peer, security);
  }

  /** Where the secure transport listens, if there is one. */
  secureAddress(): { address: string; port: number } | undefined {
    return this.secure?.address();
  }

  /**
   * Stops listening. With `drainMs`, requests from peers are no longer taken but the
   * exchanges in flight (ours and theirs) get up to that long to finish; what is still
   * waiting then fails with CoapEndpointClosedError.
   */
  async close(drainMs = 0): Promise<void> {
    if (this.closed) return;
    this.draining = true;
    const deadline = Date.now() + drainMs;
    while ((this.byToken.size > 0 || this.handlersRunning > 0 || this.notificationsInFlight.size > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const exchange of new Set(this.byToken.values())) this.finish(exchange, new CoapEndpointClosedError());
    for (const settle of [...this.notificationsInFlight.values()]) settle(false);
    this.conDuplicates.clear();
    this.nonDuplicates.clear();
    this.block1.clear();
    this.served.clear();
    this.observeTemplates.clear();
    this.sender.close();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    await this.secure?.close();
  }

  /**
   * Sends a request to a peer from this socket and resolves with its response. Block-wise
   * transfer (RFC 7959) is done here: a payload over the block size goes out in Block1
   * pieces (§2.5), a response in Block2 pieces is fetched whole (§2.4). `timeoutMs` bounds
   * the whole transfer.
   */
  async request(peer: Peer, request: OutgoingRequest, options: RequestOptions = {}): Promise<ReceivedResponse> {
    if (this.closed) throw new CoapEndpointClosedError();
    const deadline = Date.now() + (options.timeoutMs ?? maxTransmitWaitMs(this.transmission));
    const token = request.token ?? this.newToken(peer);
    const payload = request.payload ?? Buffer.alloc(0);
    let sent: OutgoingRequest = { ...request, token };
    // RFC 7959 §2.4 early negotiation: ask for the block size we want in the first response.
    if (
      this.askedBlockSize !== undefined &&
      (request.method === Method.GET || request.method === Method.FETCH) &&
      getOption(request.options ?? [], OptionNumber.BLOCK2) === undefined
    ) {
      sent = { ...sent, options: [...(request.options ?? []), blockOption(OptionNumber.BLOCK2, { num: 0, more: false, szx: szxFor(this.askedBlockSize) })] };
    }
    this.rememberObserve(peer, sent);
    let response: ReceivedResponse;
    if (payload.length > this.blockSize) {
      response = await this.sendBlock1(peer, sent, payload, szxFor(this.blockSize), deadline);
    } else {
      response = await this.exchange(peer, sent, this.remaining(deadline, peer, request.method));
      // RFC 7959 §2.9.3: a 4.13 whose Block1 option names a smaller size asks for the body block-wise in that size.
      const preferred = getBlock(response.options, OptionNumber.BLOCK1);
      if (response.code === ResponseCode.REQUEST_ENTITY_TOO_LARGE && typeof preferred === 'object' && blockSize(preferred.szx) < payload.length) {
        this.logger?.info({ peer: formatPeer(peer), size: blockSize(preferred.szx) }, 'peer answered 4.13 with a block size: sending block-wise');
        response = await this.sendBlock1(peer, sent, payload, preferred.szx, deadline);
      }
    }
    return this.completeBlock2(peer, sent, response, deadline);
  }

  /** Messages remembered for duplicate detection (RFC 7252 §4.5), after dropping expired ones. */
  rememberedMessages(): { confirmable: number; nonConfirmable: number } {
    this.conDuplicates.sweep();
    this.nonDuplicates.sweep();
    return { confirmable: this.conDuplicates.size, nonConfirmable: this.nonDuplicates.size };
  }

  /** Counters and memory of block-wise transfers (RFC 7959), after dropping expired ones. */
  blockStats(): BlockStats {
    this.block1.sweep();
    this.served.sweep();
    return {
      incompleteTransfers: this.block1.size,
      incompleteBytes: this.block1.heldBytes,
      peakIncompleteBytes: this.block1.peakHeldBytes,
      completedTransfers: this.block1.completed,
      evictedTransfers: this.block1.evicted,
      expiredTransfers: this.block1.expired,
      incompleteAnswers: this.block1.incompleteAnswers,
      tooLargeAnswers: this.block1.tooLargeAnswers,
      servedBodies: this.served.size,
      servedBytes: this.served.heldBytes,
      block2Reassembled: this.block2Reassembled,
      block1Sent: this.block1Sent,
      block2Served: this.block2Served,
    };
  }

  private remaining(deadline: number, peer: Peer, method: number): number {
    const left = deadline - Date.now();
    if (left <= 0) throw new CoapTimeoutError(peer, method, true);
    return left;
  }

  /** Keeps the request of an observation (Observe 0) so that block-wise notifications can be completed (RFC 7959 §3.4). */
  private rememberObserve(peer: Peer, request: OutgoingRequest): void {
    const observe = getUintOption(request.options ?? [], OptionNumber.OBSERVE);
    if (observe === undefined || request.token === undefined) return;
    const key = `${peerKey(peer)}#${request.token.toString('hex')}`;
    this.observeTemplates.delete(key);
    if (observe !== 0) return; // Observe 1 deregisters (RFC 7641 §3.6)
    this.observeTemplates.set(key, request);
    if (this.observeTemplates.size > MAX_OBSERVE_TEMPLATES) {
      const oldest = this.observeTemplates.keys().next().value;
      if (oldest !== undefined) this.observeTemplates.delete(oldest);
    }
  }

  /**
   * RFC 7959 §2.5: the payload in Block1 pieces, each acknowledged by 2.31 Continue (§2.3)
   * before the next; the server may ask for a smaller size in its 2.31 (§2.3, the following
   * blocks then use it), or answer 4.13 with a smaller size, which restarts the transfer (§2.9.3).
   */
  private async sendBlock1(peer: Peer, request: OutgoingRequest, payload: Buffer, startSzx: number, deadline: number): Promise<ReceivedResponse> {
    const base = withoutBlockOptions(request.options ?? []);
    let szx = startSzx;
    let offset = 0;
    let restarts = 0;
    for (;;) {
      const size = blockSize(szx);
      const num = offset / size;
      const chunk = payload.subarray(offset, offset + size);
      const more = offset + chunk.length < payload.length;
      const block: BlockOption = { num, more, szx };
      if (num > MAX_BLOCK_NUM) throw new CoapBlockError(peer, request.method, formatBlock('Block1', block), 'block number over 20 bits (RFC 7959 §2.2)');
      const options = [...base, blockOption(OptionNumber.BLOCK1, block), ...(num === 0 ? [uintOption(OptionNumber.SIZE1, payload.length)] : [])];
      let response: ReceivedResponse;
      try {
        response = await this.exchange(peer, { ...request, options, payload: chunk }, this.remaining(deadline, peer, request.method));
      } catch (error) {
        this.logger?.warn(
          { peer: formatPeer(peer), method: methodName(request.method), block: formatBlock('Block1', block), bytes: payload.length, err: error },
          'block-wise request failed',
        );
        throw error;
      }
      const answered = getBlock(response.options, OptionNumber.BLOCK1);
      if (response.code === ResponseCode.REQUEST_ENTITY_TOO_LARGE && typeof answered === 'object' && answered.szx < szx) {
        if (restarts++ >= MAX_BLOCK1_RESTARTS) {
          throw new CoapBlockError(peer, request.method, formatBlock('Block1', block), `4.13 asked for smaller blocks ${restarts} times`);
        }
        this.logger?.info(
          { peer: formatPeer(peer), block: formatBlock('Block1', block), size: blockSize(answered.szx) },
          'peer answered 4.13 with a smaller block size: restarting the block-wise request',
        );
        szx = answered.szx;
        offset = 0;
        continue;
      }
      if (!more) {
        this.block1Sent++;
        return response;
      }
      if (response.code !== ResponseCode.CONTINUE) {
        // §2.3: a final response before the last block ends the transfer (an error, as a rule).
        this.logger?.info(
          { peer: formatPeer(peer), method: methodName(request.method), block: formatBlock('Block1', block), code: formatCode(response.code) },
          'peer ended the block-wise request early',
        );
        return response;
      }
      // §2.3: the size in the 2.31 is the server's preference for the following blocks; a smaller one is taken.
      offset += size;
      if (typeof answered === 'object' && answered.szx < szx) szx = answered.szx;
    }
  }

  /**
   * RFC 7959 §2.4: a response with Block2 and M set is followed by requests for the next
   * blocks, the same request (without Observe, §3.4) with a Block2 option of increasing
   * NUM in the size the server chose, each with a token of its own. The caller gets one
   * response: the first block's options (Observe and Content-Format kept) and the whole body.
   */
  private async completeBlock2(peer: Peer, request: OutgoingRequest, first: ReceivedResponse, deadline: number): Promise<ReceivedResponse> {
    const firstBlock = getBlock(first.options, OptionNumber.BLOCK2);
    if (firstBlock === undefined || !isSuccessCode(first.code)) return first;
    const fail = (block: BlockOption | undefined, reason: string): never => {
      const where = block ? formatBlock('Block2', block) : 'Block2';
      this.logger?.warn({ peer: formatPeer(peer), method: methodName(request.method), path: '/' + (request.uriPath ?? []).join('/'), block: where, reason }, 'block-wise response failed');
      throw new CoapBlockError(peer, request.method, where, reason);
    };
    if (firstBlock === 'malformed') return fail(undefined, 'malformed Block2 option');
    if (!firstBlock.more && firstBlock.num === 0) return first;
    if (firstBlock.num !== 0) return fail(firstBlock, 'the first response is not block 0');
    const etag = getOption(first.options, OptionNumber.ETAG);
    const chunks = [first.payload];
    let received = first.payload.length;
    let szx = firstBlock.szx;
    let more = firstBlock.more;
    const base = withoutBlockOptions(request.options ?? [], [OptionNumber.OBSERVE]);
    // §2.4 with RFC 8132: a FETCH body names what is fetched, so every block request repeats it (when it fits one datagram).
    const body = request.payload !== undefined && request.payload.length <= this.blockSize ? request.payload : undefined;
    while (more) {
      const size = blockSize(szx);
      const wanted: BlockOption = { num: received / size, more: false, szx };
      if (received % size !== 0) return fail(wanted, `${received} bytes received is not a whole number of ${size}-byte blocks`);
      if (received > this.maxBodyBytes) return fail(wanted, `body over the limit of ${this.maxBodyBytes} bytes`);
      let response: ReceivedResponse;
      try {
        response = await this.exchange(
          peer,
          {
            method: request.method,
            ...(request.uriPath ? { uriPath: request.uriPath } : {}),
            ...(request.uriQuery ? { uriQuery: request.uriQuery } : {}),
            options: [...base, blockOption(OptionNumber.BLOCK2, wanted)],
            ...(body ? { payload: body } : {}),
            ...(request.confirmable !== undefined ? { confirmable: request.confirmable } : {}),
          },
          this.remaining(deadline, peer, request.method),
        );
      } catch (error) {
        this.logger?.warn({ peer: formatPeer(peer), method: methodName(request.method), block: formatBlock('Block2', wanted), err: error }, 'block-wise response failed');
        throw error;
      }
      if (!isSuccessCode(response.code)) return fail(wanted, `answered ${formatCode(response.code)}${response.payload.length > 0 ? ` (${response.payload.toString('utf8')})` : ''}`);
      const got = getBlock(response.options, OptionNumber.BLOCK2);
      if (got === undefined || got === 'malformed') return fail(wanted, `answer without a valid Block2 option`);
      if (got.num * blockSize(got.szx) !== received) return fail(wanted, `answered ${formatBlock('Block2', got)} instead`);
      const tag = getOption(response.options, OptionNumber.ETAG);
      if (etag && tag && !etag.equals(tag)) return fail(got, 'the representation changed (ETag) during the transfer');
      if (got.more && response.payload.length !== blockSize(got.szx)) return fail(got, `carries ${response.payload.length} bytes, not ${blockSize(got.szx)}`);
      chunks.push(response.payload);
      received += response.payload.length;
      szx = got.szx;
      more = got.more;
    }
    if (received > this.maxBodyBytes) return fail(undefined, `body of ${received} bytes over the limit of ${this.maxBodyBytes} bytes`);
    this.block2Reassembled++;
    return { ...first, options: withoutBlockOptions(first.options), payload: Buffer.concat(chunks) };
  }

  /** One request/response exchange (RFC 7252 §5.3), retransmitted per §4.2 when CON. */
  private exchange(peer: Peer, request: OutgoingRequest, timeoutMs: number): Promise<ReceivedResponse> {
    if (this.closed) return Promise.reject(new CoapEndpointClosedError());
    const confirmable = request.confirmable ?? true;
    const token = request.token ?? this.newToken(peer);
    const messageId = this.nextMessageId(peer);
    const message: CoapMessage = {
      type: confirmable ? MessageType.CON : MessageType.NON,
      code: request.method,
      messageId,
      token,
      options: [
        ...(request.uriPath ?? []).map((segment) => stringOption(OptionNumber.URI_PATH, segment)),
        ...(request.uriQuery ?? []).map((query) => stringOption(OptionNumber.URI_QUERY, query)),
        ...(request.options ?? []),
      ],
      payload: request.payload ?? Buffer.alloc(0),
    };
    const datagram = encodeMessage(message);
    const key = peerKey(peer);
    return new Promise<ReceivedResponse>((resolve, reject) => {
      const exchange: PendingExchange = {
        peer,
        method: request.method,
        messageId,
        token,
        tokenKey: `${key}#${token.toString('hex')}`,
        datagram,
        acknowledged: !confirmable,
        retransmitTimer: undefined,
        deadline: setTimeout(
          () => this.finish(exchange, new CoapTimeoutError(peer, request.method, exchange.acknowledged)),
          timeoutMs,
        ),
        resolve,
        reject,
      };
      this.byToken.set(exchange.tokenKey, exchange);
      if (confirmable) {
        this.byMessageId.set(`${key}#${messageId}`, exchange);
        this.scheduleRetransmission(exchange, this.initialTimeout(), 0);
      }
      this.send(datagram, peer);
    });
  }

  /**
   * Sends a notification (a response outside an exchange, RFC 7641 §4.2) from this socket.
   * A CON notification resolves 'acknowledged' or 'reset' (the observer is gone, §3.6),
   * or rejects with CoapTimeoutError; a NON one resolves 'sent'.
   */
  notify(peer: Peer, notification: OutgoingNotification): Promise<'acknowledged' | 'reset' | 'sent'> {
    if (this.closed) return Promise.reject(new CoapEndpointClosedError());
    const confirmable = notification.confirmable ?? false;
    const messageId = this.nextMessageId(peer);
    let options = notification.options ?? [];
    let payload = notification.payload ?? Buffer.alloc(0);
    if (payload.length > this.blockSize && getOption(options, OptionNumber.BLOCK2) === undefined) {
      // RFC 7959 §3.4: a notification too large for one block carries the first block; the
      // observer GETs the others (without Observe), which onRequest answers block by block.
      // The bodies kept for this peer may be older representations of the observed resource: the
      // observer's GETs must get the current one (the ETag lets it see a change since, §2.4).
      this.served.deleteWhere((key) => key.startsWith(`${peerKey(peer)}|`));
      const szx = szxFor(this.blockSize);
      options = [...withEtag(options, payload), blockOption(OptionNumber.BLOCK2, { num: 0, more: true, szx }), uintOption(OptionNumber.SIZE2, payload.length)];
      payload = payload.subarray(0, this.blockSize);
      this.block2Served++;
    }
    const datagram = encodeMessage({
      type: confirmable ? MessageType.CON : MessageType.NON,
      code: notification.code,
      messageId,
      token: notification.token,
      options,
      payload,
    });
    this.send(datagram, peer);
    if (!confirmable) return Promise.resolve('sent');
    const key = `${peerKey(peer)}#${messageId}`;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const retransmit = (timeoutMs: number, attempt: number) => {
        timer = setTimeout(() => {
          if (attempt >= this.transmission.maxRetransmit) {
            this.notificationsInFlight.delete(key);
            reject(new CoapTimeoutError(peer, notification.code, false));
            return;
          }
          this.send(datagram, peer);
          retransmit(timeoutMs * 2, attempt + 1);
        }, timeoutMs);
      };
      this.notificationsInFlight.set(key, (acknowledged) => {
        clearTimeout(timer);
        this.notificationsInFlight.delete(key);
        resolve(acknowledged ? 'acknowledged' : 'reset');
      });
      retransmit(this.initialTimeout(), 0);
    });
  }

  /** RFC 7252 §4.2: the first timeout is random in [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR]. */
  private initialTimeout(): number {
    const { ackTimeoutMs, ackRandomFactor } = this.transmission;
    return ackTimeoutMs * (1 + Math.random() * (ackRandomFactor - 1));
  }

  private scheduleRetransmission(exchange: PendingExchange, timeoutMs: number, attempt: number): void {
    exchange.retransmitTimer = setTimeout(() => {
      if (exchange.acknowledged) return;
      // RFC 7252 §4.2: after MAX_RETRANSMIT retransmissions the attempt is cancelled.
      if (attempt >= this.transmission.maxRetransmit) {
        this.finish(exchange, new CoapTimeoutError(exchange.peer, exchange.method, false));
        return;
      }
      this.send(exchange.datagram, exchange.peer);
      this.scheduleRetransmission(exchange, timeoutMs * 2, attempt + 1);
    }, timeoutMs);
  }

  private finish(exchange: PendingExchange, outcome: ReceivedResponse | Error): void {
    clearTimeout(exchange.retransmitTimer);
    clearTimeout(exchange.deadline);
    this.byToken.delete(exchange.tokenKey);
    this.byMessageId.delete(`${peerKey(exchange.peer)}#${exchange.messageId}`);
    if (outcome instanceof Error) exchange.reject(outcome);
    else exchange.resolve(outcome);
  }

  private receive(datagram: Buffer, peer: Peer, security?: TransportSecurity): void {
    if (this.held) {
      if (this.held.length < MAX_HELD_DATAGRAMS) this.held.push([datagram, peer, security]);
      else this.heldDropped++;
      return;
    }
    const decoded = decodeMessage(datagram);
    if (!decoded.ok) {
      this.logger?.debug({ peer: formatPeer(peer), reason: decoded.reason }, 'malformed CoAP datagram');
      // RFC 7252 §4.2/§4.3: a CON (or NON) with a message format error is rejected with a Reset.
      if (decoded.header && decoded.header.type === MessageType.CON) {
        this.send(encodeMessage(emptyMessage(MessageType.RST, decoded.header.messageId)), peer);
      }
      return;
    }
    const message = decoded.message;
    switch (message.type) {
      case MessageType.ACK:
      case MessageType.RST:
        this.receiveAckOrReset(message, peer);
        return;
      case MessageType.CON:
      case MessageType.NON:
        if (isRequestCode(message.code)) this.receiveRequest(message, peer, security);
        else if (isResponseCode(message.code)) this.receiveSeparateResponse(message, peer);
        // RFC 7252 §4.3: a CON empty message ("CoAP ping") or one with a code from a reserved class is answered with RST.
        else if (message.type === MessageType.CON) this.send(encodeMessage(emptyMessage(MessageType.RST, message.messageId)), peer);
        return;
    }
  }

  /** RFC 7252 §4.5: a CON or NON seen before is acted on once; a CON gets the same reply again. */
  private answeredBefore(duplicates: DuplicateCache, sender: string, message: CoapMessage, peer: Peer): boolean {
    const seen = duplicates.get(sender, message.messageId);
    if (!seen) return false;
    if (seen.state === 'answered' && seen.reply && message.type === MessageType.CON) this.send(seen.reply, peer);
    return true;
  }

  private receiveRequest(message: CoapMessage, peer: Peer, security: TransportSecurity | undefined): void {
    if (this.draining) return;
    const confirmable = message.type === MessageType.CON;
    const duplicates = confirmable ? this.conDuplicates : this.nonDuplicates;
    const sender = peerKey(peer);
    if (this.answeredBefore(duplicates, sender, message, peer)) return;
    // RFC 7252 §5.4.1: an unrecognised critical option in a CON request gets 4.02; in a NON it rejects the message.
    const unknownCritical = message.options.find((o) => isCritical(o.number) && !isKnownOption(o.number));
    if (unknownCritical) {
      const reply = confirmable
        ? this.encodeResponse(message, {
            code: ResponseCode.BAD_OPTION,
            payload: `unrecognised critical option ${unknownCritical.number}`,
          }, peer)
        : undefined;
      duplicates.markAnswered(sender, message.messageId, reply);
      if (reply) this.send(reply, peer);
      return;
    }
    duplicates.markProcessing(sender, message.messageId);
    const answer = (response: OutgoingResponse): void => {
      if (this.closed) return;
      const reply = this.encodeResponse(message, response, peer);
      duplicates.markAnswered(sender, message.messageId, reply);
      this.send(reply, peer);
    };
    const block1 = getBlock(message.options, OptionNumber.BLOCK1);
    const block2 = getBlock(message.options, OptionNumber.BLOCK2);
    if (block1 === 'malformed' || block2 === 'malformed') {
      answer({ code: ResponseCode.BAD_OPTION, payload: `malformed ${block1 === 'malformed' ? 'Block1' : 'Block2'} option` });
      return;
    }
    let options = message.options;
    let payload = message.payload;
    let lastBlock1: BlockOption | undefined;
    if (block1) {
      const outcome = this.receiveBlock1(message, peer, block1);
      if (outcome.kind === 'answer') {
        answer(outcome.response);
        return;
      }
      options = withoutBlockOptions(message.options).concat(block2 ? [blockOption(OptionNumber.BLOCK2, block2)] : []);
      payload = outcome.payload;
      lastBlock1 = block1;
    }
    // RFC 7959 §2.4: a request for a later block of a body we answered block-wise is served from that body.
    // Computed only for block-wise responses: most requests never need it.
    let key: string | undefined;
    const bodyKey = (): string =>
      (key ??= transferKey(peer, message.code, message.options) + (message.code === Method.FETCH ? `|${payload.toString('hex')}` : ''));
    if (block2 && block2.num > 0) {
      const kept = this.served.get(bodyKey());
      if (kept) {
        answer(this.blockOfBody(bodyKey(), kept.code, withoutBlockOptions(kept.options, [OptionNumber.OBSERVE]), kept.payload, block2, peer));
        return;
      }
    }
    let request: IncomingRequest = {
      peer,
      method: message.code,
      confirmable,
      messageId: message.messageId,
      token: message.token,
      options,
      payload,
      uriPath: getStringOptions(options, OptionNumber.URI_PATH),
      uriQuery: getStringOptions(options, OptionNumber.URI_QUERY),
      contentFormat: getUintOption(options, OptionNumber.CONTENT_FORMAT),
    };
    if (security) request = { ...request, security };
    void this.handle(request).then((response) => {
      let shaped = this.shapeResponse(bodyKey, response, block2, peer);
      // RFC 7959 §2.3: the response to the last block carries its Block1 option (M unset).
      if (lastBlock1) shaped = { ...shaped, options: [...(shaped.options ?? []), blockOption(OptionNumber.BLOCK1, { ...lastBlock1, more: false })] };
      answer(shaped);
    });
  }

  /**
   * RFC 7959 §2.5: a request carrying Block1. A block before the last is answered 2.31
   * Continue with its Block1 option (§2.3) in the size the client chose; the last one
   * yields the whole body. Gaps and disorder get 4.08 (§2.9.2), a body over the limit
   * 4.13 with Size1 (§2.9.3, §4).
   */
  private receiveBlock1(message: CoapMessage, peer: Peer, block: BlockOption): { kind: 'answer'; response: OutgoingResponse } | { kind: 'body'; payload: Buffer } {
    const key = transferKey(peer, message.code, message.options);
    const outcome = this.block1.receive(peer, key, block, message.payload, getUintOption(message.options, OptionNumber.SIZE1));
    const context = { peer: formatPeer(peer), method: methodName(message.code), path: '/' + getStringOptions(message.options, OptionNumber.URI_PATH).join('/'), block: formatBlock('Block1', block) };
    switch (outcome.kind) {
      case 'complete':
        return { kind: 'body', payload: outcome.payload };
      case 'continue':
        return { kind: 'answer', response: { code: ResponseCode.CONTINUE, options: [blockOption(OptionNumber.BLOCK1, { ...block, more: true })] } };
      case 'incomplete':
        this.logger?.info({ ...context, reason: outcome.reason }, 'block-wise request incomplete: 4.08');
        return { kind: 'answer', response: { code: ResponseCode.REQUEST_ENTITY_INCOMPLETE, payload: outcome.reason } };
      case 'too-large':
        this.logger?.info({ ...context, reason: outcome.reason }, 'block-wise request too large: 4.13');
        return {
          kind: 'answer',
          response: { code: ResponseCode.REQUEST_ENTITY_TOO_LARGE, options: [uintOption(OptionNumber.SIZE1, this.maxBodyBytes)], payload: outcome.reason },
        };
      case 'bad':
        this.logger?.info({ ...context, reason: outcome.reason }, 'bad block-wise request: 4.00');
        return { kind: 'answer', response: { code: ResponseCode.BAD_REQUEST, payload: outcome.reason } };
    }
  }

  /**
   * RFC 7959 §2.4 (server side): a response goes out in Block2 pieces when the request asked
   * for a block (its size or smaller, §2.2) or when the body exceeds our block size. The body
   * is kept for the requests of the following blocks.
   */
  private shapeResponse(bodyKey: () => string, response: OutgoingResponse, block2: BlockOption | undefined, peer: Peer): OutgoingResponse {
    const options = response.options ?? [];
    if (getOption(options, OptionNumber.BLOCK2) !== undefined) return response; // the handler did it itself
    const payload = typeof response.payload === 'string' ? Buffer.from(response.payload, 'utf8') : (response.payload ?? Buffer.alloc(0));
    const ours = szxFor(this.blockSize);
    // §2.4: NUM 0 may ask for a size, which we honour or lower; later blocks keep the size the client computes with.
    const szx = block2 === undefined ? ours : block2.num === 0 ? Math.min(block2.szx, ours) : Math.min(block2.szx, 6);
    const wanted: BlockOption = { num: block2?.num ?? 0, more: false, szx };
    if (wanted.num === 0 && payload.length <= blockSize(szx)) return response;
    return this.blockOfBody(bodyKey(), response.code, withEtag(options, payload), payload, wanted, peer);
  }

  private blockOfBody(bodyKey: string, code: number, options: readonly CoapOption[], payload: Buffer, block: BlockOption, peer: Peer): OutgoingResponse {
    const size = blockSize(Math.min(block.szx, 6));
    const offset = block.num * size;
    if (offset >= payload.length && offset > 0) {
      this.served.delete(bodyKey);
      const reason = `${formatBlock('Block2', block)} is beyond the end of the ${payload.length}-byte body`;
      this.logger?.info({ peer: formatPeer(peer), reason }, 'block-wise response: 4.02');
      return { code: ResponseCode.BAD_OPTION, payload: reason };
    }
    const more = offset + size < payload.length;
    this.block2Served++;
    if (more) {
      if (block.num === 0 || !this.served.get(bodyKey)) this.served.set(bodyKey, code, options, payload);
    } else {
      this.served.delete(bodyKey);
    }
    return {
      code,
      options: [
        ...options,
        blockOption(OptionNumber.BLOCK2, { num: block.num, more, szx: Math.min(block.szx, 6) }),
        // §4: Size2 tells the client the size of the whole body.
        ...(block.num === 0 ? [uintOption(OptionNumber.SIZE2, payload.length)] : []),
      ],
      payload: payload.subarray(offset, offset + size),
    };
  }

  /** Runs the handler; an exception becomes 5.00 so that one bad request never stops the listener. */
  private async handle(request: IncomingRequest): Promise<OutgoingResponse> {
    this.handlersRunning++;
    try {
      return await this.onRequest(request);
    } catch (error) {
      this.logger?.error(
        { err: error, peer: formatPeer(request.peer), method: methodName(request.method), path: '/' + request.uriPath.join('/') },
        'request handler failed',
      );
      return { code: ResponseCode.INTERNAL_SERVER_ERROR, payload: 'internal error' };
    } finally {
      this.handlersRunning--;
    }
  }

  /** RFC 7252 §5.2.1 piggybacked response to a CON; §5.2.3 NON response with a fresh message ID to a NON. */
  private encodeResponse(request: CoapMessage, response: OutgoingResponse, peer: Peer): Buffer {
    const confirmable = request.type === MessageType.CON;
    const payload = typeof response.payload === 'string' ? Buffer.from(response.payload, 'utf8') : (response.payload ?? Buffer.alloc(0));
    return encodeMessage({
      type: confirmable ? MessageType.ACK : MessageType.NON,
      code: response.code,
      messageId: confirmable ? request.messageId : this.nextMessageId(peer),
      token: request.token,
      options: response.options ?? [],
      payload,
    });
  }

  private receiveAckOrReset(message: CoapMessage, peer: Peer): void {
    const settleNotification = this.notificationsInFlight.get(`${peerKey(peer)}#${message.messageId}`);
    if (settleNotification) {
      settleNotification(message.type === MessageType.ACK);
      return;
    }
    const exchange = this.byMessageId.get(`${peerKey(peer)}#${message.messageId}`);
    if (!exchange) return; // RFC 7252 §4.2: an unmatched ACK or RST is silently ignored.
    if (message.type === MessageType.RST) {
      this.finish(exchange, new CoapResetError(peer));
      return;
    }
    exchange.acknowledged = true;
    clearTimeout(exchange.retransmitTimer);
    this.byMessageId.delete(`${peerKey(peer)}#${message.messageId}`);
    if (message.code === 0) return; // empty ACK: the response comes separately (§5.2.2)
    if (!message.token.equals(exchange.token)) {
      this.logger?.debug({ peer: formatPeer(peer), code: formatCode(message.code) }, 'piggybacked response with a foreign token');
      return;
    }
    this.finish(exchange, toReceivedResponse(message, peer));
  }

  private receiveSeparateResponse(message: CoapMessage, peer: Peer): void {
    const confirmable = message.type === MessageType.CON;
    const duplicates = confirmable ? this.conDuplicates : this.nonDuplicates;
    const sender = peerKey(peer);
    if (this.answeredBefore(duplicates, sender, message, peer)) return;
    const tokenKey = `${sender}#${message.token.toString('hex')}`;
    const exchange = this.byToken.get(tokenKey);
    if (exchange) {
      const ack = confirmable ? encodeMessage(emptyMessage(MessageType.ACK, message.messageId)) : undefined;
      duplicates.markAnswered(sender, message.messageId, ack);
      if (ack) this.send(ack, peer);
      this.finish(exchange, toReceivedResponse(message, peer));
      return;
    }
    // No request waits for this token: a notification, or a stray. The owner of observations decides.
    const block2 = getBlock(message.options, OptionNumber.BLOCK2);
    const blockwise = typeof block2 === 'object' && block2.more && isSuccessCode(message.code);
    // A NON notification is not remembered for NON_LIFETIME (145 s): the owner of observations
    // drops a copy by its Observe number (UnmatchedResponseHandler). Remembered, every notification
    // cost about 50 B for 145 s (64 MB at a steady 9 000/s), and the growing tables an old-space
    // collection every 10-20 s: p99 24 ms over a minute at 9 000/s, 3.6 ms without.
    const remembered = confirmable || blockwise || getUintOption(message.options, OptionNumber.OBSERVE) === undefined;
    if (remembered) duplicates.markProcessing(sender, message.messageId);
    const decided = blockwise
      ? this.completeNotification(toReceivedResponse(message, peer)).then((whole) => (whole ? this.decideUnmatched(whole) : true))
      : this.decideUnmatched(toReceivedResponse(message, peer));
    void decided.then((accepted) => {
      if (!accepted) this.observeTemplates.delete(tokenKey);
      if (this.closed) return;
      // RFC 7252 §5.3.2 / RFC 7641 §3.6: a response nobody wants is rejected with a Reset (for NON too, to stop notifications).
      const send = confirmable || !accepted;
      const reply = send ? encodeMessage(emptyMessage(accepted ? MessageType.ACK : MessageType.RST, message.messageId)) : undefined;
      if (remembered) duplicates.markAnswered(sender, message.messageId, reply);
      if (reply) this.send(reply, peer);
    });
  }

  /**
   * RFC 7959 §3.4: a notification in Block2 pieces carries the first block; the rest is fetched
   * by repeating the observation's request without Observe (§2.4). Undefined when that cannot be
   * done (the notification is acknowledged but not delivered: the observation stays, the next
   * notification may do better).
   */
  private async completeNotification(first: ReceivedResponse): Promise<ReceivedResponse | undefined> {
    const template = this.observeTemplates.get(`${peerKey(first.peer)}#${first.token.toString('hex')}`);
    const context = { peer: formatPeer(first.peer), token: first.token.toString('hex') };
    // An observation made before a restart, or by another instance: its owner rebuilds the request.
    const rebuilt = template ? undefined : await this.resolveObserveRequest?.(first.peer, first.token).catch(() => undefined);
    const request = template ?? rebuilt;
    if (!request) {
      this.logger?.warn({ ...context, reason: 'no request known for this token' }, 'block-wise notification dropped');
      return undefined;
    }
    try {
      return await this.completeBlock2(first.peer, request, first, Date.now() + maxTransmitWaitMs(this.transmission));
    } catch (error) {
      this.logger?.warn({ ...context, path: '/' + (request.uriPath ?? []).join('/'), err: error }, 'block-wise notification dropped');
      return undefined;
    }
  }

  private async decideUnmatched(response: ReceivedResponse): Promise<boolean> {
    try {
      return await this.onUnmatchedResponse(response);
    } catch (error) {
      this.logger?.error({ err: error, peer: formatPeer(response.peer), code: formatCode(response.code) }, 'notification handler failed');
      return false;
    }
  }

  /** One callback for every datagram sent: node:dgram's error names the address and port. */
  private readonly afterSend = (error: Error | null): void => {
    if (error) this.logger?.warn({ err: error }, 'CoAP send failed');
  };

  private send(datagram: Buffer, peer: Peer): void {
    if (this.closed) return;
    if (datagram.length > MAX_DATAGRAM_BYTES) {
      this.logger?.error({ peer: formatPeer(peer), bytes: datagram.length }, 'datagram too large, not sent');
      return;
    }
    if (peer.secure) {
      this.secure?.send(datagram, peer);
      return;
    }
    this.sender.send(datagram, peer.port, sendAddress(this.ipv6Socket, peer.address));
  }

  /** RFC 7252 §5.3.1: tokens are random; unique among our exchanges with this peer. */
  newToken(peer: Peer): Buffer {
    const key = peerKey(peer);
    for (;;) {
      const token = randomBytesPooled(TOKEN_LENGTH);
      if (!this.byToken.has(`${key}#${token.toString('hex')}`)) return token;
    }
  }

  /**
   * RFC 7252 §4.4: a message ID must not be reused with the same peer within
   * EXCHANGE_LIFETIME, so each peer has its own counter: with one global counter
   * a busy server would wrap 16 bits in less than that time.
   */
  private nextMessageId(peer: Peer): number {
    const key = peerKey(peer);
    let counter = this.messageIds.get(key);
    if (!counter) {
      counter = { next: randomInt(0, 0x10000), lastUsed: 0 };
      this.messageIds.set(key, counter);
    }
    const id = counter.next;
    counter.next = (counter.next + 1) & 0xffff;
    counter.lastUsed = Date.now();
    return id;
  }

  private sweep(): void {
    this.conDuplicates.sweep();
    this.nonDuplicates.sweep();
    this.block1.sweep();
    this.served.sweep();
    const idleSince = Date.now() - exchangeLifetimeMs(this.transmission);
    for (const [key, counter] of this.messageIds) if (counter.lastUsed < idleSince) this.messageIds.delete(key);
  }
}

/**
 * RFC 7959 §2.4: a body served in blocks carries an ETag (RFC 7252 §5.10.6) so that the client can
 * tell when the blocks it collects come from different representations. The handler's own wins.
 */
function withEtag(options: readonly CoapOption[], payload: Buffer): readonly CoapOption[] {
  if (getOption(options, OptionNumber.ETAG) !== undefined) return options;
  return [...options, { number: OptionNumber.ETAG, value: createHash('sha256').update(payload).digest().subarray(0, 8) }];
}

function toReceivedResponse(message: CoapMessage, peer: Peer): ReceivedResponse {
  return {
    peer,
    code: message.code,
    token: message.token,
    options: message.options,
    payload: message.payload,
    contentFormat: getUintOption(message.options, OptionNumber.CONTENT_FORMAT),
  };
}
