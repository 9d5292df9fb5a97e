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
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { formatCode, isRequestCode, isResponseCode, methodName, ResponseCode } from './codes.js';
import { DuplicateCache } from './deduplication.js';
import { decodeMessage, emptyMessage, encodeMessage, MessageType, type CoapMessage } from './message.js';
import {
  getStringOptions,
  getUintOption,
  isCritical,
  isKnownOption,
  OptionNumber,
  stringOption,
  type CoapOption,
} from './options.js';
import {
  DEFAULT_TRANSMISSION,
  exchangeLifetimeMs,
  MAX_DATAGRAM_BYTES,
  maxTransmitWaitMs,
  SOCKET_BUFFER_BYTES,
  TOKEN_LENGTH,
  type TransmissionParameters,
} from './parameters.js';
import { formatPeer, normalizeAddress, peerKey, type Peer } from './peer.js';

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
 */
export type UnmatchedResponseHandler = (response: ReceivedResponse) => boolean | Promise<boolean>;

export interface RequestOptions {
  /** Give up waiting for the response after this long (default MAX_TRANSMIT_WAIT, 93 s). */
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
}

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

  private readonly socket: Socket;
  private readonly ipv6Socket: boolean;
  private readonly transmission: TransmissionParameters;
  private readonly logger: Logger | undefined;
  private readonly duplicates: DuplicateCache;
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

  private constructor(socket: Socket, ipv6Socket: boolean, options: CoapEndpointOptions) {
    this.socket = socket;
    this.ipv6Socket = ipv6Socket;
    this.transmission = options.transmission ?? DEFAULT_TRANSMISSION;
    this.logger = options.logger;
    this.duplicates = new DuplicateCache(exchangeLifetimeMs(this.transmission));
    this.sweepTimer = setInterval(() => this.sweep(), 10_000).unref();
    socket.on('message', (datagram, rinfo) => {
      this.receive(datagram, { address: normalizeAddress(rinfo.address), port: rinfo.port });
    });
    socket.on('error', (error) => this.logger?.error({ err: error }, 'CoAP socket error'));
  }

  static async bind(options: CoapEndpointOptions = {}): Promise<CoapEndpoint> {
    const host = options.host ?? '::';
    const ipv6Socket = !isIPv4(host);
    // RFC 4038 §4.2 dual stack: one AF_INET6 socket with IPV6_V6ONLY off serves IPv4 through mapped addresses.
    const socket = createSocket({ type: ipv6Socket ? 'udp6' : 'udp4', ipv6Only: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: options.port ?? 0, address: host, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    for (const [name, set] of [
      ['receive', (size: number) => socket.setRecvBufferSize(size)],
      ['send', (size: number) => socket.setSendBufferSize(size)],
    ] as const) {
      try {
        set(SOCKET_BUFFER_BYTES);
      } catch (error) {
        options.logger?.warn({ err: error, buffer: name }, 'cannot enlarge the UDP socket buffer');
      }
    }
    options.logger?.debug({ receive: socket.getRecvBufferSize(), send: socket.getSendBufferSize() }, 'UDP socket buffers');
    return new CoapEndpoint(socket, ipv6Socket, options);
  }

  address(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
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
    this.duplicates.clear();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** Sends a request to a peer from this socket and resolves with its response. */
  request(peer: Peer, request: OutgoingRequest, options: RequestOptions = {}): Promise<ReceivedResponse> {
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
          options.timeoutMs ?? maxTransmitWaitMs(this.transmission),
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
    const datagram = encodeMessage({
      type: confirmable ? MessageType.CON : MessageType.NON,
      code: notification.code,
      messageId,
      token: notification.token,
      options: notification.options ?? [],
      payload: notification.payload ?? Buffer.alloc(0),
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

  private receive(datagram: Buffer, peer: Peer): void {
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
        if (isRequestCode(message.code)) this.receiveRequest(message, peer);
        else if (isResponseCode(message.code)) this.receiveSeparateResponse(message, peer);
        // RFC 7252 §4.3: a CON empty message ("CoAP ping") or one with a code from a reserved class is answered with RST.
        else if (message.type === MessageType.CON) this.send(encodeMessage(emptyMessage(MessageType.RST, message.messageId)), peer);
        return;
    }
  }

  private receiveRequest(message: CoapMessage, peer: Peer): void {
    if (this.draining) return;
    const confirmable = message.type === MessageType.CON;
    const duplicateKey = `${peerKey(peer)}#${message.messageId}`;
    const seen = this.duplicates.get(duplicateKey);
    if (seen) {
      // RFC 7252 §4.5: act on a duplicate once; repeat the ACK/response for a CON.
      if (seen.state === 'answered' && seen.reply && confirmable) this.send(seen.reply, peer);
      return;
    }
    // RFC 7252 §5.4.1: an unrecognised critical option in a CON request gets 4.02; in a NON it rejects the message.
    const unknownCritical = message.options.find((o) => isCritical(o.number) && !isKnownOption(o.number));
    if (unknownCritical) {
      const reply = confirmable
        ? this.encodeResponse(message, {
            code: ResponseCode.BAD_OPTION,
            payload: `unrecognised critical option ${unknownCritical.number}`,
          }, peer)
        : undefined;
      this.duplicates.markAnswered(duplicateKey, reply);
      if (reply) this.send(reply, peer);
      return;
    }
    this.duplicates.markProcessing(duplicateKey);
    const request: IncomingRequest = {
      peer,
      method: message.code,
      confirmable,
      messageId: message.messageId,
      token: message.token,
      options: message.options,
      payload: message.payload,
      uriPath: getStringOptions(message.options, OptionNumber.URI_PATH),
      uriQuery: getStringOptions(message.options, OptionNumber.URI_QUERY),
      contentFormat: getUintOption(message.options, OptionNumber.CONTENT_FORMAT),
    };
    void this.handle(request).then((response) => {
      if (this.closed) return;
      const reply = this.encodeResponse(message, response, peer);
      this.duplicates.markAnswered(duplicateKey, reply);
      this.send(reply, peer);
    });
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
    const duplicateKey = `${peerKey(peer)}#${message.messageId}`;
    const seen = this.duplicates.get(duplicateKey);
    if (seen) {
      if (seen.state === 'answered' && seen.reply && confirmable) this.send(seen.reply, peer);
      return;
    }
    const exchange = this.byToken.get(`${peerKey(peer)}#${message.token.toString('hex')}`);
    if (exchange) {
      const ack = confirmable ? encodeMessage(emptyMessage(MessageType.ACK, message.messageId)) : undefined;
      this.duplicates.markAnswered(duplicateKey, ack);
      if (ack) this.send(ack, peer);
      this.finish(exchange, toReceivedResponse(message, peer));
      return;
    }
    // No request waits for this token: a notification, or a stray. The owner of observations decides.
    this.duplicates.markProcessing(duplicateKey);
    void this.decideUnmatched(toReceivedResponse(message, peer)).then((accepted) => {
      if (this.closed) return;
      // RFC 7252 §5.3.2 / RFC 7641 §3.6: a response nobody wants is rejected with a Reset (for NON too, to stop notifications).
      const reply = encodeMessage(emptyMessage(accepted ? MessageType.ACK : MessageType.RST, message.messageId));
      const send = confirmable || !accepted;
      this.duplicates.markAnswered(duplicateKey, send ? reply : undefined);
      if (send) this.send(reply, peer);
    });
  }

  private async decideUnmatched(response: ReceivedResponse): Promise<boolean> {
    try {
      return await this.onUnmatchedResponse(response);
    } catch (error) {
      this.logger?.error({ err: error, peer: formatPeer(response.peer), code: formatCode(response.code) }, 'notification handler failed');
      return false;
    }
  }

  private send(datagram: Buffer, peer: Peer): void {
    if (this.closed) return;
    if (datagram.length > MAX_DATAGRAM_BYTES) {
      this.logger?.error({ peer: formatPeer(peer), bytes: datagram.length }, 'datagram too large, not sent');
      return;
    }
    // A dual-stack socket reaches IPv4 peers through their IPv4-mapped IPv6 address.
    const address = this.ipv6Socket && isIPv4(peer.address) ? `::ffff:${peer.address}` : peer.address;
    this.socket.send(datagram, peer.port, address, (error) => {
      if (error) this.logger?.warn({ err: error, peer: formatPeer(peer) }, 'CoAP send failed');
    });
  }

  /** RFC 7252 §5.3.1: tokens are random; unique among our exchanges with this peer. */
  newToken(peer: Peer): Buffer {
    const key = peerKey(peer);
    for (;;) {
      const token = randomBytes(TOKEN_LENGTH);
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
    this.duplicates.sweep();
    const idleSince = Date.now() - exchangeLifetimeMs(this.transmission);
    for (const [key, counter] of this.messageIds) if (counter.lastUsed < idleSince) this.messageIds.delete(key);
  }
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
