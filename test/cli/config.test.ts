import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, envName, helpText, loadConfig, OPTIONS } from '../../src/config.js';

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const request = loadConfig(argv, env);
  if (request.kind !== 'run') throw new Error(`expected a run request, got ${request.kind}`);
  return request.config;
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    expect(run([])).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ coapPort: 5683, coapHost: '::', httpPort: 8080, mqttPort: 1883, logLevel: 'info' });
  });

  it('reads every option from a flag and from its environment variable, the flag winning', () => {
    expect(run(['--coap-port', '5700'], { LWM2M_HUB_COAP_PORT: '5800' }).coapPort).toBe(5700);
    expect(run([], { LWM2M_HUB_COAP_PORT: '5800' }).coapPort).toBe(5800);
    expect(run(['--log-level=debug']).logLevel).toBe('debug');
    expect(run([], { LWM2M_HUB_DATA_DIR: '/var/lib/hub' }).dataDir).toBe('/var/lib/hub');
    for (const option of OPTIONS) expect(envName(option.flag)).toMatch(/^LWM2M_HUB_[A-Z0-9_]+$/);
  });

  const bad: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--coap-port', '70000'], {}, /--coap-port: must be a port number from 0 to 65535 \(got "70000"\)/],
    [['--http-port', 'eighty'], {}, /--http-port: must be a number/],
    [[], { LWM2M_HUB_MQTT_PORT: '-1' }, /LWM2M_HUB_MQTT_PORT: must be a port number/],
    [['--log-level', 'loud'], {}, /--log-level: must be one of fatal, error, warn, info, debug, trace, silent/],
    [['--coap-port', '1.5'], {}, /--coap-port: must be a whole number/],
    [['--no-such-option'], {}, /Unknown option '--no-such-option'/],
  ];
  for (const [argv, env, message] of bad) {
    it(`refuses ${argv.join(' ') || JSON.stringify(env)} with one line naming the option`, () => {
      let error: unknown;
      try {
        loadConfig(argv, env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    });
  }

  it('lists every option and its variable in --help', () => {
    expect(loadConfig(['--help'])).toEqual({ kind: 'help' });
    const help = helpText();
    for (const option of OPTIONS) {
      expect(help).toContain(`--${option.flag}`);
      expect(help).toContain(envName(option.flag));
    }
  });
});
