/** `syncwright records`: stored records of a resource, keys in numeric order where they are numbers. */
import { sql } from 'kysely';
import type { Db } from '../store/db.js';
import type { RecordScope } from '../store/records.js';

export interface RecordPage {
  rows: { key: string; data: unknown; deletedAt: Date | null }[];
  /** Records in the scope (with the deleted ones when they are included). */
  total: number;
}

/** A key of digits (optionally signed, with a fraction) orders as a number: 2 before 10. */
const NUMERIC_KEY = '^-?[0-9]+(\\.[0-9]+)?$';

export async function readRecords(
  db: Db,
  scope: RecordScope,
  opts: { limit: number | null; includeDeleted: boolean },
): Promise<RecordPage> {
  let query = db
    .selectFrom('records')
    .where('integration', '=', scope.integration)
    .where('connection', '=', scope.connection)
    .where('resource', '=', scope.resource);
  if (!opts.includeDeleted) query = query.where('deleted_at', 'is', null);
  let rows = query
    .select(['record_key', 'data', 'deleted_at'])
    // Numbers first, by value; other keys after them, as text.
    .orderBy(sql`case when record_key ~ ${NUMERIC_KEY} then record_key::numeric end`, (o) =>
      o.asc().nullsLast(),
    )
    .orderBy('record_key');
  if (opts.limit !== null) rows = rows.limit(opts.limit);
  const [found, count] = await Promise.all([
    rows.execute(),
    query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    rows: found.map((r) => ({ key: r.record_key, data: r.data, deletedAt: r.deleted_at })),
    total: Number(count.n),
  };
}
