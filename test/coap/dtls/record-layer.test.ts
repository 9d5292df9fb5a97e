/**
 * The building blocks of the DTLS server against published vectors and golden bytes:
 * the TLS 1.2 PRF, AES-128-CCM with an 8-byte tag, both record protections, the record
 * and handshake framing, the anti-replay window, ClientHellos of real clients, cookies.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CBC_SHA256, CCM_8, keyBlockLength, splitKeyBlock } from '../../../src/coap/dtls/cipher-suites.js';
import { CookieJar } from '../../../src/coap/dtls/cookie.js';
import {
  decodeHandshakeFragments,
  encodeClientHello,
  encodeHandshake,
  fragmentHandshake,
  MessageAssembly,
  parseClientHello,
} from '../../../src/coap/dtls/handshake.js';
import {
  CipherSuiteId,
  ContentType,
  DTLS_1_0,
  DTLS_1_2,
  ExtensionType,
  HandshakeType,
  TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
} from '../../../src/coap/dtls/parameters.js';
import { prf, pskPremasterSecret } from '../../../src/coap/dtls/prf.js';
import { decodeRecords, encodeRecord } from '../../../src/coap/dtls/record.js';
import { ReplayWindow } from '../../../src/coap/dtls/replay-window.js';
import { dtlsFixture, hexField } from './fixtures.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('TLS 1.2 PRF (RFC 5246 §5)', () => {
  it('gives the published P_SHA256 test vector', () => {
    const { fields, bytes } = dtlsFixture('prf-sha256.hex');
    expect(prf(hexField(fields, 'secret'), fields['label'] as string, hexField(fields, 'seed'), 100).toString('hex')).toBe(
      bytes.toString('hex'),
    );
  });

  it('builds the PSK premaster secret of RFC 4279 §2', () => {
    expect(pskPremasterSecret(Buffer.from('abc')).toString('hex')).toBe('0003' + '000000' + '0003' + '616263');
  });
});

describe('AES-128-CCM with an 8-byte tag', () => {
  for (const name of ['ccm8-sp800-38c-example3.hex', 'ccm8-rfc3610-packet1.hex']) {
    it(`node:crypto gives ${name.replace('.hex', '')}`, () => {
      const { fields, bytes } = dtlsFixture(name);
      const plaintext = hexField(fields, 'plaintext');
      const cipher = createCipheriv('aes-128-ccm', hexField(fields, 'key'), hexField(fields, 'nonce'), { authTagLength: 8 });
      cipher.setAAD(hexField(fields, 'aad'), { plaintextLength: plaintext.length });
      const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      expect(sealed.toString('hex')).toBe(bytes.toString('hex'));
    });
  }

  it('protects a record with the RFC 6655 nonce (salt + epoch + sequence) and the RFC 5246 additional data', () => {
    // SP 800-38C Example 3's key and nonce: salt 10111213, then epoch 0x1415 and sequence 0x161718191a1b.
    const { fields } = dtlsFixture('ccm8-sp800-38c-example3.hex');
    const key = hexField(fields, 'key');
    const protection = CCM_8.protection({ macKey: Buffer.alloc(0), encKey: key, iv: hex('10111213') });
    const header = { type: ContentType.APPLICATION_DATA, version: DTLS_1_2, epoch: 0x1415, sequence: 0x161718191a1b };
    const plaintext = Buffer.from('CoAP over DTLS');
    const fragment = protection.seal(header, plaintext);
    // explicit nonce (8) + ciphertext + tag (8)
    expect(fragment.subarray(0, 8).toString('hex')).toBe('1415161718191a1b');
    expect(fragment.length).toBe(8 + plaintext.length + 8);
    const cipher = createCipheriv('aes-128-ccm', key, hexField(fields, 'nonce'), { authTagLength: 8 });
    // seq_num (epoch + sequence) + type + version + length of the plaintext
    cipher.setAAD(hex(`1415161718191a1b 17 fefd ${plaintext.length.toString(16).padStart(4, '0')}`), { plaintextLength: plaintext.length });
    const expected = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    expect(fragment.subarray(8).toString('hex')).toBe(expected.toString('hex'));
    expect(protection.open(header, fragment)?.toString()).toBe('CoAP over DTLS');
  });

  it('refuses a fragment with a changed byte, header or tag', () => {
    const protection = CCM_8.protection({ macKey: Buffer.alloc(0), encKey: Buffer.alloc(16, 1), iv: Buffer.alloc(4, 2) });
    const header = { type: ContentType.APPLICATION_DATA, version: DTLS_1_2, epoch: 1, sequence: 7 };
    const fragment = protection.seal(header, Buffer.from('hello'));
    for (let i = 0; i < fragment.length; i++) {
      const bad = Buffer.from(fragment);
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(protection.open(header, bad)).toBeUndefined();
    }
    expect(protection.open({ ...header, sequence: 8 }, fragment)).toBeUndefined();
    expect(protection.open({ ...header, type: ContentType.HANDSHAKE }, fragment)).toBeUndefined();
    expect(protection.open(header, fragment.subarray(0, 15))).toBeUndefined();
  });
});

describe('AES-128-CBC with HMAC-SHA256 (RFC 5246 §6.2.3.2)', () => {
  const keys = { macKey: Buffer.alloc(32, 3), encKey: Buffer.alloc(16, 4), iv: Buffer.alloc(0) };
  const header = { type: ContentType.APPLICATION_DATA, version: DTLS_1_2, epoch: 1, sequence: 0x0102 };

  it('is IV, then plaintext + MAC + padding encrypted in CBC: checked with node:crypto alone', () => {
    for (const length of [0, 1, 15, 16, 31, 100]) {
      const plaintext = Buffer.alloc(length, 0x61);
      const fragment = CBC_SHA256.protection(keys).seal(header, plaintext);
      expect(fragment.length % 16).toBe(0);
      const decipher = createDecipheriv('aes-128-cbc', keys.encKey, fragment.subarray(0, 16)).setAutoPadding(false);
      const content = Buffer.concat([decipher.update(fragment.subarray(16)), decipher.final()]);
      const padding = content[content.length - 1] as number;
      expect([...content.subarray(content.length - padding - 1)].every((b) => b === padding)).toBe(true);
      const mac = createHmac('sha256', keys.macKey)
        .update(hex(`0001 000000000102 17 fefd ${length.toString(16).padStart(4, '0')}`))
        .update(plaintext)
        .digest();
      expect(content.subarray(0, length + 32).toString('hex')).toBe(Buffer.concat([plaintext, mac]).toString('hex'));
      expect(CBC_SHA256.protection(keys).open(header, fragment)?.equals(plaintext)).toBe(true);
    }
  });

  it('refuses a changed byte anywhere, bad padding and short fragments', () => {
    const protection = CBC_SHA256.protection(keys);
    const fragment = protection.seal(header, Buffer.from('hello'));
    for (let i = 0; i < fragment.length; i++) {
      const bad = Buffer.from(fragment);
      bad[i] = (bad[i] as number) ^ 0x80;
      expect(protection.open(header, bad)).toBeUndefined();
    }
    expect(protection.open(header, fragment.subarray(0, 48))).toBeUndefined();
    expect(protection.open(header, fragment.subarray(0, fragment.length - 1))).toBeUndefined();
    expect(protection.open({ ...header, sequence: 0x0103 }, fragment)).toBeUndefined();
  });

  it('cuts the key block in the RFC 5246 §6.3 order', () => {
    expect(keyBlockLength(CBC_SHA256)).toBe(2 * (32 + 16));
    expect(keyBlockLength(CCM_8)).toBe(2 * (16 + 4));
    const block = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
    const { client, server } = splitKeyBlock(CCM_8, block);
    expect([client.encKey[0], server.encKey[0], client.iv[0], server.iv[0]]).toEqual([0, 16, 32, 36]);
  });
});

describe('record framing (RFC 6347 §4.1)', () => {
  it('encodes and decodes a record header: type, version, epoch, 48-bit sequence number, length', () => {
    const record = encodeRecord(
      { type: ContentType.APPLICATION_DATA, version: DTLS_1_2, epoch: 1, sequence: 0x0a0b0c0d0e0f },
      Buffer.from('abc'),
    );
    expect(record.toString('hex')).toBe('17' + 'fefd' + '0001' + '0a0b0c0d0e0f' + '0003' + '616263');
    expect(decodeRecords(record)).toEqual([
      { type: 23, version: DTLS_1_2, epoch: 1, sequence: 0x0a0b0c0d0e0f, fragment: Buffer.from('abc') },
    ]);
  });

  it('reads several records of one datagram and stops at a truncated one', () => {
    const a = encodeRecord({ type: ContentType.HANDSHAKE, version: DTLS_1_2, epoch: 0, sequence: 1 }, Buffer.from('one'));
    const b = encodeRecord({ type: ContentType.CHANGE_CIPHER_SPEC, version: DTLS_1_2, epoch: 0, sequence: 2 }, Buffer.from([1]));
    const c = encodeRecord({ type: ContentType.HANDSHAKE, version: DTLS_1_2, epoch: 1, sequence: 0 }, Buffer.from('three'));
    expect(decodeRecords(Buffer.concat([a, b, c])).map((r) => r.sequence)).toEqual([1, 2, 0]);
    expect(decodeRecords(Buffer.concat([a, b, c.subarray(0, c.length - 1)])).map((r) => r.sequence)).toEqual([1, 2]);
    expect(decodeRecords(Buffer.alloc(12))).toEqual([]);
  });
});

describe('anti-replay window (RFC 6347 §4.1.2.6)', () => {
  it('takes each sequence number once, late ones inside the window, none left of it', () => {
    const window = new ReplayWindow();
    for (const seq of [0, 1, 5, 3]) {
      expect(window.mayAccept(seq)).toBe(true);
      window.accept(seq);
    }
    for (const seq of [0, 1, 3, 5]) expect(window.mayAccept(seq)).toBe(false);
    expect(window.mayAccept(2)).toBe(true);
    expect(window.mayAccept(4)).toBe(true);
    window.accept(100);
    expect(window.mayAccept(36)).toBe(false); // 100 - 64
    expect(window.mayAccept(37)).toBe(true);
    expect(window.mayAccept(100)).toBe(false);
    window.accept(37);
    expect(window.mayAccept(37)).toBe(false);
  });

  it('moves only on accept, so an unauthenticated huge sequence number shifts nothing', () => {
    const window = new ReplayWindow();
    window.accept(10);
    expect(window.mayAccept(2 ** 48 - 1)).toBe(true);
    expect(window.mayAccept(9)).toBe(true);
  });

  it('decides like a plain set of accepted numbers over a random walk', () => {
    let seed = 99;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const window = new ReplayWindow();
    const accepted = new Set<number>();
    let top = -1;
    for (let i = 0; i < 20_000; i++) {
      // Mostly near the top, sometimes far ahead or far behind.
      const jump = random() % 100 === 0 ? 200 : 40;
      const sequence = Math.max(0, top + (random() % (2 * jump)) - jump + 5);
      const expected = sequence > top || (top - sequence < 64 && !accepted.has(sequence));
      expect(window.mayAccept(sequence), `sequence ${sequence} with top ${top}`).toBe(expected);
      if (expected && random() % 4 !== 0) {
        window.accept(sequence);
        accepted.add(sequence);
        top = Math.max(top, sequence);
      }
    }
  });

  it('forgets the slots it slides over', () => {
    const window = new ReplayWindow();
    window.accept(0);
    window.accept(64); // slot of 0 is reused by 64
    expect(window.mayAccept(0)).toBe(false);
    window.accept(200);
    for (const seq of [137, 150, 199]) expect(window.mayAccept(seq)).toBe(true);
    window.reset();
    expect(window.mayAccept(0)).toBe(true);
  });
});

describe('handshake messages (RFC 6347 §4.2)', () => {
  it('encodes the 12-byte header with fragment offset and length', () => {
    expect(encodeHandshake(HandshakeType.SERVER_HELLO_DONE, 2, Buffer.alloc(0)).toString('hex')).toBe(
      '0e' + '000000' + '0002' + '000000' + '000000',
    );
    const fragments = fragmentHandshake(HandshakeType.CLIENT_KEY_EXCHANGE, 3, Buffer.from('0123456789'), 4);
    expect(fragments.map((f) => f.toString('hex'))).toEqual([
      '10' + '00000a' + '0003' + '000000' + '000004' + Buffer.from('0123').toString('hex'),
      '10' + '00000a' + '0003' + '000004' + '000004' + Buffer.from('4567').toString('hex'),
      '10' + '00000a' + '0003' + '000008' + '000002' + Buffer.from('89').toString('hex'),
    ]);
  });

  it('reassembles fragments that come out of order, twice or overlapping', () => {
    const body = Buffer.from('the client key exchange body');
    const pieces = [
      ...fragmentHandshake(HandshakeType.CLIENT_KEY_EXCHANGE, 1, body, 5),
      ...fragmentHandshake(HandshakeType.CLIENT_KEY_EXCHANGE, 1, body, 7),
    ]
      .reverse()
      .flatMap((f) => decodeHandshakeFragments(f) ?? []);
    const assembly = MessageAssembly.start(pieces[0]!)!;
    for (const piece of pieces) {
      expect(assembly.add(piece)).toBe(true);
    }
    expect(assembly.complete).toBe(true);
    expect(assembly.message().body.toString()).toBe(body.toString());
    expect(assembly.add({ ...pieces[0]!, msgType: HandshakeType.FINISHED })).toBe(false);
  });

  it('refuses fragments that run past their message or their record', () => {
    expect(decodeHandshakeFragments(hex('10 000004 0000 000002 000004 aabbccdd'))).toBeUndefined();
    expect(decodeHandshakeFragments(hex('10 000004 0000 000000 000004 aabbcc'))).toBeUndefined();
    expect(decodeHandshakeFragments(hex('10 000004 0000'))).toBeUndefined();
  });

  for (const [client, suites] of [
    ['openssl', 49],
    ['gnutls', 13],
  ] as const) {
    it(`parses the ClientHello of libcoap's coap-client-${client}`, () => {
      const datagram = dtlsFixture(`clienthello-${client}.hex`).bytes;
      const [record] = decodeRecords(datagram);
      expect(record).toMatchObject({ type: ContentType.HANDSHAKE, version: DTLS_1_0, epoch: 0, sequence: 0 });
      const [fragment] = decodeHandshakeFragments(record!.fragment) ?? [];
      expect(fragment).toMatchObject({ msgType: HandshakeType.CLIENT_HELLO, messageSeq: 0, fragmentOffset: 0 });
      const hello = parseClientHello(fragment!.body);
      expect(hello?.version).toBe(DTLS_1_2);
      expect(hello?.cookie.length).toBe(0);
      expect(hello?.cipherSuites.length).toBe(suites);
      expect(hello?.cipherSuites).toContain(CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8);
      expect(hello?.cipherSuites).toContain(CipherSuiteId.TLS_PSK_WITH_AES_128_CBC_SHA256);
      expect(hello?.extensions.get(ExtensionType.EXTENDED_MASTER_SECRET)?.length).toBe(0);
      const signalsRenegotiation =
        hello?.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV) || hello?.extensions.has(ExtensionType.RENEGOTIATION_INFO);
      expect(signalsRenegotiation).toBe(true);
    });
  }

  it('refuses malformed ClientHellos: truncated anywhere, odd suite list, duplicate extension', () => {
    const body = decodeHandshakeFragments(decodeRecords(dtlsFixture('clienthello-gnutls.hex').bytes)[0]!.fragment)![0]!.body;
    // Cut anywhere, only one prefix is a ClientHello: the one that ends right before the extensions (they are optional).
    const parsed = Array.from({ length: body.length }, (_, cut) => parseClientHello(body.subarray(0, cut))).filter(
      (hello) => hello !== undefined,
    );
    expect(parsed.map((hello) => hello.extensions.size)).toEqual([0]);
    const fields = { version: DTLS_1_2, random: Buffer.alloc(32), cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] };
    expect(
      parseClientHello(encodeClientHello({ ...fields, extensions: [[ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)]] })),
    ).toBeDefined();
    const twice = encodeClientHello({
      ...fields,
      extensions: [
        [ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)],
        [ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)],
      ],
    });
    expect(parseClientHello(twice)).toBeUndefined();
    const oddSuites = encodeClientHello(fields);
    oddSuites.writeUInt16BE(3, 2 + 32 + 1 + 1);
    expect(parseClientHello(oddSuites)).toBeUndefined();
    expect(parseClientHello(Buffer.concat([body, Buffer.from([0])]))).toBeUndefined();
  });
});

describe('cookies (RFC 6347 §4.2.1)', () => {
  const binding = Buffer.from('client hello parameters');

  it('accepts its own cookie for the same address, port and parameters only', () => {
    const jar = new CookieJar();
    const cookie = jar.make('::1', 5000, binding);
    expect(cookie.length).toBe(16);
    expect(jar.verify('::1', 5000, binding, cookie)).toBe(true);
    expect(jar.verify('::1', 5001, binding, cookie)).toBe(false);
    expect(jar.verify('127.0.0.1', 5000, binding, cookie)).toBe(false);
    expect(jar.verify('::1', 5000, Buffer.from('other parameters'), cookie)).toBe(false);
    expect(jar.verify('::1', 5000, binding, Buffer.alloc(16))).toBe(false);
  });

  it('still accepts a cookie of the previous secret, and not of the one before', () => {
    let now = 0;
    const jar = new CookieJar(1000, () => now);
    const cookie = jar.make('::1', 5000, binding);
    now = 1500;
    expect(jar.verify('::1', 5000, binding, cookie)).toBe(true);
    now = 2600;
    expect(jar.verify('::1', 5000, binding, cookie)).toBe(false);
  });
});
