/**
 * The object definitions the server knows, and loading them from DDF folders.
 *
 * Shipped definitions live in `objects/` at the package root, one DDF file per
 * object named `<id>-<name>.xml` (`3-device.xml`, `3303-temperature.xml`).
 * Operators add or override definitions with extra folders (`--objects-dir`),
 * loaded after the shipped ones so that theirs win.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestFiles, readCachedModels } from './shipped-cache.js';
import type { ModelProvider, ObjectModel } from './object-model.js';

const PACKAGE_NAME = 'lwm2m-hub';

export interface ObjectLoadError {
  /** The file (or directory) that could not be used. */
  readonly file: string;
  readonly reason: string;
}

export type ObjectLoadErrorHandler = (error: ObjectLoadError) => void;

export interface ObjectsDirSummary {
  readonly dir: string;
  /** DDF files found, loaded or not. */
  readonly files: number;
  /** Object definitions added to the registry. */
  readonly objects: number;
  /** Files (or the directory itself) reported through the error handler. */
  readonly failed: number;
}

/**
 * Object definitions by id and version. Several versions of one object coexist
 * because clients announce the version they implement (`</3>;ver=1.1`, LwM2M
 * Core §6.2.1) and resources differ between versions.
 */
export class ObjectRegistry implements ModelProvider {
  readonly #objects = new Map<number, Map<string, ObjectModel>>();

  /** Adds a definition; one with the same id and version is replaced. */
  add(model: ObjectModel): void {
    let versions = this.#objects.get(model.id);
    if (versions === undefined) {
      versions = new Map();
      this.#objects.set(model.id, versions);
    }
    versions.set(model.version, model);
  }

  addAll(models: Iterable<ObjectModel>): void {
    for (const model of models) this.add(model);
  }

  /**
   * The definition of `version` when known, otherwise the highest version known:
   * a client on a newer or unknown version is better served by the closest
   * definition than by none, since resource ids keep their meaning across versions.
   */
  getObject(objectId: number, version?: string): ObjectModel | undefined {
    const versions = this.#objects.get(objectId);
    if (versions === undefined) return undefined;
    if (version !== undefined) {
      const exact = versions.get(version);
      if (exact !== undefined) return exact;
    }
    let highest: ObjectModel | undefined;
    for (const model of versions.values()) {
      if (highest === undefined || compareVersions(model.version, highest.version) > 0) highest = model;
    }
    return highest;
  }

