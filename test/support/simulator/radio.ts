/**
 * The simulated client's radio: the UDP socket the server sees, relaying datagrams
 * between the server and the client's CoapEndpoint (bound on loopback).
 *
 * It exists so that a sleeping client can be truly silent. CoapEndpoint has no way
 * to drop a datagram before it is processed: a handler that never answers still
 * leaves the request "processing" in the endpoint's duplicate cache, so a
 * retransmission arriving after wake-up would be swallowed for EXCHANGE_LIFETIME,
 * unlike a real device whose radio never heard the first copy. Here, while the
 * radio is off, requests and pings from the server are dropped before the endpoint
 * ever sees them; responses to the client's own requests still come through.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { EMPTY_CODE, isRequestCode } from '../../../src/coap/codes.js';
import { MessageType } from '../../../src/coap/message.js';
import { normalizeAddress, type Peer } from '../../../src/coap/peer.js';
import { DtlsClientConnection, type DtlsClientOptions } from '../dtls-client.js';

export class Radio {
  /** Off: requests from the server are lost, as with a device whose radio sleeps. */
  off = false;
  /** Requests and pings from the server lost while off. */
  lost = 0;

  private constructor(
    private readonly socket: Socket,
    /** The server, the only peer heard (Wakaama and Contiki ignore others). */
    readonly server: Peer,
    /** The client's CoapEndpoint. */
    private readonly client: Peer,
    /** With DTLS (coaps://), what the client sends is encrypted here, and what the server sends decrypted. */
    private readonly dtls?: DtlsClientConnection,
  ) {
    socket.on('message', (datagram, rinfo) => this.relay(datagram, { address: normalizeAddress(rinfo.address), port: rinfo.port }));
    if (dtls) dtls.onData = (plaintext) => this.fromServer(plaintext);
    // A send to a closed port may report ICMP unreachable on the next operation; a lost datagram is all it means.
    socket.on('error', () => undefined);
  }

  /** Opens the radio facing `server`, relaying to the client endpoint at `client`; with `dtls`, after a DTLS handshake. */
  static async open(server: Peer, client: Peer, dtls?: DtlsClientOptions): Promise<Radio> {
    const ipv4 = isIPv4(server.address);
    const socket = createSocket({ type: ipv4 ? 'udp4' : 'udp6' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: ipv4 ? '0.0.0.0' : '::', exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (!dtls) return new Radio(socket, server, client);
    const connection = new DtlsClientConnection(dtls, (datagram) => socket.send(datagram, server.port, server.address));
    const radio = new Radio(socket, server, client, connection);
    connection.start();
    try {
      await connection.connected;
    } catch (error) {
      await radio.close();
      throw error;
    }
    return radio;
  }

  /** The port the server sees the client on. */
  get port(): number {
    return this.socket.address().port;
  }

  /** Where the client endpoint sends what is meant for the server: this radio, on the loopback address. */
  get serverLink(): Peer {
    return { address: this.client.address, port: this.port };
  }

  close(): Promise<void> {
    this.dtls?.close();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private relay(datagram: Buffer, from: Peer): void {
    if (samePeer(from, this.client)) {
      if (this.dtls) this.dtls.send(datagram);
      else this.socket.send(datagram, this.server.port, this.server.address);
      return;
    }
    if (!samePeer(from, this.server)) return;
    if (this.dtls) this.dtls.receive(datagram);
    else this.fromServer(datagram);
  }

  private fromServer(datagram: Buffer): void {
    if (this.off && isRequestOrPing(datagram)) {
      this.lost++;
      return;
    }
    this.socket.send(datagram, this.client.port, this.client.address);
  }
}

function samePeer(a: Peer, b: Peer): boolean {
  return a.port === b.port && a.address === b.address;
}

/** RFC 7252 §3: the type is in bits 4-5 of byte 0, the code is byte 1. A CON empty message is a ping (§4.3). */
function isRequestOrPing(datagram: Buffer): boolean {
  if (datagram.length < 4) return false;
  const type = ((datagram[0] as number) >> 4) & 0x3;
  const code = datagram[1] as number;
  return isRequestCode(code) || (code === EMPTY_CODE && type === MessageType.CON);
}
