import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPE, ProviderError } from '../src/http/errors.js';
import type { HttpTransport } from '../src/http/transport.js';
import type { Db } from '../src/store/db.js';
import { upsertRecords } from '../src/store/records.js';
import { extractRecords, RecordShapeError } from '../src/sync/records-at-path.js';
import type { PageCounts, SyncInput } from '../src/sync/types.js';

export interface SyncPageDeps {
  db: Db;
  http: HttpTransport;
}

/** Turns a typed provider error into a Temporal failure carrying the retry decision. */
export function toFailure(error: unknown): unknown {
  if (error instanceof ProviderError) {
    return ApplicationFailure.create({
      type: error.failureType,
      message: error.message,
      nonRetryable: !error.retryable,
      ...(error.details.retryAfterMs !== undefined ? { nextRetryDelay: error.details.retryAfterMs } : {}),
    });
  }
  if (error instanceof RecordShapeError) {
    return ApplicationFailure.create({
      type: FAILURE_TYPE.decode,
      message: error.message,
      nonRetryable: true,
    });
  }
  return error;
}

/** Fetches one JSON page of a resource and upserts its records in one transaction. */
export function createSyncPage({ db, http }: SyncPageDeps) {
  return async function syncPage(input: SyncInput): Promise<PageCounts> {
    const { integration, connection, resource, source } = input;
    try {
      const response = await http.requestJson({
        url: source.url,
        context: { integration, connection, resource },
        signal: Context.current().cancellationSignal,
      });
      const records = extractRecords(response.body, source.recordsPath, source.primaryKey);
      const counts = await db
        .transaction()
        .execute((tx) => upsertRecords(tx, { integration, connection, resource }, records));
      return { fetched: records.length, ...counts };
    } catch (error) {
      throw toFailure(error);
    }
  };
}
