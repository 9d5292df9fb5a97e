/**
 * The one typed configuration of lwm2m-hub. Every option has a flag
 * (`--coap-port`) and an environment variable (`LWM2M_HUB_COAP_PORT`); a flag
 * wins over the variable, the variable over the default. Values are validated
 * at start and a bad one is reported in one line naming the option.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from './log.js';

export interface HubConfig {
  readonly coapHost: string;
  readonly coapPort: number;
  /** CoAP over DTLS 1.2 (PSK) port, on coapHost; undefined (`--coaps-port off`): no DTLS listener. */
  readonly coapsPort: number | undefined;
  /** Clients without a security entry may register over plain CoAP (a client with one must use DTLS). */
  readonly allowUnsecured: boolean;
  /** JSON file of PSK entries (`[{"endpoint", "identity", "key"}]`) put into the security store at start. */
  readonly securityFile: string | undefined;
  readonly httpHost: string;
  readonly httpPort: number;
  /** HTTP Basic credentials for the REST API, the event stream and the web page (all but /healthz). */
  readonly httpAuth: BasicCredentials | undefined;
  /** A bearer token accepted for the same routes (RFC 6750). */
  readonly httpToken: string | undefined;
  /** PEM certificate and key files: HTTPS instead of HTTP on httpPort (both or neither). */
  readonly httpTlsCert: string | undefined;
  readonly httpTlsKey: string | undefined;
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly dataDir: string | undefined;
  /** `file` by default when a data directory is given, else `memory`. */
  readonly store: 'memory' | 'file' | 'redis' | undefined;
  /** Redis for `--store redis`: registrations, observations and expiry shared by several instances. */
  readonly redisUrl: string | undefined;
  readonly objectsDir: string | undefined;
  readonly logLevel: LogLevel;
  /** Seconds a registration is kept past its lifetime before it expires. */
  readonly expiryGrace: number;
  /** RFC 7252 ACK_TIMEOUT in seconds. */
  readonly coapAckTimeout: number;
  readonly coapAckRandomFactor: number;
  readonly coapMaxRetransmit: number;
  /** Largest request body reassembled from Block1 pieces (RFC 7959); bigger ones get 4.13 with Size1. */
  readonly coapMaxBody: number;
  /** Block size we ask devices for (Block2 early negotiation) and send in (Block1); undefined: the device decides. */
  readonly coapBlockSize: number | undefined;
  /** Seconds a queue-mode client is taken to listen after a message from it. */
  readonly queueAwakeTime: number;
  /** Requests kept per sleeping queue-mode client. */
  readonly queueSize: number;
  /** Notifications and events kept for SSE `Last-Event-ID` resume. */
  readonly eventBuffer: number;
  /** MQTT over WebSocket port of the embedded broker; none when undefined. */
  readonly mqttWsPort: number | undefined;
  /** TLS port of the embedded broker (with mqttTlsCert and mqttTlsKey). */
  readonly mqttTlsPort: number;
  readonly mqttTlsCert: string | undefined;
  readonly mqttTlsKey: string | undefined;
  /** `user:password` pairs separated by commas, or `@file` of such lines (passwords may be scrypt hashes). */
  readonly mqttAuth: string | undefined;
  /** An external broker (mqtt:// or mqtts://): no embedded broker then. */
  readonly mqttUrl: string | undefined;
  readonly mqttPrefix: string;
  /** Also publish values under object and resource names (`lwm2m/{ep}/temperature/0/sensor-value`). */
  readonly mqttNames: boolean;
  readonly mqttCompat: 'none' | 'emqx';
  /** Messages kept while the external broker is unreachable. */
  readonly mqttBuffer: number;
  /** QoS of every message the hub publishes; a subscriber gets the lower of this and its own (MQTT 3.1.1 §3.8.4). */
  readonly mqttQos: 0 | 1;
  /** Paths observed on every registration, or `all-readable`. */
  readonly autoObserve: readonly string[];
}

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be a port number from 0 to 65535')
  .max(65535, 'must be a port number from 0 to 65535');
