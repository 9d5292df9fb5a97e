/**
 * A DTLS 1.2 server (RFC 6347) with pre-shared keys (RFC 4279) on its own UDP socket,
 * carrying CoAP for the endpoint (RFC 7252 §9.1, `coaps://`). It is the secure
 * transport of CoapEndpoint: the endpoint sees plaintext datagrams from peers whose
 * Peer has `secure` set, and sends to them through here.
 *
 * One session per client address and port (§4.2.8). Nothing is kept for a client
 * until it returns a valid cookie (§4.2.1), and the state kept is bounded: handshakes
 * in progress, sessions in total, and idle sessions are forgotten.
 */
import type { Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { formatPeer, normalizeAddress, type Peer } from '../peer.js';
import { BatchedSender, bindUdpSocket, sendAddress, type SecureDatagramTransport, type TransportSecurity } from '../transport.js';
import { CIPHER_SUITES, type CipherSuite } from './cipher-suites.js';
import { CookieJar } from './cookie.js';
import { decodeHandshakeFragments, encodeHandshake, encodeHelloVerifyRequest, parseClientHello, type ClientHello } from './handshake.js';
import {
  AlertDescription,
  AlertLevel,
  COMPRESSION_NULL,
  ContentType,
  DEFAULT_DTLS_LIMITS,
  DEFAULT_DTLS_RETRANSMISSION,
  DTLS_1_0,
  DTLS_1_2,
  HandshakeType,
  MAX_PLAINTEXT_BYTES,
  SWEEP_INTERVAL_MS,
  type DtlsLimits,
  type RetransmissionParameters,
} from './parameters.js';
import { decodeRecords, encodeRecord, type DtlsRecord } from './record.js';
import { ServerSession, type SessionHost } from './session.js';

export interface DtlsServerOptions {
  /** `::` (default) listens on IPv6 and IPv4 on one port; an IPv4 literal binds an IPv4-only socket. */
  readonly host?: string;
  /** Default 0 (ephemeral); the CoAP over DTLS port is 5684 (RFC 7252 §12.7). */
  readonly port?: number;
  /** The key of a PSK identity, or undefined when there is none (the handshake then fails). */
  readonly pskForIdentity: (identity: string) => Promise<Buffer | undefined>;
  /** RFC 4279 §5.2: a hint sent in a ServerKeyExchange; none by default (LwM2M clients do not use it). */
  readonly pskIdentityHint?: string;
  /** Cipher suite ids we agree to, in our order of preference; default both (CCM_8 first). */
  readonly cipherSuites?: readonly number[];
  readonly limits?: Partial<DtlsLimits>;
  readonly retransmission?: RetransmissionParameters;
  readonly logger?: Logger;
}

/** Counters since start, and the state held now. */
export interface DtlsStats {
  readonly sessions: number;
  readonly handshakesInProgress: number;
  readonly helloVerifyRequests: number;
  readonly handshakesCompleted: number;
  readonly handshakesFailed: number;
  readonly sessionsEvicted: number;
  readonly sessionsExpired: number;
  readonly recordsDropped: number;
  readonly datagramsIn: number;
  readonly applicationRecordsIn: number;
  readonly applicationRecordsOut: number;
  /** Datagrams the endpoint asked us to send to a peer without an established session. */
  readonly unsentNoSession: number;
}

type Counters = { -readonly [K in keyof DtlsStats]: number };

/** A failed handshake is logged at info at most this often per client address and identity. */
const FAILURE_LOG_INTERVAL_MS = 60_000;
const MAX_FAILURES_REMEMBERED = 1024;

/** How often a session moves to the back of the eviction order at most (a Map re-insertion per record would cost more). */
const RECENCY_GRANULARITY_MS = 1000;

export class DtlsServer implements SecureDatagramTransport {
  onDatagram: ((datagram: Buffer, peer: Peer, security: TransportSecurity) => void) | undefined;

  private readonly host: SessionHost;
  private readonly limits: DtlsLimits;
  private readonly suites: readonly CipherSuite[];
  private readonly cookies = new CookieJar();
  /** By `address|port`, least recently active first (approximately: see RECENCY_GRANULARITY_MS). */
  private readonly sessions = new Map<string, ServerSession>();
  /** Handshakes in progress, oldest first. */
  private readonly handshakes = new Set<ServerSession>();
  /** When a failed handshake was last logged at info, by `address|identity`. */
  private readonly failureLogged = new Map<string, number>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly counters: Counters = {
    sessions: 0,
    handshakesInProgress: 0,
    helloVerifyRequests: 0,
    handshakesCompleted: 0,
    handshakesFailed: 0,
    sessionsEvicted: 0,
    sessionsExpired: 0,
    recordsDropped: 0,
    datagramsIn: 0,
    applicationRecordsIn: 0,
    applicationRecordsOut: 0,
    unsentNoSession: 0,
  };
  private closing = false;
  private closed = false;
  private readonly sender: BatchedSender;

  private constructor(
    private readonly socket: Socket,
    private readonly ipv6Socket: boolean,
    private readonly options: DtlsServerOptions,
  ) {
    this.sender = new BatchedSender(socket, (error) => {
      if (error) options.logger?.warn({ err: error }, 'DTLS send failed');
    });
    this.host = {
      retransmission: options.retransmission ?? DEFAULT_DTLS_RETRANSMISSION,
      pskIdentityHint: options.pskIdentityHint !== undefined ? Buffer.from(options.pskIdentityHint, 'utf8') : undefined,
      pskForIdentity: (identity) => options.pskForIdentity(identity),
      transmit: (session, datagram) => this.sendTo(session.peer.address, session.peer.port, datagram),
      established: (session) => this.sessionEstablished(session),
      applicationData: (session, plaintext) => this.applicationData(session, plaintext),
      closed: (session, reason, handshakeFailed) => this.sessionClosed(session, reason, handshakeFailed),
      dropped: (session, reason) => this.recordDropped(session, reason),
    };
    this.limits = { ...DEFAULT_DTLS_LIMITS, ...options.limits };
    const wanted = options.cipherSuites;
    this.suites = wanted
      ? wanted.map((id) => CIPHER_SUITES.find((s) => s.id === id)).filter((s): s is CipherSuite => s !== undefined)
      : CIPHER_SUITES;
    if (this.suites.length === 0) throw new RangeError('no supported DTLS cipher suite among those asked for');
    this.sweepTimer = setInterval(() => this.sweep(), Math.min(SWEEP_INTERVAL_MS, this.limits.sessionIdleMs)).unref();
    socket.on('message', (datagram, rinfo) => this.receive(datagram, normalizeAddress(rinfo.address), rinfo.port));
    socket.on('error', (error) => options.logger?.error({ err: error }, 'DTLS socket error'));
  }

  static async bind(options: DtlsServerOptions): Promise<DtlsServer> {
    const { socket, ipv6 } = await bindUdpSocket(options.host ?? '::', options.port ?? 0, options.logger);
    return new DtlsServer(socket, ipv6, options);
  }

  address(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  stats(): DtlsStats {
    return { ...this.counters, sessions: this.sessions.size, handshakesInProgress: this.handshakes.size };
  }

  /** The PSK identity of the established session with this peer, if there is one. */
  sessionIdentity(peer: Peer): string | undefined {
    return this.sessions.get(`${peer.address}|${peer.port}`)?.security?.pskIdentity;
  }

  send(datagram: Buffer, peer: Peer): void {
    if (this.closed) return;
    if (datagram.length > MAX_PLAINTEXT_BYTES) {
      this.options.logger?.error(
        { peer: formatPeer(peer), bytes: datagram.length },
        'datagram over 2^14 bytes, too large for one DTLS record: not sent',
      );
      return;
    }
    const session = this.sessions.get(`${peer.address}|${peer.port}`);
    if (!session?.sendApplicationData(datagram)) {
      this.counters.unsentNoSession++;
      this.options.logger?.debug(
        { peer: formatPeer(peer), bytes: datagram.length },
        'no established DTLS session with the peer: datagram not sent',
      );
      return;
    }
    this.counters.applicationRecordsOut++;
  }

  /** Tells every established peer (close_notify) and stops listening. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const session of [...this.sessions.values()]) session.close('server closing', session.phase === 'established');
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.sender.close(); // the close_notify alerts go out before the socket closes
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  // ---- what sessions tell us -------------------------------------------------------------------

  private sessionEstablished(session: ServerSession): void {
    this.handshakes.delete(session);
    this.counters.handshakesCompleted++;
    this.options.logger?.debug(
      { peer: formatPeer(session.peer), identity: session.security?.pskIdentity, suite: session.suite.name },
      'DTLS session established',
    );
  }

  private applicationData(session: ServerSession, plaintext: Buffer): void {
    this.counters.applicationRecordsIn++;
    if (session.security) this.onDatagram?.(plaintext, session.peer, session.security);
  }

  private sessionClosed(session: ServerSession, reason: string, handshakeFailed: boolean): void {
    const key = `${session.peer.address}|${session.peer.port}`;
    if (this.sessions.get(key) === session) this.sessions.delete(key);
    this.handshakes.delete(session);
    if (handshakeFailed) {
      this.counters.handshakesFailed++;
      if (!this.closing) this.logFailure(session.peer, session.claimedIdentity, { reason });
    } else {
      this.options.logger?.debug(
        { peer: formatPeer(session.peer), identity: session.security?.pskIdentity, reason },
        'DTLS session closed',
      );
    }
  }

  /** A device with a wrong key retries for ever: info once a minute per address and identity, debug in between. */
  private logFailure(peer: Peer, identity: string | undefined, details: Record<string, unknown>): void {
    const context = { peer: formatPeer(peer), identity, ...details };
    const key = `${peer.address}|${identity ?? ''}`;
    const now = Date.now();
    const last = this.failureLogged.get(key);
    if (last !== undefined && now - last < FAILURE_LOG_INTERVAL_MS) {
      this.options.logger?.debug(context, 'DTLS handshake failed');
      return;
    }
    if (this.failureLogged.size >= MAX_FAILURES_REMEMBERED) this.failureLogged.clear();
    this.failureLogged.set(key, now);
    this.options.logger?.info(context, 'DTLS handshake failed');
  }

  private recordDropped(session: ServerSession, reason: string): void {
    this.counters.recordsDropped++;
    this.options.logger?.trace({ peer: formatPeer(session.peer), reason }, 'DTLS record dropped');
  }

  // ---- receiving -------------------------------------------------------------------------------

  private receive(datagram: Buffer, address: string, port: number): void {
    if (this.closing) return;
    this.counters.datagramsIn++;
    const records = decodeRecords(datagram);
    const first = records[0];
    if (!first) {
      this.counters.recordsDropped++;
      return;
    }
    const key = `${address}|${port}`;
    const session = this.sessions.get(key);
    // RFC 6347 §4.2.8: a ClientHello in epoch 0 may start a new connection from this address and
    // port, unless it is a retransmission of the one that started the current session.
    if (first.epoch === 0 && first.type === ContentType.HANDSHAKE && first.fragment[0] === HandshakeType.CLIENT_HELLO) {
      this.receiveClientHello(first, address, port, key, session);
      return;
    }
    if (!session) {
      // A record for a session we do not have (expired, evicted, or lost in a restart): dropped.
      this.counters.recordsDropped += records.length;
      return;
    }
    const now = Date.now();
    this.touch(key, session, now);
    session.receive(records, now);
  }

  /** §4.2.1: a ClientHello without a valid cookie gets a HelloVerifyRequest and leaves no state behind. */
  private receiveClientHello(record: DtlsRecord, address: string, port: number, key: string, session: ServerSession | undefined): void {
    const fragments = decodeHandshakeFragments(record.fragment);
    const fragment = fragments?.[0];
    // A ClientHello must come whole in one record before we keep state (as with OpenSSL's DTLSv1_listen).
    if (!fragment || fragments.length !== 1 || fragment.fragmentOffset !== 0 || fragment.body.length !== fragment.length) {
      this.counters.recordsDropped++;
      return;
    }
    const hello = parseClientHello(fragment.body);
    if (!hello) {
      this.counters.recordsDropped++;
      return;
    }
    if (session && session.clientRandom.equals(hello.random)) {
      // The client repeats the ClientHello of this session: its copy of our flight was lost.
      const now = Date.now();
      this.touch(key, session, now);
      session.receive([record], now);
      return;
    }
    // RFC 6347 §4.1: versions count down; a client whose best is DTLS 1.0 is refused (§4.2.1 HelloVerifyRequest aside).
    if (hello.version > DTLS_1_2) {
      this.sendAlert(address, port, record.sequence, AlertDescription.PROTOCOL_VERSION);
      return;
    }
    if (hello.cookie.length === 0 || !this.cookies.verify(address, port, hello.cookieBinding, hello.cookie)) {
      this.counters.helloVerifyRequests++;
      const cookie = this.cookies.make(address, port, hello.cookieBinding);
      // §4.2.1: the HelloVerifyRequest reuses the ClientHello's record sequence number and says DTLS 1.0, whatever comes next.
      const body = encodeHelloVerifyRequest(DTLS_1_0, cookie);
      this.sendTo(
        address,
        port,
        encodeRecord(
          { type: ContentType.HANDSHAKE, version: DTLS_1_0, epoch: 0, sequence: record.sequence },
          encodeHandshake(HandshakeType.HELLO_VERIFY_REQUEST, fragment.messageSeq, body),
        ),
      );
      return;
    }
    const suite = this.negotiate(hello);
    if (!suite || ServerSession.renegotiationInfoInvalid(hello)) {
      this.logFailure({ address, port }, undefined, {
        reason: suite ? 'renegotiation_info not empty in an initial ClientHello' : 'no common cipher suite',
        offered: hello.cipherSuites.map((s) => `0x${s.toString(16).padStart(4, '0')}`),
      });
      this.counters.handshakesFailed++;
      this.sendAlert(address, port, record.sequence, AlertDescription.HANDSHAKE_FAILURE);
      return;
    }
    // The client proved it receives at this address: a new connection replaces the old one (§4.2.8).
    if (session) session.close('replaced by a new handshake from the same address and port', false);
    this.makeRoom();
    const now = Date.now();
    const created = new ServerSession(this.host, address, port, hello, fragment.body, fragment.messageSeq, record.sequence, suite, now);
    if (created.phase === 'closed') return;
    this.sessions.set(key, created);
    this.handshakes.add(created);
  }

  /** RFC 5246 §7.4.1.3: our preferred suite among the client's, with null compression offered. */
  private negotiate(hello: ClientHello): CipherSuite | undefined {
    if (!hello.compressionMethods.includes(COMPRESSION_NULL)) return undefined;
    return this.suites.find((suite) => hello.cipherSuites.includes(suite.id));
  }

  /** Keeps the handshakes and sessions under their bounds before one more is added. */
  private makeRoom(): void {
    if (this.handshakes.size >= this.limits.maxHandshakes) {
      const oldest = this.handshakes.values().next().value;
      oldest?.close('too many handshakes in progress', false);
      this.counters.sessionsEvicted++;
    }
    if (this.sessions.size >= this.limits.maxSessions) {
      // The least recently active established session goes first; handshakes only when there is none.
      let victim: ServerSession | undefined;
      for (const candidate of this.sessions.values()) {
        if (candidate.phase === 'established') {
          victim = candidate;
          break;
        }
        victim ??= candidate;
      }
      victim?.close('too many sessions', victim.phase === 'established');
      this.counters.sessionsEvicted++;
    }
  }

  private touch(key: string, session: ServerSession, now: number): void {
    if (now - session.lastMoved < RECENCY_GRANULARITY_MS) return;
    session.lastMoved = now;
    this.sessions.delete(key);
    this.sessions.set(key, session);
  }

  private sweep(): void {
    const idleSince = Date.now() - this.limits.sessionIdleMs;
    for (const session of [...this.sessions.values()]) {
      if (session.phase === 'established' && session.lastActive < idleSince) {
        this.counters.sessionsExpired++;
        session.close('idle', false);
      }
    }
  }

  /** A fatal alert outside any session (before one exists): plaintext, epoch 0. */
  private sendAlert(address: string, port: number, sequence: number, description: number): void {
    this.sendTo(
      address,
      port,
      encodeRecord({ type: ContentType.ALERT, version: DTLS_1_2, epoch: 0, sequence }, Buffer.from([AlertLevel.FATAL, description])),
    );
  }

  private sendTo(address: string, port: number, datagram: Buffer): void {
    if (this.closed) return;
    this.sender.send(datagram, port, sendAddress(this.ipv6Socket, address));
  }
}
