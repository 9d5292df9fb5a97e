/**
 * A small DTLS 1.2 PSK client for tests and benches, built from the server's own record,
 * handshake and key-derivation code (src/coap/dtls). It is sans-IO at its core
 * (DtlsClientConnection: datagrams in, datagrams out) so that the simulator's radio can put
 * it between a client endpoint and the server; DtlsClient binds a socket around it.
 *
 * What a test may need to misbehave with: fragmenting and reordering its handshake
 * messages, dropping incoming datagrams (lost flights), sending any record it likes.
 * It is not a general-purpose client: one PSK, no resumption, no renegotiation.
 */
import { createHash, randomBytes, timingSafeEqual, type Hash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import {
  CIPHER_SUITES,
  keyBlockLength,
  splitKeyBlock,
  type CipherSuite,
  type RecordProtection,
} from '../../src/coap/dtls/cipher-suites.js';
import {
  decodeHandshakeFragments,
  encodeClientHello,
  encodeHandshake,
  encodePskIdentity,
  fragmentHandshake,
  parseHelloVerifyRequest,
  parseServerHello,
} from '../../src/coap/dtls/handshake.js';
import {
  AlertDescription,
  AlertLevel,
  CipherSuiteId,
  ContentType,
  DTLS_1_2,
  ExtensionType,
  HandshakeType,
  RANDOM_BYTES,
} from '../../src/coap/dtls/parameters.js';
import { extendedMasterSecret, finishedVerifyData, keyBlock, masterSecret, pskPremasterSecret } from '../../src/coap/dtls/prf.js';
import { decodeRecords, encodeRecord, type DtlsRecord } from '../../src/coap/dtls/record.js';

export interface DtlsClientOptions {
  readonly identity: string;
  readonly key: Buffer;
  /** Offered in this order; default both of ours (CCM_8 first). */
  readonly cipherSuites?: readonly number[];
  /** Offer the extended master secret (RFC 7627); default true. */
  readonly extendedMasterSecret?: boolean;
  /** Cut the ClientKeyExchange into fragments of this many bytes, each in its own record (RFC 6347 §4.2.3). */
  readonly fragmentBytes?: number;
  /** Send those fragments last first (reordering). */
  readonly reverseFragments?: boolean;
  /** Drop an incoming datagram (simulated loss); `index` counts datagrams received. */
  readonly dropIncoming?: (datagram: Buffer, index: number) => boolean;
  /** Flight retransmission timeout; default 300 ms, doubled each time, 6 times at most. */
  readonly retransmitMs?: number;
}

export class DtlsAlertError extends Error {
  override readonly name = 'DtlsAlertError';
  constructor(
    readonly level: number,
    readonly description: number,
  ) {
    super(`server sent ${level === AlertLevel.FATAL ? 'fatal' : 'warning'} alert ${description}`);
  }
}

type State = 'hello' | 'server-hello' | 'finished' | 'connected' | 'closed';

/** One client association, sans IO: `transmit` sends a datagram to the server, `receive` takes one from it. */
export class DtlsClientConnection {
  onData: (plaintext: Buffer) => void = () => undefined;
  /** Alerts received after the handshake (a no_renegotiation warning, a close_notify). */
  readonly alerts: { level: number; description: number }[] = [];
  readonly connected: Promise<void>;
  suite: CipherSuite | undefined;
  /** Whether the server agreed to the extended master secret. */
  extendedMasterSecret = false;

  private state: State = 'hello';
  private readonly random = randomBytes(RANDOM_BYTES);
  private serverRandom = Buffer.alloc(RANDOM_BYTES);
  private cookie = Buffer.alloc(0);
  private transcript: Hash = createHash('sha256');
  private sendSeq = 0;
  private receiveSeq = 0;
  private writeSequence0 = 0;
  private writeSequence1 = 0;
  private readProtection: RecordProtection | undefined;
  private writeProtection: RecordProtection | undefined;
  private master: Buffer | undefined;
  private flight: { epoch: 0 | 1; type: number; payload: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timeoutMs: number;
  private retransmissions = 0;
  private received = 0;
  private resolve!: () => void;
  private reject!: (error: Error) => void;

  constructor(
    private readonly options: DtlsClientOptions,
    private readonly transmit: (datagram: Buffer) => void,
  ) {
    this.timeoutMs = options.retransmitMs ?? 300;
    this.connected = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.connected.catch(() => undefined);
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  /** Sends the first ClientHello. */
  start(): void {
    this.sendClientHello();
  }

  receive(datagram: Buffer): void {
    if (this.options.dropIncoming?.(datagram, this.received++)) return;
    for (const record of decodeRecords(datagram)) this.receiveRecord(record);
  }

  send(plaintext: Buffer): void {
    if (this.state !== 'connected') throw new Error('DTLS client not connected');
    this.transmit(this.record(ContentType.APPLICATION_DATA, plaintext, 1));
  }

  /** An epoch-1 record of any type and content; with `sequence`, that sequence number (a replay). */
  sealRecord(type: number, plaintext: Buffer, sequence?: number): Buffer {
    const protection = this.writeProtection;
    if (!protection) throw new Error('no keys yet');
    const header = { type, version: DTLS_1_2, epoch: 1, sequence: sequence ?? this.writeSequence1++ };
    return encodeRecord(header, protection.seal(header, plaintext));
  }

  /** Sends a close_notify (RFC 5246 §7.2.1) and stops. */
  close(): void {
    if (this.state === 'connected')
      this.transmit(this.record(ContentType.ALERT, Buffer.from([AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY]), 1));
    this.stop(new Error('closed'));
  }

  stop(error: Error): void {
    clearTimeout(this.timer);
    if (this.state !== 'connected') this.reject(error);
    this.state = 'closed';
  }

  private record(type: number, payload: Buffer, epoch: 0 | 1): Buffer {
    if (epoch === 1) return this.sealRecord(type, payload);
    return encodeRecord({ type, version: DTLS_1_2, epoch: 0, sequence: this.writeSequence0++ }, payload);
  }

  private sendFlight(): void {
    const records: Buffer[] = [];
    for (const entry of this.flight) records.push(this.record(entry.type, entry.payload, entry.epoch));
    this.transmit(Buffer.concat(records));
    clearTimeout(this.timer);
    if (this.state === 'connected') return;
    this.timer = setTimeout(() => {
      if (this.state === 'connected' || this.state === 'closed') return;
      if (this.retransmissions++ >= 6) {
        this.stop(new Error('DTLS handshake timed out'));
        return;
      }
      this.timeoutMs *= 2;
      this.sendFlight();
    }, this.timeoutMs);
    this.timer.unref();
  }

  private sendClientHello(): void {
    const suites = this.options.cipherSuites ?? CIPHER_SUITES.map((s) => s.id);
    const extensions: [number, Buffer][] = [[ExtensionType.RENEGOTIATION_INFO, Buffer.from([0])]];
    if (this.options.extendedMasterSecret ?? true) extensions.push([ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)]);
    const body = encodeClientHello({ version: DTLS_1_2, random: this.random, cookie: this.cookie, cipherSuites: suites, extensions });
    const message = encodeHandshake(HandshakeType.CLIENT_HELLO, this.sendSeq++, body);
    // §4.2.1: the first ClientHello and the HelloVerifyRequest stay out of the handshake hash.
    this.transcript = createHash('sha256');
    if (this.cookie.length > 0) this.transcript.update(message);
    this.flight = [{ epoch: 0, type: ContentType.HANDSHAKE, payload: message }];
    this.sendFlight();
  }

  private receiveRecord(record: DtlsRecord): void {
    let payload = record.fragment;
    if (record.epoch === 1) {
      const opened = this.readProtection?.open(record, record.fragment);
      if (!opened) return;
      payload = opened;
    }
    switch (record.type) {
      case ContentType.HANDSHAKE:
        return this.receiveHandshake(payload);
      case ContentType.ALERT: {
        const [level, description] = [payload[0] as number, payload[1] as number];
        this.alerts.push({ level, description });
        if (level === AlertLevel.FATAL || description === AlertDescription.CLOSE_NOTIFY) this.stop(new DtlsAlertError(level, description));
        return;
      }
      case ContentType.APPLICATION_DATA:
        if (this.state === 'connected' && record.epoch === 1) this.onData(payload);
        return;
      default:
        return;
    }
  }

  private receiveHandshake(data: Buffer): void {
    for (const fragment of decodeHandshakeFragments(data) ?? []) {
      if (fragment.messageSeq < this.receiveSeq) {
        if (this.state !== 'connected') this.sendFlight(); // the server repeats its flight: ours was lost
        continue;
      }
      if (fragment.messageSeq > this.receiveSeq || fragment.body.length !== fragment.length) continue; // our server sends in order, unfragmented
      this.receiveSeq++;
      this.receiveMessage(fragment.msgType, fragment.messageSeq, fragment.body);
    }
  }

  private receiveMessage(type: number, seq: number, body: Buffer): void {
    if (type === HandshakeType.HELLO_VERIFY_REQUEST && this.state === 'hello') {
      const request = parseHelloVerifyRequest(body);
      if (!request) return this.stop(new Error('malformed HelloVerifyRequest'));
      this.cookie = Buffer.from(request.cookie);
      this.state = 'server-hello';
      return this.sendClientHello();
    }
    const message = encodeHandshake(type, seq, body);
    if (type === HandshakeType.SERVER_HELLO) {
      const hello = parseServerHello(body);
      const suite = CIPHER_SUITES.find((s) => s.id === hello?.cipherSuite);
      if (!hello || !suite || hello.version !== DTLS_1_2) return this.stop(new Error('unusable ServerHello'));
      this.suite = suite;
      this.extendedMasterSecret = hello.extensions.has(ExtensionType.EXTENDED_MASTER_SECRET);
      this.serverRandom = Buffer.from(hello.random);
      this.state = 'server-hello';
      this.transcript.update(message);
      return;
    }
    if (type === HandshakeType.SERVER_KEY_EXCHANGE) {
      this.transcript.update(message);
      return;
    }
    if (type === HandshakeType.SERVER_HELLO_DONE) {
      this.transcript.update(message);
      return this.sendClientFlight();
    }
    if (type === HandshakeType.FINISHED && this.state === 'finished' && this.master) {
      const expected = finishedVerifyData(this.master, 'server', this.transcript.copy().digest());
      if (body.length !== expected.length || !timingSafeEqual(body, expected))
        return this.stop(new Error('server Finished does not verify'));
      this.state = 'connected';
      clearTimeout(this.timer);
      this.resolve();
    }
  }

  /** Flight 5: ClientKeyExchange, ChangeCipherSpec, Finished. */
  private sendClientFlight(): void {
    const suite = this.suite;
    if (!suite) return;
    const cke = encodePskIdentity(Buffer.from(this.options.identity, 'utf8'));
    const ckeSeq = this.sendSeq++;
    this.transcript.update(encodeHandshake(HandshakeType.CLIENT_KEY_EXCHANGE, ckeSeq, cke));
    const premaster = pskPremasterSecret(this.options.key);
    this.master = this.extendedMasterSecret
      ? extendedMasterSecret(premaster, this.transcript.copy().digest())
      : masterSecret(premaster, this.random, this.serverRandom);
    const keys = splitKeyBlock(suite, keyBlock(this.master, this.random, this.serverRandom, keyBlockLength(suite)));
    this.writeProtection = suite.protection(keys.client);
    this.readProtection = suite.protection(keys.server);
    const finished = encodeHandshake(
      HandshakeType.FINISHED,
      this.sendSeq++,
      finishedVerifyData(this.master, 'client', this.transcript.copy().digest()),
    );
    this.transcript.update(finished);
    let fragments = fragmentHandshake(HandshakeType.CLIENT_KEY_EXCHANGE, ckeSeq, cke, this.options.fragmentBytes ?? cke.length);
    if (this.options.reverseFragments) fragments = [...fragments].reverse();
    this.flight = [
      ...fragments.map((payload) => ({ epoch: 0 as const, type: ContentType.HANDSHAKE, payload })),
      { epoch: 0, type: ContentType.CHANGE_CIPHER_SPEC, payload: Buffer.from([1]) },
      { epoch: 1, type: ContentType.HANDSHAKE, payload: finished },
    ];
    this.state = 'finished';
    this.sendFlight();
  }
}

export const ALL_SUITES = [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8, CipherSuiteId.TLS_PSK_WITH_AES_128_CBC_SHA256] as const;

/** A DTLS client on its own UDP socket on loopback, connected to `address`:`port`. */
export class DtlsClient {
  private constructor(
    readonly socket: Socket,
    readonly connection: DtlsClientConnection,
    readonly server: { address: string; port: number },
  ) {}

  /** Binds a socket, handshakes, and resolves once connected (rejects on an alert or timeout). */
  static async connect(address: string, port: number, options: DtlsClientOptions): Promise<DtlsClient> {
    const client = await DtlsClient.open(address, port, options);
    client.connection.start();
    try {
      await client.connection.connected;
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** Binds a socket without starting the handshake (call connection.start()). */
  static async open(address: string, port: number, options: DtlsClientOptions): Promise<DtlsClient> {
    const ipv4 = isIPv4(address);
    const socket = createSocket(ipv4 ? 'udp4' : 'udp6');
    await new Promise<void>((resolve) => socket.bind(0, ipv4 ? '127.0.0.1' : '::1', resolve));
    socket.on('error', () => undefined);
    const connection = new DtlsClientConnection(options, (datagram) => socket.send(datagram, port, address));
    socket.on('message', (datagram) => connection.receive(datagram));
    return new DtlsClient(socket, connection, { address, port });
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends raw bytes to the server, outside the DTLS connection. */
  sendRaw(datagram: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(datagram, this.server.port, this.server.address, (e) => (e ? reject(e) : resolve())),
    );
  }

  async close(): Promise<void> {
    this.connection.close();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
