/** A LogFs over the real file system that counts syncs and writes, and fails them on demand. */
import { nodeLogFs, type LogFileHandle, type LogFs } from '../../../src/store/append-log.js';

export interface CountingFs extends LogFs {
  readonly counts: { writes: number; syncs: number };
  /** The next write to a file whose path ends with this writes `partial` bytes (default none) and then fails. */
  failNextWrite(suffix: string, partial?: number): void;
  /** The next datasync/sync of a file whose path ends with this fails. */
  failNextSync(suffix: string): void;
  failNextRename(): void;
}

export function countingFs(): CountingFs {
  const counts = { writes: 0, syncs: 0 };
  let writeFailure: { suffix: string; partial: number } | undefined;
  let syncFailure: string | undefined;
  let renameFailure = false;
  const io = (message: string, code: string) => Object.assign(new Error(message), { code });
  return {
    counts,
    failNextWrite: (suffix, partial = 0) => (writeFailure = { suffix, partial }),
    failNextSync: (suffix) => (syncFailure = suffix),
    failNextRename: () => (renameFailure = true),
    async open(file, flags) {
      const real = await nodeLogFs.open(file, flags);
      const handle: LogFileHandle = {
        read: (buffer, offset, length, position) => real.read(buffer, offset, length, position),
        async write(buffer, offset, length, position) {
          counts.writes++;
          if (writeFailure && file.endsWith(writeFailure.suffix)) {
            const { partial } = writeFailure;
            writeFailure = undefined;
            if (partial > 0) await real.write(buffer, offset, Math.min(partial, length), position);
            throw io('ENOSPC: no space left on device, write', 'ENOSPC');
          }
          return real.write(buffer, offset, length, position);
        },
        async datasync() {
          counts.syncs++;
          if (syncFailure !== undefined && file.endsWith(syncFailure)) {
            syncFailure = undefined;
            throw io('EIO: i/o error, fsync', 'EIO');
          }
          return real.datasync();
        },
        async sync() {
          counts.syncs++;
          if (syncFailure !== undefined && file.endsWith(syncFailure)) {
            syncFailure = undefined;
            throw io('EIO: i/o error, fsync', 'EIO');
          }
          return real.sync();
        },
        truncate: (length) => real.truncate(length),
        stat: () => real.stat(),
        close: () => real.close(),
      };
      return handle;
    },
    async rename(from, to) {
      if (renameFailure) {
        renameFailure = false;
        throw io('EXDEV: cross-device link not permitted, rename', 'EXDEV');
      }
      return nodeLogFs.rename(from, to);
    },
    rm: (file, options) => nodeLogFs.rm(file, options),
  };
}
