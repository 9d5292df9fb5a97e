/**
 * Offline validation of Kubernetes objects against the API's OpenAPI schemas, as compiled by the
 * kubernetes-models package (Kubernetes 1.27 API). Those schemas accept fields they do not
 * define, where the API server (strict field validation) rejects them; so the validator runs on a
 * proxy that records every field it looks up, and a field it never looked at is reported as
 * unknown: `readinesProbe` fails here as it would in a cluster.
 */
import { validate as validateConfigMap } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap';
import { validate as validateService } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { validate as validateDeployment } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as validateStatefulSet } from 'kubernetes-models/_schemas/IoK8sApiAppsV1StatefulSet';
import { validate as validatePodDisruptionBudget } from 'kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget';
import type { Manifest } from './kustomize.js';

interface SchemaError {
  readonly instancePath: string;
  readonly message?: string;
}

/** The compiled (Ajv) validators keep the last run's errors on the function. */
type Validator = ((data: unknown) => boolean) & { errors?: readonly SchemaError[] | null };

const VALIDATORS: Record<string, Validator> = {
  'v1/ConfigMap': validateConfigMap,
  'v1/Service': validateService,
  'apps/v1/Deployment': validateDeployment,
  'apps/v1/StatefulSet': validateStatefulSet,
  'policy/v1/PodDisruptionBudget': validatePodDisruptionBudget,
};

/** Problems with one object: schema violations and unknown fields, each with its JSON path. */
export function schemaProblems(manifest: Manifest): string[] {
  const validate = VALIDATORS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!validate) return [`no schema here for ${manifest.apiVersion} ${manifest.kind}: add it to test/deploy/kubernetes-schema.ts`];
  const looked = new Set<string>();
  const valid = validate(recordLookups(manifest, '', looked));
  const problems = valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
  for (const field of fieldsNeverLooked(manifest, '', looked)) problems.push(`${field}: unknown field`);
  return problems;
}

function recordLookups(value: unknown, at: string, looked: Set<string>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string') return child;
      looked.add(`${at}/${key}`);
      return recordLookups(child, `${at}/${key}`, looked);
    },
  });
}

function fieldsNeverLooked(value: unknown, at: string, looked: Set<string>): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const field = `${at}/${key}`;
    return looked.has(field) ? fieldsNeverLooked(child, field, looked) : [field];
  });
}
