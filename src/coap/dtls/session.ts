/**
 * The server side of one DTLS 1.2 association with one client address and port,
 * from the ClientHello that carried a valid cookie to its end (RFC 6347 §4.2.4
 * state machine, server half). A full PSK handshake (RFC 4279 §2) after the cookie
 * exchange, which the server does statelessly before any session exists:
 *
 *   ClientHello (cookie)        -->
 *                               <--  ServerHello, [ServerKeyExchange (hint)], ServerHelloDone   (flight 4)
 *   ClientKeyExchange (identity),
 *   [ChangeCipherSpec], Finished -->                                                             (flight 5)
 *                               <--  [ChangeCipherSpec], Finished                               (flight 6)
 *   application data            <->  application data
 *
 * The session is sans-IO: it hands datagrams to its host and is fed the records
 * that arrived from its peer. The PSK lookup is asynchronous (a Redis store), so
 * records arriving meanwhile wait in a bounded queue, in order.
 */
import { createHash, randomBytes, timingSafeEqual, type Hash } from 'node:crypto';
import type { Peer } from '../peer.js';
import { keyBlockLength, splitKeyBlock, type CipherSuite, type RecordProtection } from './cipher-suites.js';
import {
  decodeHandshakeFragments,
  encodeHandshake,
  encodePskIdentity,
  encodeServerHello,
  handshakeTypeName,
  MessageAssembly,
  parsePskIdentity,
  type ClientHello,
  type HandshakeMessage,
} from './handshake.js';
import {
  AlertDescription,
  AlertLevel,
  ContentType,
  DTLS_1_2,
  ExtensionType,
  HandshakeType,
  MAX_MESSAGES_AHEAD,
  MAX_PLAINTEXT_BYTES,
  MAX_RECORDS_QUEUED,
  MAX_SEQUENCE_NUMBER,
  RANDOM_BYTES,
  TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
  VERIFY_DATA_BYTES,
  type RetransmissionParameters,
} from './parameters.js';
import { extendedMasterSecret, finishedVerifyData, keyBlock, masterSecret, pskPremasterSecret } from './prf.js';
import { encodeRecord, type DtlsRecord } from './record.js';
import { ReplayWindow } from './replay-window.js';

/** What a session needs from the server that holds it. */
export interface SessionHost {
  readonly retransmission: RetransmissionParameters;
  /** RFC 4279 §2: sent in a ServerKeyExchange when set; none otherwise (the message is optional). */
  readonly pskIdentityHint: Buffer | undefined;
  pskForIdentity(identity: string): Promise<Buffer | undefined>;
  transmit(session: ServerSession, datagram: Buffer): void;
  established(session: ServerSession): void;
  applicationData(session: ServerSession, plaintext: Buffer): void;
  /** The session is over; `handshakeFailed` when it never got established. */
  closed(session: ServerSession, reason: string, handshakeFailed: boolean): void;
  /** A record dropped without an alert (RFC 6347 §4.1.2.7), for counters and debug logs. */
  dropped(session: ServerSession, reason: string): void;
}

export interface SessionSecurity {
  /** The PSK identity the client proved it holds the key of (RFC 4279 §2, UTF-8 per §5.1). */
  readonly pskIdentity: string;
}

export type SessionPhase = 'handshake' | 'established' | 'closed';

/** A message or ChangeCipherSpec of our last flight, re-encoded in fresh records at each retransmission (§4.2.4). */
interface FlightEntry {
  readonly epoch: 0 | 1;
  readonly type: number;
  readonly payload: Buffer;
}

const CHANGE_CIPHER_SPEC = Buffer.from([1]);
const EMPTY = Buffer.alloc(0);

export class ServerSession {
  readonly peer: Peer;
  phase: SessionPhase = 'handshake';
  /** Set once the handshake is complete. */
  security: SessionSecurity | undefined;
  /** Epoch ms of the last record from the peer; the server forgets sessions idle too long. */
  lastActive: number;
  /** Epoch ms at which the server last moved this session to the recent end of its eviction order. */
  lastMoved: number;
  readonly suite: CipherSuite;
  /** The ClientHello.random that started this session: a retransmission of it is not a new connection attempt. */
  readonly clientRandom: Buffer;

