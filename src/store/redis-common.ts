/**
 * What the Redis stores share and what others need of them without loading the
 * Redis client: ioredis is imported only when `--store redis` is chosen (it is a
 * tenth of the start-up time otherwise).
 */

export const DEFAULT_KEY_PREFIX = 'lwm2m-hub:';

/** The URL as it may appear in logs and errors: the password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');
  }
}
