#!/usr/bin/env node
/** `lwm2m-hub [options]`: start the hub, stop it cleanly on SIGTERM/SIGINT. */
import { ConfigError, helpText, loadConfig } from './config.js';
import { startHub, VERSION } from './hub.js';
import { createLogger } from './log.js';

/** A graceful stop that has not finished by then is cut short: orchestrators wait little longer. */
const STOP_DEADLINE_MS = 2000;

async function main(): Promise<number | undefined> {
  let request;
  try {
    request = loadConfig(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`lwm2m-hub: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (request.kind === 'help') {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (request.kind === 'version') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const logger = createLogger(request.config.logLevel);
  let hub;
  try {
    hub = await startHub(request.config, logger);
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    process.stderr.write(`lwm2m-hub: cannot start: ${err.message}\n`);
    return 1;
  }
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'stopping');
    setTimeout(() => {
      logger.warn('graceful stop took too long, exiting');
      process.exit(0);
    }, STOP_DEADLINE_MS).unref();
    void hub.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lwm2m-hub: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