const host = z.string().min(1, 'must not be empty');
const optionalPath = z
  .string()
  .min(1, 'must not be empty')
  .optional();
const seconds = z.coerce.number({ error: 'must be a number' }).finite('must be a finite number').min(0, 'must not be negative');

const count = z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000');

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const pathList = z
  .string()
  .transform((v) => v.split(',').map((p) => p.trim()).filter((p) => p !== ''))
  .refine((paths) => paths.every((p) => p === 'all-readable' || /^\/?\d{1,5}(\/\d{1,5}){0,3}$/.test(p)), 'must be LwM2M paths separated by commas (/3303/0/5700), or all-readable');

/** `off` turns a listener off; otherwise a port as above. */
const portOrOff = z.union([z.literal('off').transform(() => undefined), port], { error: 'must be a port number from 0 to 65535, or off' });
// RFC 7617 §2: the user-id cannot contain a colon; the password may.
const basicCredentials = z
  .string()
  .regex(/^[^:]+:.+$/s, 'must be user:password (the user without ":", neither empty)')
  .transform((v): BasicCredentials => ({ user: v.slice(0, v.indexOf(':')), password: v.slice(v.indexOf(':') + 1) }));
const bearerToken = z
  .string()
  .min(16, 'must be at least 16 characters (e.g. openssl rand -hex 32)')
  // RFC 6750 §2.1 b64token: what a client can send after "Bearer " unquoted.
  .regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'must use only letters, digits and -._~+/ (then = padding)');

interface OptionSpec<K extends keyof HubConfig> {
  readonly key: K;
  readonly flag: string;
  readonly description: string;
  readonly default: HubConfig[K];
  readonly schema: z.ZodType<HubConfig[K]>;
  /** A switch: `--mqtt-names` alone means true. */
  readonly switch?: true;
  /** A credential: a bad value is reported without being echoed. */
  readonly secret?: true;
}

function option<K extends keyof HubConfig>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