  private serverRandom = randomBytes(RANDOM_BYTES);
  private readonly extendedMasterSecret: boolean;
  /** Running hash of the handshake messages (§4.2.6: in their unfragmented form, header included). */
  private transcript: Hash | undefined = createHash('sha256');
  private nextReceiveSeq: number;
  private nextSendSeq: number;
  /** Handshake messages being reassembled, by message_seq; dropped once the handshake is over. */
  private assemblies: Map<number, { assembly: MessageAssembly; epoch: number }> | undefined = new Map();
  private expecting: 'client_key_exchange' | 'finished' | 'nothing' = 'client_key_exchange';
  private readonly epoch0Window = new ReplayWindow();
  private readonly epoch1Window = new ReplayWindow();
  private writeSequence0: number;
  private writeSequence1 = 0;
  private readProtection: RecordProtection | undefined;
  private writeProtection: RecordProtection | undefined;
  private master: Buffer | undefined;
  private identity: string | undefined;
  private unknownIdentity = false;
  private flight: FlightEntry[] = [];
  private retransmitTimer: NodeJS.Timeout | undefined;
  private retransmissions = 0;
  private timeoutMs: number;
  private awaitingPsk = false;
  private queued: DtlsRecord[] = [];
  private retransmitRequested = false;

  /**
   * Starts the handshake with a ClientHello that carried a valid cookie, and sends flight 4.
   * `messageSeq` is that ClientHello's handshake message_seq, `recordSequence` its record's sequence number.
   */
  constructor(
    private readonly host: SessionHost,
    address: string,
    port: number,
    hello: ClientHello,
    helloBody: Buffer,
    messageSeq: number,
    recordSequence: number,
    suite: CipherSuite,
    now: number,
  ) {
    this.peer = Object.freeze({ address, port, secure: true as const });
    this.lastActive = now;
    this.lastMoved = now;
    this.suite = suite;
    this.clientRandom = Buffer.from(hello.random);
    this.timeoutMs = host.retransmission.initialMs;
    // RFC 6347 §4.2.2: our message_seq continues from the HelloVerifyRequest, which took the
    // ClientHello's; the client expects the ServerHello to carry the ClientHello's message_seq.
    this.nextReceiveSeq = messageSeq + 1;
    this.nextSendSeq = messageSeq;
    // §4.2.1: the HelloVerifyRequest reused the first ClientHello's record sequence number;
    // starting at this later one keeps ours increasing in the client's epoch-0 window.
    this.writeSequence0 = recordSequence;
    this.epoch0Window.accept(recordSequence);
    // RFC 7627 §5.1: an empty extended_master_secret extension asks for it; we agree by echoing it.
    this.extendedMasterSecret = hello.extensions.get(ExtensionType.EXTENDED_MASTER_SECRET)?.length === 0;
    this.transcript?.update(encodeHandshake(HandshakeType.CLIENT_HELLO, messageSeq, helloBody));

    const extensions: [number, Buffer][] = [];
    // RFC 5746 §3.6: a client that signals secure renegotiation gets an empty renegotiation_info back
    // (we never renegotiate, but a client may refuse a server that does not say so).
    if (hello.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV) || hello.extensions.has(ExtensionType.RENEGOTIATION_INFO)) {
      extensions.push([ExtensionType.RENEGOTIATION_INFO, Buffer.from([0])]);
    }
    if (this.extendedMasterSecret) extensions.push([ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)]);
    // RFC 5246 §7.4.1.3: an empty session_id: this session will not be resumed (we keep no session cache).
    this.queueHandshake(
      HandshakeType.SERVER_HELLO,
      encodeServerHello({ version: DTLS_1_2, random: this.serverRandom, sessionId: Buffer.alloc(0), cipherSuite: suite.id, extensions }),
    );
    if (host.pskIdentityHint) this.queueHandshake(HandshakeType.SERVER_KEY_EXCHANGE, encodePskIdentity(host.pskIdentityHint));
    this.queueHandshake(HandshakeType.SERVER_HELLO_DONE, Buffer.alloc(0));
    this.sendFlight();
    this.scheduleRetransmission();
  }

  /** RFC 5746 §3.6: an initial ClientHello whose renegotiation_info is not empty must be refused. */
  static renegotiationInfoInvalid(hello: ClientHello): boolean {
    const info = hello.extensions.get(ExtensionType.RENEGOTIATION_INFO);
    return info !== undefined && !(info.length === 1 && info[0] === 0);
  }

  /** Records from the peer, in datagram order. */
  receive(records: readonly DtlsRecord[], now: number): void {
    if (this.phase === 'closed') return;
    this.lastActive = now;
    for (const record of records) {
      if (this.awaitingPsk) {
        // Kept in order until the key is known (the rest of flight 5 is usually right behind).
        if (this.queued.length < MAX_RECORDS_QUEUED) this.queued.push(record);
        else this.host.dropped(this, 'record queue full during the PSK lookup');
        continue;
      }
      this.receiveRecord(record);
      if (this.ended) return;
    }
    if (this.retransmitRequested) {
      // RFC 6347 §4.2.4: the peer retransmitted its last flight, so ours was lost: send it again (once per datagram).
      this.retransmitRequested = false;
      this.sendFlight();
    }
  }

  /** Sends application data (a CoAP message) in one record of the current epoch. */
  sendApplicationData(plaintext: Buffer): boolean {
    if (this.phase !== 'established' || plaintext.length > MAX_PLAINTEXT_BYTES) return false;
    const record = this.protect(ContentType.APPLICATION_DATA, plaintext);
    if (!record) return false;
    this.host.transmit(this, record);
    return true;
  }

  /** Ends the session; with `notify`, tells the peer with a close_notify alert (RFC 5246 §7.2.1). */
  close(reason: string, notify: boolean): void {
    if (this.phase === 'closed') return;
    if (notify) this.sendAlert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY);
    this.end(reason);
  }

  // ---- records ---------------------------------------------------------------------------------

  private receiveRecord(record: DtlsRecord): void {
    if (record.epoch === 0) {
      if (!this.epoch0Window.mayAccept(record.sequence)) return this.host.dropped(this, 'replayed epoch 0 record');
      this.epoch0Window.accept(record.sequence);
      switch (record.type) {
        case ContentType.HANDSHAKE:
          return this.receiveHandshake(record.fragment, 0);
        case ContentType.CHANGE_CIPHER_SPEC:
          // RFC 5246 §7.1: one byte of value 1. The keys come from the ClientKeyExchange; epoch 1
          // records are decrypted once they are known, so a lost or late ChangeCipherSpec costs nothing.
          return;
        case ContentType.ALERT:
          // Plaintext alerts are unauthenticated: heeded during the handshake only.
          if (this.phase === 'handshake') this.receiveAlert(record.fragment);
          return;
        default:
          return this.host.dropped(this, `epoch 0 record of type ${record.type}`);
      }
    }
    if (record.epoch !== 1 || !this.readProtection) return this.host.dropped(this, `record of epoch ${record.epoch} before its keys`);
    if (!this.epoch1Window.mayAccept(record.sequence)) return this.host.dropped(this, 'replayed record');
    const plaintext = record.version === DTLS_1_2 ? this.readProtection.open(record, record.fragment) : undefined;
    if (!plaintext) {
      if (this.phase === 'handshake' && record.type === ContentType.HANDSHAKE) {
        // The client's Finished does not authenticate: it derived other keys, from another PSK.
        // RFC 6347 §4.1.2.7: an implementation that alerts on a bad MAC sends a fatal bad_record_mac.
        return this.fail(
          AlertDescription.BAD_RECORD_MAC,
          this.unknownIdentity ? 'unknown PSK identity' : 'wrong PSK (Finished does not decrypt)',
        );
      }
      return this.host.dropped(this, 'record failed authentication');
    }
    if (plaintext.length > MAX_PLAINTEXT_BYTES) return this.host.dropped(this, 'record over 2^14 bytes');
    this.epoch1Window.accept(record.sequence);
    switch (record.type) {
      case ContentType.APPLICATION_DATA:
        if (this.phase === 'established') this.host.applicationData(this, plaintext);
        else this.host.dropped(this, 'application data before the handshake completed');
        return;
      case ContentType.HANDSHAKE:
        return this.receiveHandshake(plaintext, 1);
      case ContentType.ALERT:
        return this.receiveAlert(plaintext);
      default:
        return;
    }
  }

  private receiveAlert(fragment: Buffer): void {
    if (fragment.length !== 2) return this.host.dropped(this, 'malformed alert');
    const [level, description] = [fragment[0] as number, fragment[1] as number];
    if (description === AlertDescription.CLOSE_NOTIFY) {
      // RFC 5246 §7.2.1: answered with a close_notify of our own.
      this.close('peer sent close_notify', this.phase === 'established');
      return;
    }
    if (level === AlertLevel.FATAL) this.end(`peer sent fatal alert ${description}`);
  }

  // ---- handshake messages ----------------------------------------------------------------------

  private receiveHandshake(data: Buffer, epoch: 0 | 1): void {
    const fragments = decodeHandshakeFragments(data);
    if (!fragments) return this.host.dropped(this, 'malformed handshake record');
    for (const fragment of fragments) {
      if (fragment.msgType === HandshakeType.CLIENT_HELLO && epoch === 1) {
        // RFC 5746 §4.4 / RFC 5246 §7.2.2: we do not renegotiate; a warning lets the client go on with this session.
        this.sendAlert(AlertLevel.WARNING, AlertDescription.NO_RENEGOTIATION);
        continue;
      }
      if (fragment.messageSeq < this.nextReceiveSeq) {
        // A message we already processed: the peer is retransmitting its previous flight.
        this.retransmitRequested = true;
        continue;
      }
      const assemblies = this.assemblies;
      if (this.phase !== 'handshake' || !assemblies || fragment.messageSeq >= this.nextReceiveSeq + MAX_MESSAGES_AHEAD) continue;
      let entry = assemblies.get(fragment.messageSeq);
      if (!entry) {
        const assembly = MessageAssembly.start(fragment);
        if (!assembly) return this.fail(AlertDescription.DECODE_ERROR, `${handshakeTypeName(fragment.msgType)} too large`);
        entry = { assembly, epoch };
        assemblies.set(fragment.messageSeq, entry);
      }
      if (entry.epoch !== epoch || !entry.assembly.add(fragment))
        return this.host.dropped(this, 'handshake fragment inconsistent with earlier ones');
    }
    this.processCompleteMessages();
  }

  /** §4.2.2: messages are processed in message_seq order, whatever order their fragments came in. */
  private processCompleteMessages(): void {
    for (;;) {
      if (this.awaitingPsk || this.phase !== 'handshake') return;
      const entry = this.assemblies?.get(this.nextReceiveSeq);
      if (!entry?.assembly.complete) return;
      this.assemblies?.delete(this.nextReceiveSeq);
      this.nextReceiveSeq++;
      this.processMessage(entry.assembly.message(), entry.epoch);
    }
  }

  private processMessage(message: HandshakeMessage, epoch: number): void {
    const transcript = this.transcript;
    if (!transcript) return;
    if (this.expecting === 'client_key_exchange' && message.msgType === HandshakeType.CLIENT_KEY_EXCHANGE && epoch === 0) {
      const identity = parsePskIdentity(message.body);
      if (!identity) return this.fail(AlertDescription.DECODE_ERROR, 'malformed ClientKeyExchange');
      transcript.update(encodeHandshake(message.msgType, message.messageSeq, message.body));
      this.expecting = 'finished';
      // RFC 7627 §3: the session hash covers the messages up to and including ClientKeyExchange.
      const sessionHash = transcript.copy().digest();
      this.identity = identity.toString('utf8');
      this.awaitingPsk = true;
      this.host.pskForIdentity(this.identity).then(
        (psk) => this.keysReady(psk, sessionHash),
        (error: unknown) =>
          this.fail(AlertDescription.INTERNAL_ERROR, `PSK lookup failed: ${error instanceof Error ? error.message : String(error)}`),
      );
      return;
    }
    if (this.expecting === 'finished' && message.msgType === HandshakeType.FINISHED && epoch === 1 && this.master) {
      const expected = finishedVerifyData(this.master, 'client', transcript.copy().digest());
      if (message.body.length !== VERIFY_DATA_BYTES || !timingSafeEqual(expected, message.body)) {
        return this.fail(AlertDescription.DECRYPT_ERROR, 'client Finished verify_data does not match');
      }
      transcript.update(encodeHandshake(message.msgType, message.messageSeq, message.body));
      const ours = finishedVerifyData(this.master, 'server', transcript.copy().digest());
      // Nothing is derived from these any more: the record keys are all a session keeps.
      this.transcript = undefined;
      this.master = undefined;
      this.serverRandom = EMPTY;
      this.assemblies = undefined;
      this.flight = [];
      this.flight.push({ epoch: 0, type: ContentType.CHANGE_CIPHER_SPEC, payload: CHANGE_CIPHER_SPEC });
      this.flight.push({
        epoch: 1,
        type: ContentType.HANDSHAKE,
        payload: encodeHandshake(HandshakeType.FINISHED, this.nextSendSeq++, ours),
      });
      this.expecting = 'nothing';
      this.clearRetransmission();
      this.phase = 'established';
      this.security = Object.freeze({ pskIdentity: this.identity ?? '' });
      // RFC 6347 §4.2.4: flight 6 is the last; it is sent again only when the client repeats flight 5.
      this.sendFlight();
      this.host.established(this);
      return;
    }
    this.fail(AlertDescription.UNEXPECTED_MESSAGE, `unexpected ${handshakeTypeName(message.msgType)} in epoch ${epoch}`);
  }

  private keysReady(found: Buffer | undefined, sessionHash: Buffer): void {
    if (this.phase === 'closed') return;
    // RFC 4279 §2: with an unknown identity the handshake goes on with a random key and fails at
    // Finished exactly as with a wrong key, so that a client cannot tell which identities exist.
    this.unknownIdentity = found === undefined;
    const psk = found ?? randomBytes(16);
    const premaster = pskPremasterSecret(psk);
    this.master = this.extendedMasterSecret
      ? extendedMasterSecret(premaster, sessionHash)
      : masterSecret(premaster, this.clientRandom, this.serverRandom);
    const keys = splitKeyBlock(this.suite, keyBlock(this.master, this.clientRandom, this.serverRandom, keyBlockLength(this.suite)));
    this.readProtection = this.suite.protection(keys.client);
    this.writeProtection = this.suite.protection(keys.server);
    this.awaitingPsk = false;
    const queued = this.queued;
    this.queued = [];
    this.processCompleteMessages();
    if (queued.length > 0) this.receive(queued, this.lastActive);
  }

  private queueHandshake(msgType: number, body: Buffer): void {
    const message = encodeHandshake(msgType, this.nextSendSeq++, body);
    this.transcript?.update(message);
    this.flight.push({ epoch: 0, type: ContentType.HANDSHAKE, payload: message });
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** The whole flight in one datagram (ours are a few hundred bytes at most), each record with a fresh sequence number. */
  private sendFlight(): void {
    const records: Buffer[] = [];
    for (const entry of this.flight) {
      if (entry.epoch === 0) {
        records.push(encodeRecord({ type: entry.type, version: DTLS_1_2, epoch: 0, sequence: this.writeSequence0++ }, entry.payload));
      } else {
        const record = this.protect(entry.type, entry.payload);
        if (record) records.push(record);
      }
    }
    if (records.length > 0) this.host.transmit(this, records.length === 1 ? (records[0] as Buffer) : Buffer.concat(records));
  }

  /** A record of epoch 1 with this content, or undefined once the sequence numbers are spent (§4.1: never reused). */
  private protect(type: number, plaintext: Buffer): Buffer | undefined {
    if (!this.writeProtection) return undefined;
    if (this.writeSequence1 > MAX_SEQUENCE_NUMBER) {
      this.end('sequence numbers exhausted');
      return undefined;
    }
    const header = { type, version: DTLS_1_2, epoch: 1, sequence: this.writeSequence1++ };
    return encodeRecord(header, this.writeProtection.seal(header, plaintext));
  }

  private sendAlert(level: number, description: number): void {
    const payload = Buffer.from([level, description]);
    // Encrypted once we have sent our ChangeCipherSpec (the session is established), plaintext before.
    const record =
      this.phase === 'established'
        ? this.protect(ContentType.ALERT, payload)
        : encodeRecord({ type: ContentType.ALERT, version: DTLS_1_2, epoch: 0, sequence: this.writeSequence0++ }, payload);
    if (record) this.host.transmit(this, record);
  }

  private fail(description: number, reason: string): void {
    if (this.phase === 'closed') return;
    this.sendAlert(AlertLevel.FATAL, description);
    this.end(reason);
  }

  private end(reason: string): void {
    if (this.phase === 'closed') return;
    const handshakeFailed = this.phase === 'handshake';
    this.phase = 'closed';
    this.clearRetransmission();
    this.queued = [];
    this.assemblies = undefined;
    this.host.closed(this, reason, handshakeFailed);
  }

  // ---- retransmission (RFC 6347 §4.2.4) --------------------------------------------------------

  private scheduleRetransmission(): void {
    this.retransmitTimer = setTimeout(() => {
      if (this.phase !== 'handshake') return;
      if (this.retransmissions >= this.host.retransmission.maxRetransmissions) {
        this.end('handshake timed out');
        return;
      }
      this.retransmissions++;
      this.sendFlight();
      // §4.2.4.1: the timer doubles at each retransmission, up to its maximum.
      this.timeoutMs = Math.min(this.timeoutMs * 2, this.host.retransmission.maxMs);
      this.scheduleRetransmission();
    }, this.timeoutMs);
    this.retransmitTimer.unref();
  }

  private clearRetransmission(): void {
    clearTimeout(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }

  get ended(): boolean {
    return this.phase === 'closed';
  }

  /** For logs: the identity the client claimed (known once its ClientKeyExchange arrived). */
  get claimedIdentity(): string | undefined {
    return this.identity;
  }
}