  /** Versions known for an object, lowest first. */
  versions(objectId: number): string[] {
    return [...(this.#objects.get(objectId)?.keys() ?? [])].sort(compareVersions);
  }

  /** Every definition, all versions, by id then version. */
  list(): ObjectModel[] {
    return [...this.#objects.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([, versions]) => [...versions.values()].sort((a, b) => compareVersions(a.version, b.version)));
  }

  /** Number of definitions (id and version pairs). */
  get size(): number {
    let count = 0;
    for (const versions of this.#objects.values()) count += versions.size;
    return count;
  }
}

/** Numeric comparison of dotted versions, so that `1.10` sorts after `1.9`. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (Number.isNaN(difference)) return a.localeCompare(b);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Loads every `*.xml` DDF file under `dir` (sub-folders included, dot-entries
 * skipped) into `registry`. Files are applied in path order so that the
 * outcome does not depend on the file system. A file that cannot be read or
 * parsed is reported through `onError` and contributes nothing; a missing
 * directory is reported the same way. `dir` may also name a single DDF file.
 */
export async function loadObjectsDir(
  dir: string,
  registry: ObjectRegistry,
  onError: ObjectLoadErrorHandler,
): Promise<ObjectsDirSummary> {
  let files: string[];
  try {
    files = (await stat(dir)).isDirectory() ? await listDdfFilesIn(dir) : [dir];
  } catch (error) {
    onError({ file: dir, reason: `cannot read objects directory: ${errorMessage(error)}` });
    return { dir, files: 0, objects: 0, failed: 1 };
  }

  const results = await Promise.all(files.map(async (file) => ({ file, result: await loadFile(file) })));
  let objects = 0;
  let failed = 0;
  for (const { file, result } of results) {
    if (typeof result === 'string') {
      failed++;
      onError({ file, reason: result });
    } else {
      registry.addAll(result);
      objects += result.length;
    }
  }
  return { dir, files: files.length, objects, failed };
}

/** Models of one file, or the reason it is unusable. */
async function loadFile(file: string): Promise<ObjectModel[] | string> {
  let text: string;
  try {
    text = decodeXml(await readFile(file));
  } catch (error) {
    return `cannot read file: ${errorMessage(error)}`;
  }
  // The XML parser is loaded on first need: with the build's cache, a start needs none.
  const { DdfError, parseDdf } = await import('./ddf-loader.js');
  try {
    return parseDdf(text, file);
  } catch (error) {
    return error instanceof DdfError ? error.reason : errorMessage(error);
  }
}

/** DDF files are UTF-8 (with or without BOM) in practice; a UTF-16 BOM is honoured rather than misread. */
function decodeXml(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  return new TextDecoder('utf-8').decode(bytes);
}

/** DDF files under `dir`, sorted by path (the order objects are applied and digested in). */
export async function listDdfFilesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(current, entry.name);
      // Symbolic links are followed: operators link definitions in from elsewhere. A dangling
      // link named *.xml is kept so that the read error reaches onError instead of vanishing.
      const isDirectory = entry.isSymbolicLink()
        ? await stat(full).then((target) => target.isDirectory(), () => false)
        : entry.isDirectory();
      if (isDirectory) await walk(full);
      else if (entry.name.toLowerCase().endsWith('.xml')) found.push(full);
    }
  };
  await walk(dir);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The package root: the nearest folder above this module whose package.json is
 * ours. Walking up rather than counting levels keeps it right from `src/model/`
 * (vitest), `dist/model/` (tsc build) and any other output layout.
 */
export function findPackageRoot(start: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; ) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && readPackageName(manifest) === PACKAGE_NAME) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // Not found (e.g. bundled without package.json): both src/model/ and dist/model/ sit two levels down.
  return path.resolve(start, '..', '..');
}

function readPackageName(manifest: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string'
      ? parsed.name
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `objects/` folder shipped with the package. */
export function shippedObjectsDir(): string {
  return path.join(findPackageRoot(), 'objects');
}

/**
 * A registry with the shipped definitions, then each of `extraDirs` in order
 * (each adds objects or overrides the same id and version). Never throws on bad
 * files or folders: they go to `onError`.
 */
export async function createDefaultRegistry(
  extraDirs: readonly string[],
  onError: ObjectLoadErrorHandler,
): Promise<ObjectRegistry> {
  const registry = new ObjectRegistry();
  await loadShippedObjects(registry, onError);
  for (const dir of extraDirs) {
    await loadObjectsDir(dir, registry, onError);
  }
  return registry;
}

/** Where `npm run build` puts the parsed shipped definitions (src/model/shipped-cache.ts). */
export function shippedObjectsCache(): string {
  return path.join(findPackageRoot(), 'dist', 'objects.json');
}

/** The shipped definitions: from the build's cache when it matches the files, parsed otherwise. */
async function loadShippedObjects(registry: ObjectRegistry, onError: ObjectLoadErrorHandler): Promise<void> {
  const dir = shippedObjectsDir();
  try {
    const digest = await digestFiles(dir, await listDdfFilesIn(dir));
    const cached = await readCachedModels(shippedObjectsCache(), digest);
    if (cached) {
      registry.addAll(cached);
      return;
    }
  } catch {
    // Unreadable folder: loadObjectsDir reports it.
  }
  await loadObjectsDir(dir, registry, onError);
}
