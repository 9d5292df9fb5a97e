/**
 * The image's production install, repeated outside Docker (there is no container engine or
 * registry here): the Dockerfile's `deps` and final stages are executed instruction by
 * instruction into a fresh directory (the same COPY sources, the same `npm ci --omit=dev`, the
 * same ENV), the `build` stage being this checkout after `npm run build` (which `npm test` runs
 * first). Then the ENTRYPOINT runs as the image's USER with its configuration from environment
 * variables only, and must answer /healthz and the HEALTHCHECK, keep a registration in /data,
 * and exit 0 within 5 s of SIGTERM. Container paths are rebased onto the directory of their
 * stage, so a RUN with an absolute path, or any instruction this file does not know, fails the
 * test rather than touching the machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCode } from '../../src/coap/codes.js';
import { envName, OPTIONS } from '../../src/config.js';
import { TestClient } from '../support/coap-client.js';
import { freeTcpPort, freeUdpPort } from '../support/hub-process.js';
import { execForm, finalStage, parseCopy, parseEnv, readDockerfile, REPO_ROOT, type Stage } from './dockerfile.js';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;
/** As root we switch to the image's USER; as anyone else we already are a non-root user. */
const userSwitch = isRoot ? SETPRIV : 'self';
const SIGTERM_EXIT_LIMIT_MS = 5000;

interface ReproducedStage {
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  readonly user: string | undefined;
  readonly entrypoint: readonly string[];
  readonly healthcheck: readonly string[];
}

const stages = readDockerfile();
let scratch = '';
const reproduced = new Map<string, ReproducedStage>();

/** A container path of a stage, on this machine. The build stage is this checkout, built. */
function hostPath(stageName: string, containerPath: string): string {
  if (!path.posix.isAbsolute(containerPath)) throw new Error(`not an absolute container path: ${containerPath}`);
  if (stageName === 'build') {
    if (!containerPath.startsWith('/app/')) throw new Error(`the build stage is this checkout at /app: ${containerPath}`);
    return path.join(REPO_ROOT, containerPath.slice('/app/'.length));
  }
  const stage = reproduced.get(stageName);
  if (!stage) throw new Error(`stage ${stageName} is used before it was reproduced`);
  return path.join(stage.root, containerPath);
}

function numericUser(user: string): { uid: number; gid: number } {
  const match = /^(\d+):(\d+)$/.exec(user);
  if (!match) throw new Error(`USER ${user}: a numeric uid:gid is what Kubernetes' runAsNonRoot can verify`);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

function chownTree(target: string, owner: { uid: number; gid: number }): void {
  chownSync(target, owner.uid, owner.gid);
  if (statSync(target).isDirectory()) for (const entry of readdirSync(target)) chownTree(path.join(target, entry), owner);
}

async function reproduce(stage: Stage, key: string): Promise<ReproducedStage> {
  const root = path.join(scratch, key);
  mkdirSync(root, { recursive: true });
  const state = {
    root,
    workdir: '/',
    env: {} as Record<string, string>,
    user: undefined as string | undefined,
    entrypoint: [] as string[],
    healthcheck: [] as string[],
  };
  reproduced.set(key, state);
  const inStage = (containerPath: string) => path.join(root, path.posix.resolve(state.workdir, containerPath));
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'WORKDIR':
        state.workdir = path.posix.resolve(state.workdir, instruction.args);
        mkdirSync(inStage('.'), { recursive: true });
        break;
      case 'COPY': {
        const copy = parseCopy(instruction);
        const destination = inStage(copy.destination);
        for (const source of copy.sources) {
          const from = copy.from === undefined ? path.join(REPO_ROOT, source) : hostPath(copy.from, source);
          // Docker copies a directory's contents, and a file into a destination ending in "/".
          const target =
            statSync(from).isFile() && copy.destination.endsWith('/') ? path.join(destination, path.basename(from)) : destination;
          cpSync(from, target, { recursive: true, verbatimSymlinks: true });
          if (copy.chown !== undefined && isRoot) chownTree(target, numericUser(copy.chown));
        }
        break;
      }
      case 'RUN': {
        if (stage === finalStage(stages))
          throw new Error(`RUN in the final stage needs emulation for other architectures: ${instruction.args}`);
        if (/(^|[\s=])\//.test(instruction.args)) throw new Error(`RUN with an absolute path is not reproduced here: ${instruction.args}`);
        // prefer-offline: tarballs already in npm's cache are taken without asking the registry
        // again; the lock file's integrity hashes fix what is installed either way.
        await promisify(execFile)('sh', ['-c', instruction.args], {
          cwd: inStage('.'),
          env: { ...process.env, npm_config_prefer_offline: 'true', ...state.env },
          maxBuffer: 16 * 1024 * 1024,
        });
        break;
      }
      case 'ENV':
        Object.assign(state.env, parseEnv(instruction));
        break;
      case 'USER':
        state.user = instruction.args;
        break;
      case 'ENTRYPOINT':
        state.entrypoint = execForm(instruction.args);
        break;
      case 'HEALTHCHECK':
        state.healthcheck = execForm(instruction.args.slice(instruction.args.indexOf('CMD ') + 'CMD '.length));
        break;
      case 'EXPOSE':
      case 'VOLUME':
        break;
      default:
        throw new Error(`Dockerfile instruction ${instruction.keyword} is not reproduced by this test`);
    }
  }
  return state;
}

