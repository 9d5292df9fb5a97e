/**
 * Renders a Kustomize directory (deploy/k8s/…) the way `kubectl apply -k` would, for the subset
 * of Kustomize our manifests use: `resources` (files and directories) and `patches` given by
 * path, as strategic-merge patches. kubectl and kustomize are not installed here, and no cluster
 * exists. Anything outside that subset throws, so the renderer never silently differs from
 * Kustomize: a new field in a kustomization.yaml, or a patch whose list would merge by a key
 * other than `name`, fails the tests until this file learns it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } & Record<string, unknown> };

/** One rendered object and the file it came from (for messages). */
export interface RenderedObject {
  readonly manifest: Manifest;
  readonly source: string;
}

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'patches']);

/**
 * Lists merged element by element on `name` (their patchMergeKey in the Kubernetes API). Any
 * other list present in both a patch and its target would be replaced or merged by another key
 * by Kustomize: not supported here.
 */
const LISTS_MERGED_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts']);

export function readYamlDocuments(file: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true });
  return documents.map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
    return document.toJS() as unknown;
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asManifest(value: unknown, source: string): Manifest {
  if (!isRecord(value) || typeof value['apiVersion'] !== 'string' || typeof value['kind'] !== 'string') {
    throw new Error(`${source}: not a Kubernetes object (apiVersion and kind are required)`);
  }
  const metadata = value['metadata'];
  if (!isRecord(metadata) || typeof metadata['name'] !== 'string') throw new Error(`${source}: ${value['kind']} without metadata.name`);
  return value as Manifest;
}

export function identity(manifest: Manifest): string {
  return `${manifest.kind}/${manifest.metadata.name}`;
}

export interface Kustomization {
  readonly dir: string;
  readonly resources: readonly string[];
  readonly patches: readonly string[];
}

export function readKustomization(dir: string): Kustomization {
  const file = path.join(dir, 'kustomization.yaml');
  const [document, ...rest] = readYamlDocuments(file);
  if (!isRecord(document) || rest.length > 0) throw new Error(`${file}: one mapping expected`);
  for (const field of Object.keys(document)) {
    if (!KUSTOMIZATION_FIELDS.has(field)) throw new Error(`${file}: field "${field}" is not understood by test/deploy/kustomize.ts`);
  }
  if (document['kind'] !== 'Kustomization') throw new Error(`${file}: kind must be Kustomization`);
  const strings = (field: string) => {
    const value = document[field] ?? [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${file}: ${field} must be a list of paths`);
    return value as string[];
  };
  const patches = (document['patches'] ?? []) as unknown;
  if (!Array.isArray(patches)) throw new Error(`${file}: patches must be a list`);
  const patchPaths = patches.map((patch: unknown) => {
    if (!isRecord(patch) || typeof patch['path'] !== 'string' || Object.keys(patch).length !== 1) {
      throw new Error(`${file}: each patch must be {path: <file>} (targets and inline patches are not understood here)`);
    }
    return patch['path'];
  });
  return { dir, resources: strings('resources'), patches: patchPaths };
}

/** The objects `kubectl apply -k dir` would send, in order. */
export function renderKustomization(dir: string): RenderedObject[] {
  const kustomization = readKustomization(dir);
  const objects: RenderedObject[] = [];
  for (const resource of kustomization.resources) {
    const target = path.resolve(dir, resource);
    if (!existsSync(target)) throw new Error(`${dir}/kustomization.yaml: resource ${resource} does not exist`);
    const rendered = statSync(target).isDirectory()
      ? renderKustomization(target)
      : readYamlDocuments(target)
          .filter((d) => d !== null)
          .map((d) => ({ manifest: asManifest(d, target), source: target }));
    for (const object of rendered) {
      if (objects.some((o) => identity(o.manifest) === identity(object.manifest))) {
        throw new Error(`${dir}: ${identity(object.manifest)} is defined twice (Kustomize refuses that)`);
      }
      objects.push(object);
    }
  }
  for (const patchPath of kustomization.patches) {
    const file = path.resolve(dir, patchPath);
    if (!existsSync(file)) throw new Error(`${dir}/kustomization.yaml: patch ${patchPath} does not exist`);
    for (const document of readYamlDocuments(file)) {
      const patch = asManifest(document, file);
      const index = objects.findIndex((o) => identity(o.manifest) === identity(patch));
      if (index < 0) throw new Error(`${file}: patches ${identity(patch)}, which ${dir} does not have`);
      if (patch['$patch'] === 'delete') {
        objects.splice(index, 1);
        continue;
      }
      const current = objects[index] as RenderedObject;
      objects[index] = {
        manifest: strategicMerge(current.manifest, patch, identity(patch)) as Manifest,
        source: `${current.source} + ${file}`,
      };
    }
  }
  return objects;
}

/** Strategic merge for maps and for the name-keyed lists; `null` removes a key. */
function strategicMerge(target: unknown, patch: unknown, at: string): unknown {
  if (isRecord(target) && isRecord(patch)) {
    const merged: Record<string, unknown> = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (key === '$patch') throw new Error(`${at}: $patch is only understood at the top of a patch`);
      if (value === null) delete merged[key];
      else if (Array.isArray(merged[key]) && Array.isArray(value))
        merged[key] = mergeList(merged[key] as unknown[], value, key, `${at}.${key}`);
      else merged[key] = key in merged ? strategicMerge(merged[key], value, `${at}.${key}`) : value;
    }
    return merged;
  }
  return patch;
}

function mergeList(target: unknown[], patch: unknown[], key: string, at: string): unknown[] {
  if (!LISTS_MERGED_BY_NAME.has(key)) throw new Error(`${at}: a patch of this list is not understood by test/deploy/kustomize.ts`);
  const merged = [...target];
  for (const item of patch) {
    const name = isRecord(item) ? item['name'] : undefined;
    if (typeof name !== 'string') throw new Error(`${at}: every element needs a name`);
    const index = merged.findIndex((m) => isRecord(m) && m['name'] === name);
    if (index < 0) merged.push(item);
    else merged[index] = strategicMerge(merged[index], item, `${at}[${name}]`);
  }
  return merged;
}
