import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** A bare UDP socket for sending hand-made datagrams and reading what comes back. */
export class RawUdp {
  private readonly inbox: { data: Buffer; from: RemoteInfo }[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (data, from) => {
      this.inbox.push({ data, from });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(family: 4 | 6 = 6): Promise<RawUdp> {
    const socket = createSocket(family === 4 ? 'udp4' : 'udp6');
    await new Promise<void>((resolve) => socket.bind(0, family === 4 ? '127.0.0.1' : '::1', resolve));
    return new RawUdp(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Buffer, port: number, address = '::1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, address, (e) => (e ? reject(e) : resolve())));
  }

  /** The next datagram received, or undefined after `timeoutMs`. */
  async receive(timeoutMs = 1000): Promise<{ data: Buffer; from: RemoteInfo } | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.inbox.shift();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
