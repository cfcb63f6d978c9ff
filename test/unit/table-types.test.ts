/**
 * Compile-time checks of the table types (src/store/tables.ts), proven by `npm run typecheck`: each
 * @ts-expect-error fails the build if the line it marks starts to compile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Insertable, Updateable } from 'kysely';
import type {
  ConnectionsTable,
  QuarantineTable,
  RecordsTable,
  SyncRunsTable,
  WebhookEventsTable,
} from '../../src/store/tables.js';

test('JSON object columns take objects; columns that may hold arrays take JSON text only', () => {
  const config: Insertable<ConnectionsTable>['config'] = { region: 'eu' };
  const params: Updateable<SyncRunsTable>['parent_params'] = { owner: 'a' };
  // node-pg would send an array as a Postgres array literal, not JSON:
  // @ts-expect-error an array is not JSON text
  const checkpoint: Updateable<SyncRunsTable>['checkpoint'] = [1, 2];
  // @ts-expect-error an array is not JSON text
  const raw: Insertable<QuarantineTable>['raw'] = ['x'];
  // @ts-expect-error an array is not a JSON object column's value
  const arrayConfig: Insertable<ConnectionsTable>['config'] = ['x'];
  assert.ok(config && params && checkpoint && raw && arrayConfig);
});

test('what is written once cannot be updated', () => {
  // @ts-expect-error created once
  const created: Updateable<ConnectionsTable>['created_at'] = new Date();
  // @ts-expect-error created once
  const firstSeen: Updateable<RecordsTable>['first_seen_at'] = new Date();
  // @ts-expect-error an id
  const runId: Updateable<SyncRunsTable>['id'] = 'r';
  // @ts-expect-error an id
  const eventId: Updateable<WebhookEventsTable>['id'] = 1;
  assert.equal([created, firstSeen, runId, eventId].length, 4);
});
