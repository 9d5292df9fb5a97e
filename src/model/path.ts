/**
 * LwM2M paths: `/`, `/3`, `/3/0`, `/3/0/9`, `/3/0/7/1`.
 *
 * A path is a tuple of 0 to 4 ids so that it compares, serialises and
 * destructures without ceremony: `const [objectId, instanceId] = path`.
 */
export type RootPath = readonly [];
export type ObjectPath = readonly [objectId: number];
export type ObjectInstancePath = readonly [objectId: number, instanceId: number];
export type ResourcePath = readonly [objectId: number, instanceId: number, resourceId: number];
export type ResourceInstancePath = readonly [
  objectId: number,
  instanceId: number,
  resourceId: number,
  resourceInstanceId: number,
];
export type Lwm2mPath = RootPath | ObjectPath | ObjectInstancePath | ResourcePath | ResourceInstancePath;

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance';

const LEVELS: readonly PathLevel[] = ['root', 'object', 'instance', 'resource', 'resourceInstance'];

/** LwM2M Core §7.1: ids are 16-bit; instance id 65535 (MAX_ID) is reserved. */
const MAX_ID = 65535;

export class PathError extends Error {
  override readonly name = 'PathError';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid LwM2M path "${input}": ${reason}`);
  }
}

/** Parses `/3/0/9` (leading slash optional, as old clients write `3/0`). Throws PathError. */
export function parsePath(input: string): Lwm2mPath {
  const trimmed = input.startsWith('/') ? input.slice(1) : input;
  if (trimmed === '') return [];
  const segments = trimmed.endsWith('/') ? trimmed.slice(0, -1).split('/') : trimmed.split('/');
  if (segments.length > 4) throw new PathError(input, 'more than 4 segments');
  const ids = segments.map((segment, level) => {
    if (!/^(0|[1-9][0-9]{0,4})$/.test(segment)) {
      throw new PathError(input, `segment "${segment}" is not a decimal id`);
    }
    const id = Number(segment);
    if (id > MAX_ID) throw new PathError(input, `id ${id} is above ${MAX_ID}`);
    if (level === 1 && id === MAX_ID) throw new PathError(input, 'object instance id 65535 is reserved');
    return id;
  });
  return ids as unknown as Lwm2mPath;
}

/** Like parsePath but returns undefined instead of throwing. */
export function tryParsePath(input: string): Lwm2mPath | undefined {
  try {
    return parsePath(input);
  } catch {
    return undefined;
  }
}

export function formatPath(path: Lwm2mPath): string {
  return '/' + path.join('/');
}

export function pathLevel(path: Lwm2mPath): PathLevel {
  return LEVELS[path.length] as PathLevel;
}

export function pathsEqual(a: Lwm2mPath, b: Lwm2mPath): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** True when `ancestor` is `path` or one of its parents (`/3` contains `/3/0/1`). */
export function pathStartsWith(path: Lwm2mPath, ancestor: Lwm2mPath): boolean {
  return ancestor.length <= path.length && ancestor.every((id, i) => id === path[i]);
}
