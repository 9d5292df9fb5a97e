/** A real Redis on a free loopback port, started and stopped by the test that needs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The redis-server binary: $REDIS_SERVER, else Debian's or a source build's. */
export const REDIS_SERVER = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(
  (p): p is string => p !== undefined && p !== '' && existsSync(p),
);

/** A TCP port nothing listens on right now (bound to 0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** True when something at the port answers an inline PING with +PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const finish = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data: Buffer) => {
      reply += data.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
  });
}

export class RedisServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server without persistence; resolves once it answers PING. */
  static async start(): Promise<RedisServer> {
    if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER)');
    const port = await freePort();
    // Its own working directory: nothing is saved, but nothing may land in the repository either.
    const dir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-redis-'));
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const server = new RedisServer(child, dir, port);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (child.exitCode !== null || child.signalCode !== null) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`redis-server exited at start: ${output}`);
      }
      if (await pings(port)) return server;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await server.stop();
    throw new Error(`redis-server did not answer PING on port ${port}: ${output}`);
  }

  /** Kills the server by its PID and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      process.kill(this.child.pid, 'SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
