/**
 * The independent baseline of the sync benchmark: what a user would write by hand to copy a paged API
 * into Postgres, with none of the engine's code. It fetches a page with Node's fetch, parses the JSON,
 * maps seven fields, and in one transaction per page upserts the records with one `unnest` statement
 * (rows whose data did not change are not written) and upserts its checkpoint row. The pipelined loop
 * fetches page n+1 while page n commits.
 */
import type pg from 'pg';

export interface BaselineTarget {
  /** `GET <url>?page=N&per_page=M` answers `{ data: [...], next_page: N+1 | null }`. */
  url: string;
  token: string;
  pageSize: number;
  /** Table the loop writes (created by createBaselineTables). */
  table: string;
}

interface FetchedPage {
  page: number;
  keys: string[];
  data: string[];
  next: number | null;
}

export async function createBaselineTables(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`create table if not exists ${table} (key text primary key, data jsonb not null)`);
  await pool.query(
    `create table if not exists ${table}_checkpoint (name text primary key, page integer not null, at timestamptz not null)`,
  );
}

async function fetchPage(t: BaselineTarget, page: number): Promise<FetchedPage> {
  const res = await fetch(`${t.url}?page=${page}&per_page=${t.pageSize}`, {
    headers: { authorization: `Bearer ${t.token}`, accept: 'application/json' },
  });
  if (!res.ok) throw new Error(`page ${page}: HTTP ${res.status}`);
  const body = (await res.json()) as { data: Record<string, unknown>[]; next_page: number | null };
  const keys: string[] = [];
  const data: string[] = [];
  for (const r of body.data) {
    keys.push(String(r.id));
    data.push(
      JSON.stringify({
        id: r.id,
        title: r.title,
        state: r.state,
        priority: r.priority,
        assignee: r.assignee ?? null,
        created_at: r.created_at,
        updated_at: r.updated_at,
      }),
    );
  }
  return { page, keys, data, next: body.next_page };
}

async function commitPage(client: pg.PoolClient, t: BaselineTarget, p: FetchedPage): Promise<number> {
  await client.query('begin');
  try {
    const r = await client.query(
      `insert into ${t.table} (key, data)
       select k, d from unnest($1::text[], $2::jsonb[]) as u(k, d)
       on conflict (key) do update set data = excluded.data
       where ${t.table}.data is distinct from excluded.data`,
      [p.keys, p.data],
    );
    await client.query(
      `insert into ${t.table}_checkpoint (name, page, at) values ('sync', $1, now())
       on conflict (name) do update set page = excluded.page, at = excluded.at`,
      [p.page],
    );
    await client.query('commit');
    return r.rowCount ?? 0;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** Fetches and commits one page after the other; returns the records read. */
export async function sequentialLoop(pool: pg.Pool, t: BaselineTarget): Promise<number> {
  const client = await pool.connect();
  let read = 0;
  try {
    for (let page: number | null = 1; page !== null;) {
      const p = await fetchPage(t, page);
      await commitPage(client, t, p);
      read += p.keys.length;
      page = p.next;
    }
  } finally {
    client.release();
  }
  return read;
}

/** Fetches page n+1 while page n commits; commits stay in page order. */
export async function pipelinedLoop(pool: pg.Pool, t: BaselineTarget): Promise<number> {
  const client = await pool.connect();
  let read = 0;
  try {
    let next: Promise<FetchedPage> | null = fetchPage(t, 1);
    while (next) {
      const p: FetchedPage = await next;
      next = p.next !== null ? fetchPage(t, p.next) : null;
      // A failed commit must not leave the prefetch's rejection unhandled.
      next?.catch(() => undefined);
      await commitPage(client, t, p);
      read += p.keys.length;
    }
  } finally {
    client.release();
  }
  return read;
}
