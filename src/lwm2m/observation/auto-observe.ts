/**
 * Auto-observe (`--auto-observe`): observe configured paths on every new
 * registration, so that values flow to MQTT with no manual step — what the
 * EMQX set-up this replaces was used for.
 */
import type { Logger } from 'pino';
import type { EventBus } from '../../events.js';
import type { ModelProvider } from '../../model/object-model.js';
import { formatPath, parsePath, type Lwm2mPath } from '../../model/path.js';
import type { DeviceApi } from '../device-api.js';
import type { Registration } from '../registration/registration.js';

export const ALL_READABLE = 'all-readable';

/** Objects never observed by `all-readable`: Security holds keys, Server and Access Control are management data. */
const NOT_AUTO_OBSERVED: ReadonlySet<number> = new Set([0, 1, 2]);

/** The paths to observe for a registration: the configured ones the client has, or every instance it lists. */
export function pathsToObserve(registration: Registration, configured: readonly string[], model: ModelProvider): Lwm2mPath[] {
  if (configured.includes(ALL_READABLE)) {
    return registration.objectLinks
      .filter((link) => link.path.length === 2 && !NOT_AUTO_OBSERVED.has(link.path[0] as number))
      .filter((link) => {
        const object = model.getObject(link.path[0] as number);
        return object === undefined || [...object.resources.values()].some((r) => r.operations.includes('R'));
      })
      .map((link) => link.path);
  }
  return configured
    .map((text) => parsePath(text))
    .filter((path) =>
      registration.objectLinks.some((link) => link.path[0] === path[0] && (link.path.length === 1 || path.length === 1 || link.path[1] === path[1])),
    );
}

export function startAutoObserve(options: { paths: readonly string[]; events: EventBus; devices: DeviceApi; model: ModelProvider; logger: Logger }): () => void {
  if (options.paths.length === 0) return () => {};
  return options.events.on('registered', ({ registration }) => {
    void (async () => {
      // One after the other: a constrained device handles one request at a time best.
      for (const path of pathsToObserve(registration, options.paths, options.model)) {
        try {
          const result = await options.devices.observe(registration.endpoint, path);
          if (!result.success) options.logger.info({ endpoint: registration.endpoint, path: formatPath(path), code: result.code }, 'auto-observe refused');
        } catch (error) {
          options.logger.warn({ endpoint: registration.endpoint, path: formatPath(path), err: error }, 'auto-observe failed');
        }
      }
    })();
  });
}
