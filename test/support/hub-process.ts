/** The built hub as a separate process (`node dist/cli.js`), to kill it the hard way and start it again. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export async function freeUdpPort(): Promise<number> {
  const socket = createSocket({ type: 'udp6', ipv6Only: false });
  await new Promise<void>((resolve) => socket.bind(0, '::', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export class HubProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Without `--coaps-port` in `args`, the DTLS listener takes an ephemeral port (tests run side by side). */
  static async start(args: string[]): Promise<HubProcess> {
    const withCoaps = args.includes('--coaps-port') ? args : [...args, '--coaps-port', '0'];
    const hub = new HubProcess(spawn(process.execPath, [CLI, ...withCoaps], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const deadline = Date.now() + 15_000;
    while (!hub.output.includes('lwm2m-hub started')) {
      if (hub.child.exitCode !== null) throw new Error(`hub exited early:\n${hub.output}`);
      if (Date.now() > deadline) throw new Error(`hub did not start:\n${hub.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return hub;
  }

  get log(): string {
    return this.output;
  }

  async stop(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}