/** Every option, in the order `--help` and the README list them. */
export const OPTIONS = [
  option({ key: 'coapHost', flag: 'coap-host', description: 'CoAP/UDP listen address (:: is IPv6 and IPv4 on one port)', default: '::', schema: host }),
  option({ key: 'coapPort', flag: 'coap-port', description: 'CoAP/UDP port for LwM2M clients', default: 5683, schema: port }),
  option({ key: 'coapsPort', flag: 'coaps-port', description: 'CoAP over DTLS (PSK) port for LwM2M clients, or off', default: 5684, schema: portOrOff }),
  option({ key: 'allowUnsecured', flag: 'allow-unsecured', description: 'clients without a security entry may register over plain CoAP', default: true, schema: flag }),
  option({ key: 'securityFile', flag: 'security-file', description: 'JSON file of PSK entries [{"endpoint","identity","key"}] loaded at start', default: undefined, schema: optionalPath }),
  option({ key: 'httpHost', flag: 'http-host', description: 'REST API listen address', default: '::', schema: host }),
  option({ key: 'httpPort', flag: 'http-port', description: 'REST API port', default: 8080, schema: port }),
  option({ key: 'httpAuth', flag: 'http-auth', description: 'user:password for HTTP Basic on the REST API and web page (not /healthz)', default: undefined, schema: basicCredentials.optional(), secret: true }),
  option({ key: 'httpToken', flag: 'http-token', description: 'bearer token accepted on the REST API and web page (not /healthz)', default: undefined, schema: bearerToken.optional(), secret: true }),
  option({ key: 'httpTlsCert', flag: 'http-tls-cert', description: 'PEM certificate file: HTTPS on the REST port (with --http-tls-key)', default: undefined, schema: optionalPath }),
  option({ key: 'httpTlsKey', flag: 'http-tls-key', description: 'PEM private key file for HTTPS', default: undefined, schema: optionalPath }),
  option({ key: 'mqttHost', flag: 'mqtt-host', description: 'embedded MQTT broker listen address', default: '::', schema: host }),
  option({ key: 'mqttPort', flag: 'mqtt-port', description: 'embedded MQTT broker port', default: 1883, schema: port }),
  option({ key: 'dataDir', flag: 'data-dir', description: 'directory for persistent state (registrations, observations)', default: undefined, schema: optionalPath }),
  option({ key: 'store', flag: 'store', description: 'registration store: memory, file or redis (default: file with --data-dir, else memory)', default: undefined, schema: z.enum(['memory', 'file', 'redis'], { error: 'must be memory, file or redis' }).optional() }),
  option({ key: 'redisUrl', flag: 'redis-url', description: 'Redis for --store redis (redis://host:6379/0)', default: undefined, schema: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional() }),
  option({ key: 'objectsDir', flag: 'objects-dir', description: 'directory of extra LwM2M object definitions (DDF XML)', default: undefined, schema: optionalPath }),
  option({ key: 'logLevel', flag: 'log-level', description: `log level: ${LOG_LEVELS.join(', ')}`, default: 'info', schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }) }),
  option({ key: 'expiryGrace', flag: 'expiry-grace', description: 'seconds a registration outlives its lifetime before it expires', default: 1, schema: seconds }),
  option({ key: 'coapAckTimeout', flag: 'coap-ack-timeout', description: 'CoAP ACK_TIMEOUT in seconds (RFC 7252 §4.8)', default: 2, schema: seconds.min(0.01, 'must be at least 0.01') }),
  option({ key: 'coapAckRandomFactor', flag: 'coap-ack-random-factor', description: 'CoAP ACK_RANDOM_FACTOR (RFC 7252 §4.8)', default: 1.5, schema: seconds.min(1, 'must be at least 1') }),
  option({ key: 'coapMaxRetransmit', flag: 'coap-max-retransmit', description: 'CoAP MAX_RETRANSMIT (RFC 7252 §4.8)', default: 4, schema: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(20, 'must be at most 20') }),
  option({ key: 'coapMaxBody', flag: 'coap-max-body', description: 'largest request body reassembled from Block1 pieces, in bytes', default: 65_536, schema: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1024, 'must be at least 1024').max(16 * 1024 * 1024, 'must be at most 16 MiB') }),
  option({ key: 'coapBlockSize', flag: 'coap-block-size', description: 'block size asked of devices and used for our requests: 16, 32, 64, 128, 256, 512 or 1024', default: undefined, schema: z.enum(['16', '32', '64', '128', '256', '512', '1024'], { error: 'must be 16, 32, 64, 128, 256, 512 or 1024' }).transform(Number).optional() }),
  option({ key: 'queueAwakeTime', flag: 'queue-awake-time', description: 'seconds a queue-mode client listens after it spoke (MAX_TRANSMIT_WAIT)', default: 93, schema: seconds }),
  option({ key: 'queueSize', flag: 'queue-size', description: 'requests kept per sleeping queue-mode client; the oldest is dropped when full', default: 10, schema: count }),
  option({ key: 'eventBuffer', flag: 'event-buffer', description: 'events kept for /api/events Last-Event-ID resume (while a stream is open, and 60 s after)', default: 1000, schema: count }),
  option({ key: 'mqttWsPort', flag: 'mqtt-ws-port', description: 'MQTT over WebSocket port of the embedded broker (off when unset)', default: undefined, schema: port.optional() }),
  option({ key: 'mqttTlsPort', flag: 'mqtt-tls-port', description: 'MQTT over TLS port of the embedded broker (needs --mqtt-tls-cert and --mqtt-tls-key)', default: 8883, schema: port }),
  option({ key: 'mqttTlsCert', flag: 'mqtt-tls-cert', description: 'PEM certificate file for the MQTT TLS listener', default: undefined, schema: optionalPath }),
  option({ key: 'mqttTlsKey', flag: 'mqtt-tls-key', description: 'PEM private key file for the MQTT TLS listener', default: undefined, schema: optionalPath }),
  option({ key: 'mqttAuth', flag: 'mqtt-auth', description: 'MQTT users: user:pass[,user:pass] or @file; anonymous when unset', default: undefined, schema: optionalPath }),
  option({ key: 'mqttUrl', flag: 'mqtt-url', description: 'external broker (mqtt://host:port or mqtts://…) instead of the embedded one', default: undefined, schema: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL').optional() }),
  option({ key: 'mqttPrefix', flag: 'mqtt-prefix', description: 'first level of every MQTT topic', default: 'lwm2m', schema: z.string().regex(/^[^#+\s]+$/, 'must be a topic level without wildcards or spaces') }),
  option({ key: 'mqttNames', flag: 'mqtt-names', description: 'also publish values under object and resource names', default: false, schema: flag, switch: true }),
  option({ key: 'mqttCompat', flag: 'mqtt-compat', description: 'topic layout: none (ours) or emqx (EMQX LwM2M gateway)', default: 'none', schema: z.enum(['none', 'emqx'], { error: 'must be none or emqx' }) }),
  option({ key: 'mqttBuffer', flag: 'mqtt-buffer', description: 'messages kept while the external broker is unreachable', default: 10_000, schema: count }),
  option({ key: 'mqttQos', flag: 'mqtt-qos', description: 'QoS of what the hub publishes: 0, or 1 for delivery acknowledged by each subscriber', default: 0, schema: z.enum(['0', '1'], { error: 'must be 0 or 1' }).transform((v) => (v === '1' ? 1 : 0)) }),
  option({ key: 'autoObserve', flag: 'auto-observe', description: 'paths observed on every registration (comma-separated), or all-readable', default: [], schema: pathList }),
] as const;

export const DEFAULT_CONFIG: HubConfig = Object.fromEntries(OPTIONS.map((o) => [o.key, o.default])) as unknown as HubConfig;

export function envName(flag: string): string {
  return `LWM2M_HUB_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type CliRequest = { readonly kind: 'run'; readonly config: HubConfig } | { readonly kind: 'help' } | { readonly kind: 'version' };

/** Reads flags and environment into a validated config. Throws ConfigError with one line naming the option. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliRequest {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: 'switch' in o ? ('boolean' as const) : ('string' as const) }])),
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (see --help)`);
  }
  if (values['help']) return { kind: 'help' };
  if (values['version']) return { kind: 'version' };

  const config: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const given = values[spec.flag];
    const fromFlag = given === true ? 'true' : given;
    const fromEnv = env[envName(spec.flag)];
    const raw = typeof fromFlag === 'string' ? fromFlag : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
    if (raw === undefined) {
      config[spec.key] = spec.default;
      continue;
    }
    const parsed = (spec.schema as z.ZodType).safeParse(raw);
    if (!parsed.success) {
      const source = typeof fromFlag === 'string' ? `--${spec.flag}` : envName(spec.flag);
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      const got = 'secret' in spec ? `a value of ${raw.length} characters, not shown` : `"${raw}"`;
      throw new ConfigError(`invalid ${source}: ${reason} (got ${got})`);
    }
    config[spec.key] = parsed.data;
  }
  return { kind: 'run', config: config as unknown as HubConfig };
}

export function helpText(): string {
  const lines = ['Usage: lwm2m-hub [options]', '', 'LwM2M server with a dual-stack CoAP listener and an embedded MQTT broker.', '', 'Options (each also read from the environment variable shown):'];
  for (const spec of OPTIONS) {
    const def = spec.default === undefined ? '' : ` [default: ${String(spec.default)}]`;
    lines.push(`  --${spec.flag}${'switch' in spec ? '' : ' <value>'}`.padEnd(34) + `${spec.description}${def}`);
    lines.push(' '.repeat(34) + envName(spec.flag));
  }
  lines.push('  -h, --help'.padEnd(34) + 'show this help', '  --version'.padEnd(34) + 'show the version');
  return lines.join('\n');
}
