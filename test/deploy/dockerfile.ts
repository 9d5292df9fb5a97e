/**
 * The Dockerfile read into stages and instructions, for the static checks and for the
 * production-install test that repeats its steps without a container engine.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Instruction {
  /** Upper case: FROM, COPY, RUN… */
  readonly keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  readonly args: string;
}

export interface Stage {
  readonly name: string | undefined;
  readonly image: string;
  /** `--platform=` of the FROM line, if any. */
  readonly platform: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface CopyInstruction {
  readonly from: string | undefined;
  readonly chown: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export function readDockerfile(file = `${REPO_ROOT}Dockerfile`): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: { name: string | undefined; image: string; platform: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const words = rest.filter((w) => !w.startsWith('--'));
      const platform = rest.find((w) => w.startsWith('--platform='))?.slice('--platform='.length);
      const image = words[0];
      if (!image) throw new Error(`Dockerfile: FROM without an image: ${line}`);
      stages.push({ image, platform, name: words[1]?.toUpperCase() === 'AS' ? words[2] : undefined, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${instruction.keyword} before FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

export function parseCopy(instruction: Instruction): CopyInstruction {
  const words = instruction.args.split(/\s+/);
  const flag = (name: string) => words.find((w) => w.startsWith(`--${name}=`))?.slice(name.length + 3);
  const paths = words.filter((w) => !w.startsWith('--'));
  const destination = paths.pop();
  if (!destination || paths.length === 0) throw new Error(`Dockerfile: COPY needs sources and a destination: ${instruction.args}`);
  return { from: flag('from'), chown: flag('chown'), sources: paths, destination };
}

/** `["node", "dist/cli.js"]`: the exec form, which makes the program PID 1 and gives it SIGTERM. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`Dockerfile: not an exec form: ${args}`);
  return parsed as string[];
}

/** `ENV A=1 B=2` (the key=value form; values without spaces). */
export function parseEnv(instruction: Instruction): Record<string, string> {
  return Object.fromEntries(
    instruction.args.split(/\s+/).map((pair) => {
      const equals = pair.indexOf('=');
      if (equals <= 0) throw new Error(`Dockerfile: ENV in the key=value form expected: ${instruction.args}`);
      return [pair.slice(0, equals), pair.slice(equals + 1)];
    }),
  );
}

export function finalStage(stages: readonly Stage[]): Stage {
  const stage = stages.at(-1);
  if (!stage) throw new Error('Dockerfile: no stage');
  return stage;
}

export function stageNamed(stages: readonly Stage[], name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`Dockerfile: no stage named ${name}`);
  return stage;
}

/** The environment the image starts with (ENV of the final stage). */
export function imageEnvironment(stages: readonly Stage[]): Record<string, string> {
  return Object.assign(
    {},
    ...finalStage(stages)
      .instructions.filter((i) => i.keyword === 'ENV')
      .map(parseEnv),
  ) as Record<string, string>;
}
