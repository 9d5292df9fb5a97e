/**
 * deploy/k8s: every kustomization rendered offline (test/deploy/kustomize.ts), every object
 * validated against the Kubernetes schemas, and the promises of docs/deploy.md checked on the
 * rendered objects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envName, loadConfig, OPTIONS, type HubConfig } from '../../src/config.js';
import { imageEnvironment, readDockerfile, REPO_ROOT } from './dockerfile.js';
import { schemaProblems } from './kubernetes-schema.js';
import { identity, isRecord, readKustomization, renderKustomization, type Manifest } from './kustomize.js';

const K8S = path.join(REPO_ROOT, 'deploy/k8s');
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const HUB_LABELS = { 'app.kubernetes.io/name': 'lwm2m-hub', 'app.kubernetes.io/component': 'server' };

/** Measured (README, docs/deploy.md): idle resident memory, and resident memory at 100 000 clients (upper figure). */
const IDLE_RSS_BYTES = 100e6;
const RSS_AT_100K_CLIENTS_BYTES = 450e6;
/** The CLI exits at most this long after SIGTERM (src/cli.ts STOP_DEADLINE_MS). */
const STOP_DEADLINE_SECONDS = 2;

const kustomizations = readdirSync(K8S, { recursive: true, encoding: 'utf8' })
  .filter((file) => path.basename(file) === 'kustomization.yaml')
  .map((file) => path.dirname(file))
  .sort();
const rendered = new Map(kustomizations.map((dir) => [dir, renderKustomization(path.join(K8S, dir))]));

function objectsOf(dir: string): Manifest[] {
  const objects = rendered.get(dir);
  if (!objects) throw new Error(`no kustomization ${dir}`);
  return objects.map((o) => o.manifest);
}

function find(objects: readonly Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} missing`);
  return found;
}

/** Deep property access for assertions on plain YAML data. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys)
    current = isRecord(current) || Array.isArray(current) ? (current as Record<string | number, unknown>)[key] : undefined;
  return current;
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet']);

function podTemplate(workload: Manifest): Record<string, unknown> {
  const template = at(workload, 'spec', 'template');
  if (!isRecord(template)) throw new Error(`${identity(workload)} has no pod template`);
  return template;
}

function selects(selector: unknown, labels: unknown): boolean {
  return (
    isRecord(selector) &&
    Object.keys(selector).length > 0 &&
    isRecord(labels) &&
    Object.entries(selector).every(([k, v]) => labels[k] === v)
  );
}

function hubWorkloads(objects: readonly Manifest[]): Manifest[] {
  return objects.filter((o) => WORKLOAD_KINDS.has(o.kind) && selects(HUB_LABELS, at(podTemplate(o), 'metadata', 'labels')));
}

function hubContainer(workload: Manifest): Record<string, unknown> {
  const container = records(at(podTemplate(workload), 'spec', 'containers')).find((c) => c['name'] === 'lwm2m-hub');
  if (!container) throw new Error(`${identity(workload)} has no lwm2m-hub container`);
  return container;
}

/** Kubernetes quantities in bytes (512Mi, 1Gi, 640M). */
function bytes(quantity: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity));
  if (!match) throw new Error(`not a memory quantity: ${String(quantity)}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}

/** What the hub process sees: the image's ENV, then the ConfigMaps of envFrom, then env. */
function hubEnvironment(objects: readonly Manifest[], workload: Manifest): Record<string, string> {
  const container = hubContainer(workload);
  const environment: Record<string, string> = { ...imageEnvironment(readDockerfile()) };
  for (const source of records(container['envFrom'])) {
    if (isRecord(source['configMapRef'])) {
      const data = at(find(objects, 'ConfigMap', String(at(source, 'configMapRef', 'name'))), 'data');
      Object.assign(environment, isRecord(data) ? data : {});
    } else {
      // Secrets are the operator's (credentials): an optional one that is not part of the manifests adds nothing here.
      const name = String(at(source, 'secretRef', 'name'));
      expect(at(source, 'secretRef', 'optional'), `secret ${name}`).toBe(true);
      expect(objects.some((o) => o.kind === 'Secret' && o.metadata.name === name)).toBe(false);
    }
  }
  for (const variable of records(container['env'])) environment[String(variable['name'])] = String(variable['value']);
  return environment;
}

function hubConfig(objects: readonly Manifest[], workload: Manifest): HubConfig {
  const environment = hubEnvironment(objects, workload);
  const known = new Set(OPTIONS.map((o) => envName(o.flag)));
  for (const name of Object.keys(environment).filter((n) => n.startsWith('LWM2M_HUB_')))
    expect(known, `${name} is not an option`).toContain(name);
  let request;
  try {
    request = loadConfig([], environment);
  } catch (error) {
    throw new Error(`${identity(workload)}: ${error instanceof ConfigError ? error.message : String(error)}`);
  }
  if (request.kind !== 'run') throw new Error('not a run request');
  return request.config;
}

