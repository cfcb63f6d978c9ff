import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { withDatabase } from '../../src/stack/postgres.js';
import { createDb } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('database encoding', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
  });

  it('refuses to migrate a database whose encoding is not UTF8, saying how to create one', async () => {
    // Postgres hashes stored records' text: in EUC_JP some characters come back changed, and the hash
    // would no longer match the one computed in JavaScript.
    const name = uniqueId('sw_enc').replaceAll('-', '_');
    const admin = new pg.Client({ connectionString: env.databaseUrl });
    await admin.connect();
    try {
      await admin.query(
        `create database ${admin.escapeIdentifier(name)} encoding 'EUC_JP' lc_collate 'C' lc_ctype 'C' template template0`,
      );
      const db = createDb(withDatabase(env.databaseUrl, name), { max: 1 });
      try {
        await assert.rejects(migrateToLatest(db), (e: unknown) => {
          assert.match(String(e), /the database's encoding is EUC_JP: .*UTF8.*createdb -E UTF8/);
          return true;
        });
        // Nothing was created in it.
        const tables = await db.introspection.getTables();
        assert.deepEqual(tables, []);
      } finally {
        await db.destroy();
      }
    } finally {
      await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`);
      await admin.end();
    }
  });
});
