/**
 * The Dockerfile's stages, checked statically (no container engine here): the production
 * install itself is proven by production-install.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execForm, finalStage, imageEnvironment, parseCopy, readDockerfile, REPO_ROOT, stageNamed, type Stage } from './dockerfile.js';

const stages = readDockerfile();
const image = finalStage(stages);
const text = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

function args(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** .dockerignore patterns as our file uses them: names and simple globs, matched against a path's first segment. */
function ignoredByDockerignore(source: string): boolean {
  const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const first = source.replace(/^\.\//, '').split('/')[0] ?? '';
  return patterns.some((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(first));
}

describe('Dockerfile', () => {
  it('documents the multi-arch build for amd64, arm64 and arm/v7', () => {
    expect(text).toMatch(/docker buildx build --platform linux\/amd64,linux\/arm64,linux\/arm\/v7 /);
  });

  it('builds and installs production dependencies on the build platform, so no target needs emulation', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', undefined]);
    for (const name of ['build', 'deps']) expect(stageNamed(stages, name).platform).toBe('$BUILDPLATFORM');
    expect(image.platform).toBeUndefined();
    expect(args(image, 'RUN')).toEqual([]);
    expect(args(stageNamed(stages, 'deps'), 'RUN').join(' ')).toMatch(/\bnpm ci --omit=dev\b/);
  });

  it('ships production dependencies only, the built JavaScript and the object definitions', () => {
    const copies = image.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy);
    expect(copies.find((c) => c.destination === './node_modules')?.from).toBe('deps');
    expect(copies.find((c) => c.destination === './dist')).toMatchObject({ from: 'build', sources: ['/app/dist'] });
    const fromContext = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    expect(fromContext).toEqual(expect.arrayContaining(['package.json', 'NOTICE', 'objects', 'vendor']));
  });

  it('gives the build stage every script that `npm run build` runs', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const used = [...(manifest.scripts['build'] ?? '').matchAll(/\bnode (scripts\/\S+)/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    const copied = stageNamed(stages, 'build')
      .instructions.filter((i) => i.keyword === 'COPY')
      .map(parseCopy)
      .flatMap((c) => c.sources);
    for (const script of used) expect(copied, script).toContain(script);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy)) {
        if (copy.from !== undefined) continue;
        for (const source of copy.sources) {
          expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
          expect(ignoredByDockerignore(source), `${source} is in .dockerignore`).toBe(false);
        }
      }
    }
  });

  it('runs as a numeric non-root user with its data in the /data volume', () => {
    expect(args(image, 'USER')).toEqual(['1000:1000']);
    expect(args(image, 'VOLUME')).toEqual(['/data']);
    expect(imageEnvironment(stages)).toMatchObject({ NODE_ENV: 'production', LWM2M_HUB_DATA_DIR: '/data' });
    const data = image.instructions
      .filter((i) => i.keyword === 'COPY')
      .map(parseCopy)
      .find((c) => c.destination === '/data');
    expect(data?.chown).toBe('1000:1000');
  });

  it('checks /healthz, and starts node as PID 1 so it receives SIGTERM itself', () => {
    const [healthcheck] = args(image, 'HEALTHCHECK');
    const command = /\bCMD (\[.*\])$/.exec(String(healthcheck))?.[1];
    expect(execForm(String(command)).join(' ')).toContain('/healthz');
    expect(args(image, 'EXPOSE')).toEqual(['5683/udp 5684/udp 1883 8080']);
    expect(execForm(String(args(image, 'ENTRYPOINT')[0]))).toEqual(['node', 'dist/cli.js']);
    expect(args(image, 'CMD')).toEqual([]);
  });
});