/** The Service a URL's host names, and the workload behind it. */
function serviceBehind(objects: readonly Manifest[], url: string | undefined): { service: Manifest; workloads: Manifest[] } {
  const host = new URL(String(url)).hostname;
  const service = find(objects, 'Service', host);
  const workloads = objects.filter(
    (o) => WORKLOAD_KINDS.has(o.kind) && selects(at(service, 'spec', 'selector'), at(podTemplate(o), 'metadata', 'labels')),
  );
  return { service, workloads };
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('has a base, the overlays single and ha, and the placement examples', () => {
    expect(kustomizations).toEqual(
      expect.arrayContaining([
        'base',
        'overlays/single',
        'overlays/ha',
        'examples/pin-to-arch',
        'examples/next-to-border-router',
        'examples/gateway-host-network',
      ]),
    );
  });

  it('renders every kustomization into objects that validate against the Kubernetes schemas', () => {
    for (const [dir, objects] of rendered) {
      expect(objects.length, dir).toBeGreaterThan(0);
      for (const { manifest, source } of objects)
        expect(schemaProblems(manifest), `${dir}: ${identity(manifest)} from ${source}`).toEqual([]);
    }
  });

  it('uses every YAML file under deploy/k8s as a resource or a patch', () => {
    const used = new Set<string>();
    for (const dir of kustomizations) {
      const kustomization = readKustomization(path.join(K8S, dir));
      used.add(path.join(K8S, dir, 'kustomization.yaml'));
      for (const file of [...kustomization.resources, ...kustomization.patches]) used.add(path.resolve(K8S, dir, file));
    }
    const yamlFiles = readdirSync(K8S, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.yaml') || file.endsWith('.yml'))
      .map((file) => path.join(K8S, file));
    expect(yamlFiles.filter((file) => !used.has(file))).toEqual([]);
  });

  it('points every Service at pods that have the ports it names, with the same protocol', () => {
    for (const [dir, objects] of rendered) {
      for (const service of objects.map((o) => o.manifest).filter((o) => o.kind === 'Service')) {
        const pods = objects
          .map((o) => o.manifest)
          .filter((o) => WORKLOAD_KINDS.has(o.kind) && selects(at(service, 'spec', 'selector'), at(podTemplate(o), 'metadata', 'labels')));
        expect(pods.length, `${dir}: pods behind ${identity(service)}`).toBeGreaterThan(0);
        for (const port of records(at(service, 'spec', 'ports'))) {
          for (const pod of pods) {
            const containerPorts = records(at(podTemplate(pod), 'spec', 'containers')).flatMap((c) => records(c['ports']));
            const target = port['targetPort'] ?? port['port'];
            const match = containerPorts.find((p) => (typeof target === 'string' ? p['name'] === target : p['containerPort'] === target));
            expect(match, `${dir}: ${identity(service)} port ${String(port['name'])} in ${identity(pod)}`).toBeDefined();
            expect(match?.['protocol'] ?? 'TCP').toBe(port['protocol'] ?? 'TCP');
          }
        }
      }
    }
  });

  it('serves CoAP over UDP (5683, and 5684 for DTLS) from a dual-stack Service that keeps the client address', () => {
    for (const dir of ['base', 'overlays/single', 'overlays/ha']) {
      const objects = objectsOf(dir);
      const coap = find(objects, 'Service', 'lwm2m-hub-coap');
      expect(at(coap, 'spec', 'type'), dir).toBe('LoadBalancer');
      expect(at(coap, 'spec', 'externalTrafficPolicy'), dir).toBe('Local');
      expect(at(coap, 'spec', 'ipFamilyPolicy'), dir).toBe('PreferDualStack');
      const ports = records(at(coap, 'spec', 'ports')).map((p) => `${String(p['port'])}/${String(p['protocol'])}`);
      expect(ports, dir).toEqual(['5683/UDP', '5684/UDP']);
      expect(selects(at(coap, 'spec', 'selector'), HUB_LABELS), dir).toBe(true);
      for (const [name, port] of [
        ['lwm2m-hub-mqtt', '1883/TCP'],
        ['lwm2m-hub-http', '8080/TCP'],
      ] as const) {
        const service = find(objects, 'Service', name);
        expect(at(service, 'spec', 'ipFamilyPolicy'), `${dir} ${name}`).toBe('PreferDualStack');
        expect(records(at(service, 'spec', 'ports')).map((p) => `${String(p['port'])}/${String(p['protocol'])}`)).toEqual([port]);
      }
    }
  });

  it('probes /healthz, runs the hub as a non-root user on a read-only root, and sizes memory from the measured figures', () => {
    for (const [dir] of rendered) {
      const objects = objectsOf(dir);
      const hubs = hubWorkloads(objects);
      expect(hubs.length, dir).toBe(1);
      for (const hub of hubs) {
        const container = hubContainer(hub);
        const where = `${dir}: ${identity(hub)}`;
        expect(container['image'], where).toBe(`lwm2m-hub:${VERSION}`);
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          expect(at(container, probe, 'httpGet', 'path'), `${where} ${probe}`).toBe('/healthz');
          expect(at(container, probe, 'httpGet', 'port'), `${where} ${probe}`).toBe('http');
        }
        const pod = at(podTemplate(hub), 'spec');
        expect(at(pod, 'securityContext', 'runAsNonRoot'), where).toBe(true);
        expect(at(pod, 'securityContext', 'runAsUser'), where).toBe(1000);
        expect(at(container, 'securityContext', 'allowPrivilegeEscalation'), where).toBe(false);
        expect(at(container, 'securityContext', 'readOnlyRootFilesystem'), where).toBe(true);
        expect(at(container, 'securityContext', 'capabilities', 'drop'), where).toEqual(['ALL']);
        expect(
          records(container['volumeMounts']).map((m) => m['mountPath']),
          where,
        ).toContain('/data');

        const request = bytes(at(container, 'resources', 'requests', 'memory'));
        const limit = bytes(at(container, 'resources', 'limits', 'memory'));
        expect(request, where).toBeGreaterThan(2 * IDLE_RSS_BYTES);
        expect(limit, where).toBeGreaterThan(RSS_AT_100K_CLIENTS_BYTES * 1.25);
        // V8's heap cap sits below the container limit, so the hub collects garbage before the OOM killer acts.
        const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(hubEnvironment(objects, hub)['NODE_OPTIONS'] ?? '')?.[1]);
        expect(heapMiB * 2 ** 20, where).toBeLessThan(limit * 0.8);
        expect(heapMiB * 2 ** 20, where).toBeGreaterThan(RSS_AT_100K_CLIENTS_BYTES / 2);
      }
    }
  });

  it('runs every other pod (Redis, Mosquitto) as non-root with probes too', () => {
    for (const [dir] of rendered) {
      for (const workload of objectsOf(dir).filter((o) => WORKLOAD_KINDS.has(o.kind))) {
        const where = `${dir}: ${identity(workload)}`;
        expect(at(podTemplate(workload), 'spec', 'securityContext', 'runAsNonRoot'), where).toBe(true);
        for (const container of records(at(podTemplate(workload), 'spec', 'containers'))) {
          expect(at(container, 'securityContext', 'allowPrivilegeEscalation'), where).toBe(false);
          expect(container['readinessProbe'], where).toBeDefined();
          expect(container['livenessProbe'], where).toBeDefined();
          expect(at(container, 'resources', 'limits', 'memory'), where).toBeDefined();
        }
      }
    }
  });

  it('gives every hub a valid configuration: only known LWM2M_HUB_* variables, values lwm2m-hub accepts', () => {
    for (const [dir] of rendered) {
      const objects = objectsOf(dir);
      for (const hub of hubWorkloads(objects)) expect(() => hubConfig(objects, hub), dir).not.toThrow();
    }
  });

  it('rolls the Deployment with maxUnavailable 0, and drains each old pod before it stops', () => {
    for (const dir of ['base', 'overlays/ha', 'examples/pin-to-arch']) {
      const deployment = find(objectsOf(dir), 'Deployment', 'lwm2m-hub');
      expect(at(deployment, 'spec', 'strategy', 'type'), dir).toBe('RollingUpdate');
      expect(at(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable'), dir).toBe(0);
      expect(at(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxSurge'), dir).toBeGreaterThanOrEqual(1);
      const preStop = at(hubContainer(deployment), 'lifecycle', 'preStop', 'exec', 'command');
      expect(preStop, dir).toEqual(['sleep', expect.stringMatching(/^\d+$/)]);
      const drainSeconds = Number((preStop as string[])[1]);
      expect(drainSeconds, dir).toBeGreaterThanOrEqual(5);
      expect(at(podTemplate(deployment), 'spec', 'terminationGracePeriodSeconds'), dir).toBeGreaterThan(
        drainSeconds + STOP_DEADLINE_SECONDS,
      );
    }
  });

  it('single: one StatefulSet writing the file store on a persistent volume, its container as in the base', () => {
    const objects = objectsOf('overlays/single');
    expect(objects.some((o) => o.kind === 'Deployment')).toBe(false);
    const statefulSet = find(objects, 'StatefulSet', 'lwm2m-hub');
    expect(at(statefulSet, 'spec', 'replicas')).toBe(1);
    find(objects, 'Service', String(at(statefulSet, 'spec', 'serviceName')));
    const claim = records(at(statefulSet, 'spec', 'volumeClaimTemplates')).find((c) => at(c, 'metadata', 'name') === 'data');
    expect(at(claim, 'spec', 'accessModes')).toEqual(['ReadWriteOnce']);
    expect(records(at(podTemplate(statefulSet), 'spec', 'volumes')).some((v) => v['name'] === 'data')).toBe(false);
    const config = hubConfig(objects, statefulSet);
    expect(config.store).toBe('file');
    expect(config.dataDir).toBe('/data');
    expect(config.mqttUrl).toBeUndefined();
    expect(at(podTemplate(statefulSet), 'spec', 'terminationGracePeriodSeconds')).toBeGreaterThan(STOP_DEADLINE_SECONDS);

    // Everything but the drain (no other pod takes over here) matches the base Deployment.
    const { lifecycle: _drain, ...container } = hubContainer(statefulSet);
    const { lifecycle: _baseDrain, ...baseContainer } = hubContainer(find(objectsOf('base'), 'Deployment', 'lwm2m-hub'));
    expect(container).toEqual(baseContainer);
    const {
      terminationGracePeriodSeconds: _grace,
      volumes: _volumes,
      ...pod
    } = at(podTemplate(statefulSet), 'spec') as Record<string, unknown>;
    const {
      terminationGracePeriodSeconds: _baseGrace,
      volumes: _baseVolumes,
      ...basePod
    } = at(podTemplate(find(objectsOf('base'), 'Deployment', 'lwm2m-hub')), 'spec') as Record<string, unknown>;
    expect({ ...pod, containers: [] }).toEqual({ ...basePod, containers: [] });
  });

  it('ha: two or more instances on Redis (a StatefulSet) and one broker, with a disruption budget', () => {
    const objects = objectsOf('overlays/ha');
    const deployment = find(objects, 'Deployment', 'lwm2m-hub');
    const replicas = Number(at(deployment, 'spec', 'replicas'));
    expect(replicas).toBeGreaterThanOrEqual(2);

    const budget = find(objects, 'PodDisruptionBudget', 'lwm2m-hub');
    expect(selects(at(budget, 'spec', 'selector', 'matchLabels'), at(podTemplate(deployment), 'metadata', 'labels'))).toBe(true);
    const maxUnavailable = at(budget, 'spec', 'maxUnavailable');
    const minAvailable = at(budget, 'spec', 'minAvailable');
    expect(maxUnavailable === 1 || (typeof minAvailable === 'number' && minAvailable >= 1 && minAvailable < replicas)).toBe(true);

    const config = hubConfig(objects, deployment);
    expect(config.store).toBe('redis');
    const redis = serviceBehind(objects, config.redisUrl);
    expect(redis.workloads.map((w) => `${w.kind}:${String(at(podTemplate(w), 'spec', 'containers', 0, 'image'))}`)).toEqual([
      expect.stringMatching(/^StatefulSet:redis:/),
    ]);
    const broker = serviceBehind(objects, config.mqttUrl);
    expect(broker.workloads.map((w) => String(at(podTemplate(w), 'spec', 'containers', 0, 'image')))).toEqual([
      expect.stringMatching(/^eclipse-mosquitto:/),
    ]);
    // MQTT clients of the cluster reach that broker through the same Service name as with one instance.
    expect(identity(broker.service)).toBe('Service/lwm2m-hub-mqtt');
  });

  it('shows how to pin the hub by architecture, next to a border router, or in a gateway host network', () => {
    const pinned = find(objectsOf('examples/pin-to-arch'), 'Deployment', 'lwm2m-hub');
    expect(['amd64', 'arm64', 'arm']).toContain(at(podTemplate(pinned), 'spec', 'nodeSelector', 'kubernetes.io/arch'));

    const near = find(objectsOf('examples/next-to-border-router'), 'StatefulSet', 'lwm2m-hub');
    const [term] = records(at(podTemplate(near), 'spec', 'affinity', 'podAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'));
    expect(term?.['topologyKey']).toBe('kubernetes.io/hostname');

    const gatewayObjects = objectsOf('examples/gateway-host-network');
    const gateway = find(gatewayObjects, 'StatefulSet', 'lwm2m-hub');
    expect(at(podTemplate(gateway), 'spec', 'hostNetwork')).toBe(true);
    expect(at(podTemplate(gateway), 'spec', 'dnsPolicy')).toBe('ClusterFirstWithHostNet');
    expect(at(podTemplate(gateway), 'spec', 'nodeSelector', 'kubernetes.io/hostname')).toBeDefined();
    expect(gatewayObjects.some((o) => identity(o) === 'Service/lwm2m-hub-coap')).toBe(false);
  });
});
