import type { EntityManager } from '@mikro-orm/postgresql';
import type { Prediction } from '../entities/prediction';
import type { Segmentation } from '../entities/segmentation';

export type ResultRow = Record<string, unknown> & { id: string; imageId: string };

interface Waiting {
  row: ResultRow;
  resolve: (storedId: string) => void;
  reject: (e: unknown) => void;
}

/**
 * Stores a batch job's results with group commit: the rows that arrive while a write is in flight
 * go together in the next one, and each write is a single statement that inserts them and moves
 * the job row on (progress, stage, the result ids so far). At low load every row is written at
 * once; under load a job costs one statement per group of images instead of two per image.
 *
 * A row another attempt already stored for the same image of the job (a worker that lost its lock
 * and kept going) is not inserted; `store` then resolves with that row's id instead.
 */
export class BatchResultWriter {
  private waiting: Waiting[] = [];
  private writing = false;
  /** image id -> result id, for every image with a stored result. */
  readonly stored: Map<string, string>;

  constructor(
    private readonly em: EntityManager,
    private readonly entity: typeof Prediction | typeof Segmentation,
    private readonly job: { id: string; imageIds: readonly string[] },
    alreadyStored: ReadonlyMap<string, string>,
  ) {
    this.stored = new Map(alreadyStored);
  }

  /** Resolves, once the row (or an earlier attempt's row for its image) is in the database, with its id. */
  store(row: ResultRow): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.kick();
    });
  }

  /** The result ids so far, in the order of the job's images. */
  resultIds(): string[] {
    return this.job.imageIds.map((id) => this.stored.get(id)).filter((x): x is string => !!x);
  }

  private kick(): void {
    if (this.writing || this.waiting.length === 0) return;
    this.writing = true;
    const group = this.waiting.splice(0);
    void this.write(group).finally(() => {
      this.writing = false;
      this.kick();
    });
  }

  private async write(group: Waiting[]): Promise<void> {
    try {
      const rows = group.map((w) => w.row);
      // Assume every row lands; a row that conflicts is corrected below, and the job's last update
      // writes the final result ids anyway.
      const landing = new Map(this.stored);
      for (const r of rows) if (!landing.has(r.imageId)) landing.set(r.imageId, r.id);
      const resultIds = this.job.imageIds.map((id) => landing.get(id)).filter((x): x is string => !!x);
      const knex = this.em.getConnection().getKnex();
      const insert = this.em.createQueryBuilder(this.entity).insert(rows as never).getKnexQuery().onConflict(['job_id', 'image_id']).ignore().returning(['id']);
      const inserted = (await this.em.execute(
        knex.raw(
          `with stored as (?), job as (update inference_jobs set progress = greatest(progress, ?), stage = 'persisted', result_ids = ?, updated_at = now() where id = ?) select id from stored`,
          [insert, resultIds.length / this.job.imageIds.length, JSON.stringify(resultIds), this.job.id],
        ),
      )) as Array<{ id: string }>;
      const landed = new Set(inserted.map((r) => r.id));
      const lost = rows.filter((r) => !landed.has(r.id));
      if (lost.length) {
        const existing = (await this.em.execute(`select id, image_id from ${this.em.getMetadata(this.entity).tableName} where job_id = ? and image_id = any(?::uuid[])`, [
          this.job.id,
          `{${lost.map((r) => r.imageId).join(',')}}`,
        ])) as Array<{ id: string; image_id: string }>;
        for (const e of existing) this.stored.set(e.image_id, e.id);
      }
      for (const r of rows) if (landed.has(r.id)) this.stored.set(r.imageId, r.id);
      for (const w of group) {
        const id = this.stored.get(w.row.imageId);
        if (id) w.resolve(id);
        else w.reject(new Error(`result of image ${w.row.imageId} was neither stored nor found`));
      }
    } catch (e) {
      for (const w of group) w.reject(e);
    }
  }
}
