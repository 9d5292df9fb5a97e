/**
 * Where observations live, so that after a restart a notification with a known
 * token is recognised (LwM2M devices keep notifying across our restarts; without
 * their tokens we would reset them and the values would stop).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Observation } from '../lwm2m/observation/observation-service.js';
import { AppendLog, type CorruptRecord } from './append-log.js';

/** What is kept of an observation: everything but the freshness state, which starts over. */
export type StoredObservation = Omit<Observation, 'lastSequence' | 'lastReceivedAt'>;

export interface ObservationStore {
  add(observation: StoredObservation): Promise<void>;
  remove(id: string): Promise<void>;
  /** One observation by token id: how an instance recognises a notification for an observation another instance made. */
  get(id: string): Promise<StoredObservation | undefined>;
  list(): Promise<StoredObservation[]>;
  close(): Promise<void>;
}

export class MemoryObservationStore implements ObservationStore {
  protected readonly byId = new Map<string, StoredObservation>();

  async add(observation: StoredObservation): Promise<void> {
    this.byId.set(observation.id, observation);
  }

  async remove(id: string): Promise<void> {
    this.byId.delete(id);
  }

  async get(id: string): Promise<StoredObservation | undefined> {
    return this.byId.get(id);
  }

  async list(): Promise<StoredObservation[]> {
    return [...this.byId.values()];
  }

  async close(): Promise<void> {}
}

type ObservationRecord = { op: 'put'; observation: StoredObservation } | { op: 'remove'; id: string };

export const OBSERVATIONS_LOG = 'observations.log';

/** Observations in an append-only log beside the registrations, compacted when it outgrows the live set. */
export class FileObservationStore extends MemoryObservationStore {
  private constructor(
    private readonly log: AppendLog<ObservationRecord>,
    private readonly logger: Logger | undefined,
  ) {
    super();
  }

  static async open(
    dataDir: string,
    options: { logger?: Logger; onCorrupt?: (problem: CorruptRecord) => void } = {},
  ): Promise<FileObservationStore> {
    await mkdir(dataDir, { recursive: true });
    const live = new Map<string, StoredObservation>();
    const log = await AppendLog.open<ObservationRecord>(path.join(dataDir, OBSERVATIONS_LOG), {
      replay: (record) => {
        if (record.op === 'put') live.set(record.observation.id, record.observation);
        else live.delete(record.id);
      },
      onCorrupt: options.onCorrupt ?? ((problem) => options.logger?.warn({ ...problem }, 'damaged observation record skipped')),
    });
    const store = new FileObservationStore(log, options.logger);
    for (const observation of live.values()) store.byId.set(observation.id, observation);
    return store;
  }

  // Memory and log change in the same synchronous step, so the log's order is the order of the changes.
  override async add(observation: StoredObservation): Promise<void> {
    this.byId.set(observation.id, observation);
    const durable = this.log.append({ op: 'put', observation });
    this.compactIfLarge();
    await durable;
  }

  override async remove(id: string): Promise<void> {
    if (!this.byId.delete(id)) return;
    const durable = this.log.append({ op: 'remove', id });
    this.compactIfLarge();
    await durable;
  }

  override async close(): Promise<void> {
    await this.log.close();
  }

  private compactIfLarge(): void {
    this.log.compactWhenLarge(
      this.byId.size,
      1000,
      () => [...this.byId.values()].map((observation) => ({ op: 'put' as const, observation })),
      (error) => this.logger?.error({ err: error }, 'observation log compaction failed'),
    );
  }
}