/** Files that would make a dependency architecture-specific: compiled addons and their build recipes. */
function nativeAddons(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...nativeAddons(file));
    else if (entry.name === 'binding.gyp' || entry.name.endsWith('.node')) found.push(file);
    else if (entry.name === 'package.json') {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { gypfile?: boolean; scripts?: Record<string, string> };
      // Only the scripts npm runs at install time (a package's test scripts may build native code for its own tests).
      const scripts = ['preinstall', 'install', 'postinstall'].map((name) => manifest.scripts?.[name] ?? '').join(' ');
      if (manifest.gypfile === true || /node-gyp|prebuild-install|node-pre-gyp/.test(scripts)) found.push(file);
    }
  }
  return found;
}

function started(child: ChildProcess): { output: () => string; exited: Promise<number | null> } {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { output: () => output, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

describe('production install (the Dockerfile without Docker)', () => {
  let image: ReproducedStage;

  beforeAll(async () => {
    if (!existsSync(path.join(REPO_ROOT, 'dist/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
    scratch = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-image-'));
    // The image's user must reach the files below, as in the image.
    chmodSync(scratch, 0o755);
    for (const stage of stages) if (stage.name !== 'build') image = await reproduce(stage, stage.name ?? 'image');
  }, 180_000);

  afterAll(() => {
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  it('installs the production dependencies, none of them a native addon (the image is built for amd64, arm64 and arm/v7 by copying)', () => {
    const nodeModules = hostPath('image', '/app/node_modules');
    expect(existsSync(path.join(nodeModules, 'fastify'))).toBe(true);
    expect(existsSync(path.join(nodeModules, 'typescript')), 'a dev dependency in the image').toBe(false);
    expect(nativeAddons(nodeModules)).toEqual([]);
    expect(nativeAddons(hostPath('image', '/app/vendor'))).toEqual([]);
  });

  it('runs as a non-root user configured by environment alone: /healthz and the HEALTHCHECK answer, /data keeps a registration, SIGTERM exits 0 within 5 s', async (context) => {
    if (userSwitch === undefined)
      return context.skip('running as root without setpriv (util-linux): no way to start the hub as the image user');
    const { uid, gid } = numericUser(String(image.user));
    expect(uid).toBeGreaterThan(0);

    // The image's ENV, its container paths rebased here; ports picked free for each listener.
    const env: Record<string, string> = { PATH: String(process.env['PATH']) };
    for (const [name, value] of Object.entries(image.env)) env[name] = value.startsWith('/') ? hostPath('image', value) : value;
    for (const option of OPTIONS.filter((o) => o.flag.endsWith('-port') && typeof o.default === 'number')) {
      env[envName(option.flag)] = String(option.flag.startsWith('coap') ? await freeUdpPort() : await freeTcpPort());
    }
    env['LWM2M_HUB_LOG_LEVEL'] = 'info';
    const asImageUser = (argv: readonly string[]) => {
      const [program = '', ...rest] = argv;
      const command = [program === 'node' ? process.execPath : program, ...rest];
      const wrapped =
        userSwitch === 'self' ? command : [String(userSwitch), `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...command];
      return spawn(wrapped[0] as string, wrapped.slice(1), {
        cwd: hostPath('image', image.workdir),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    };

    const hubProcess = asImageUser(image.entrypoint);
    const hub = started(hubProcess);
    context.onTestFinished(() => {
      if (hubProcess.exitCode === null && hubProcess.signalCode === null) hubProcess.kill('SIGKILL');
    });
    const healthz = `http://127.0.0.1:${env['LWM2M_HUB_HTTP_PORT']}/healthz`;
    let health: { status?: string; version?: string } | undefined;
    const deadline = Date.now() + 30_000;
    while (health === undefined) {
      if (hubProcess.exitCode !== null) throw new Error(`the hub exited:\n${hub.output()}`);
      if (Date.now() > deadline) throw new Error(`no /healthz answer:\n${hub.output()}`);
      health = await fetch(healthz).then(
        async (r) => (r.ok ? ((await r.json()) as typeof health) : undefined),
        () => undefined,
      );
      if (health === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(health.status).toBe('ok');
    expect(health.version).toBe((JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);

    // The shipped object definitions (objects/) are there: the Device object has its name.
    const device = (await fetch(`http://127.0.0.1:${env['LWM2M_HUB_HTTP_PORT']}/api/objects/3`).then((r) => r.json())) as { name?: string };
    expect(device.name).toBe('Device');

    const healthcheck = started(asImageUser(image.healthcheck));
    expect(await healthcheck.exited, healthcheck.output()).toBe(0);

    const client = await TestClient.connect(Number(env['LWM2M_HUB_COAP_PORT']), 6);
    try {
      const { response } = await client.register(['ep=production-install', 'lt=60', 'lwm2m=1.1', 'b=U']);
      expect(formatCode(response.code)).toBe('2.01');
    } finally {
      await client.close();
    }
    const registrations = path.join(String(env['LWM2M_HUB_DATA_DIR']), 'registrations.log');
    expect(readFileSync(registrations, 'utf8')).toContain('"production-install"');
    if (isRoot) expect(statSync(registrations).uid).toBe(uid);

    // setpriv executes the program in its own process: the signal reaches node itself, as PID 1 gets it in a container.
    const signalled = Date.now();
    hubProcess.kill('SIGTERM');
    const code = await Promise.race([
      hub.exited,
      new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), SIGTERM_EXIT_LIMIT_MS).unref()),
    ]);
    expect(code, `exit after SIGTERM (${Date.now() - signalled} ms):\n${hub.output()}`).toBe(0);
    expect(hub.output()).toContain('"msg":"stopped"');
  }, 60_000);
});
