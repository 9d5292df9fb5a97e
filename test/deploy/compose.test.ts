/**
 * deploy/compose: well-formed Compose files whose services, ports, IPv6 network, health checks
 * and hub configuration hold together. No container engine runs here, so `docker compose
 * config` cannot; these are the checks it would make that matter to us, and a few it would not.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, loadConfig, OPTIONS, type HubConfig } from '../../src/config.js';
import { imageEnvironment, readDockerfile, REPO_ROOT } from './dockerfile.js';
import { isRecord, readYamlDocuments } from './kustomize.js';

const COMPOSE = path.join(REPO_ROOT, 'deploy/compose');

interface ComposeFile {
  readonly services: Record<string, Record<string, unknown>>;
  readonly networks: Record<string, Record<string, unknown>>;
  readonly volumes: Record<string, unknown>;
}

function readCompose(name: string): ComposeFile {
  const documents = readYamlDocuments(path.join(COMPOSE, name));
  expect(documents).toHaveLength(1);
  const [compose] = documents;
  if (!isRecord(compose) || !isRecord(compose['services'])) throw new Error(`${name}: no services`);
  const services = compose['services'];
  for (const [service, definition] of Object.entries(services))
    if (!isRecord(definition)) throw new Error(`${name}: service ${service} is not a mapping`);
  return {
    services: services as Record<string, Record<string, unknown>>,
    networks: (isRecord(compose['networks']) ? compose['networks'] : {}) as Record<string, Record<string, unknown>>,
    volumes: isRecord(compose['volumes']) ? compose['volumes'] : {},
  };
}

/** `"5683:5683/udp"` → `5683/udp` (the published host side, with its protocol). */
function published(service: Record<string, unknown>): string[] {
  const ports = Array.isArray(service['ports']) ? service['ports'] : [];
  return ports.map((port) => {
    const match = /^(?:[\d.:[\]]+:)?(\d+):(\d+)(\/(udp|tcp))?$/.exec(String(port));
    if (!match) throw new Error(`not a short-form port: ${String(port)}`);
    return `${match[1]}/${match[4] ?? 'tcp'}`;
  });
}

function hubConfig(service: Record<string, unknown>): HubConfig {
  const environment = service['environment'];
  if (!isRecord(environment)) throw new Error('the hub takes its options as an environment mapping');
  const known = new Set(OPTIONS.map((o) => envName(o.flag)));
  for (const name of Object.keys(environment)) expect(known, `${name} is not an option`).toContain(name);
  const request = loadConfig([], { ...imageEnvironment(readDockerfile()), ...(environment as Record<string, string>) });
  if (request.kind !== 'run') throw new Error('not a run request');
  return request.config;
}

function checkCommon(compose: ComposeFile, file: string): void {
  const hub = compose.services['lwm2m-hub'];
  expect(hub, file).toBeDefined();
  expect(at(hub, 'build', 'context'), file).toBe('../..');
  expect(existsSync(path.resolve(COMPOSE, String(at(hub, 'build', 'context')), 'Dockerfile'))).toBe(true);

  // IPv6 on the network every service joins: the default one.
  expect(at(compose.networks, 'default', 'enable_ipv6'), file).toBe(true);
  const subnets = (at(compose.networks, 'default', 'ipam', 'config') as unknown[]).map((c) => String(at(c, 'subnet')));
  expect(
    subnets.some((s) => /^fd[0-9a-f]{2}:.*\/64$/.test(s)),
    file,
  ).toBe(true);
  for (const [name, service] of Object.entries(compose.services))
    expect(service['networks'], `${file}: ${name} leaves the default network`).toBeUndefined();

  for (const [name, service] of Object.entries(compose.services)) {
    const test = at(service, 'healthcheck', 'test');
    expect(Array.isArray(test) && test[0] === 'CMD', `${file}: ${name} has an exec-form health check`).toBe(true);
    expect(service['restart'], `${file}: ${name}`).toBe('unless-stopped');
    for (const volume of Array.isArray(service['volumes']) ? service['volumes'] : []) {
      const [source] = String(volume).split(':');
      if (source?.startsWith('.')) expect(existsSync(path.resolve(COMPOSE, source)), `${file}: ${name} mounts ${source}`).toBe(true);
      else expect(compose.volumes, `${file}: ${name} uses volume ${source}`).toHaveProperty(String(source));
    }
  }
  expect((at(hub, 'healthcheck', 'test') as string[]).join(' ')).toContain('/healthz');
}

function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}

describe('Compose files (deploy/compose)', () => {
  it('compose.yaml runs the hub alone: embedded broker, file store on a volume, CoAP/UDP, MQTT and HTTP published', () => {
    const compose = readCompose('compose.yaml');
    checkCommon(compose, 'compose.yaml');
    expect(Object.keys(compose.services)).toEqual(['lwm2m-hub']);
    const hub = compose.services['lwm2m-hub'] as Record<string, unknown>;
    expect(published(hub)).toEqual(['5683/udp', '5684/udp', '1883/tcp', '8080/tcp']);
    const config = hubConfig(hub);
    expect(config.store).toBe('file');
    expect(config.mqttUrl).toBeUndefined();
    expect(hub['volumes']).toContain(`hub-data:${String(config.dataDir)}`);
  });

  it('compose.redis.yaml runs the hub on Redis with an external Mosquitto, and starts it after both are healthy', () => {
    const compose = readCompose('compose.redis.yaml');
    checkCommon(compose, 'compose.redis.yaml');
    expect(Object.keys(compose.services).sort()).toEqual(['lwm2m-hub', 'mosquitto', 'redis']);
    const hub = compose.services['lwm2m-hub'] as Record<string, unknown>;
    const config = hubConfig(hub);
    expect(config.store).toBe('redis');
    expect(new URL(String(config.redisUrl)).hostname).toBe('redis');
    expect(new URL(String(config.mqttUrl)).hostname).toBe('mosquitto');
    expect(at(hub, 'depends_on', 'redis', 'condition')).toBe('service_healthy');
    expect(at(hub, 'depends_on', 'mosquitto', 'condition')).toBe('service_healthy');

    // 1883 is the broker's now; the hub runs none.
    expect(published(hub)).toEqual(['5683/udp', '5684/udp', '8080/tcp']);
    expect(published(compose.services['mosquitto'] as Record<string, unknown>)).toEqual(['1883/tcp']);
    expect(compose.services['redis']?.['ports']).toBeUndefined();
  });
});
