/**
 * The CLI as a user runs it: a child process whose output is read through a pipe, against the real
 * Postgres and Temporal of the test stack.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { upsertRecords } from '../../src/store/records.js';
import { writeStackFile } from '../../src/stack/stack-file.js';
import {
  startProviderSimulator,
  generateRecords,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { syncHandle } from '../../src/temporal/sync-client.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { cliEnv as childEnv, runCli as cli } from '../helpers/run-cli.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks } from '../helpers/tracker-spec.js';

type Env = Record<string, string | undefined>;

describe('syncwright CLI through pipes', { timeout: 240_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;
  let specsFile: string;
  let home: string;
  let base: Env;

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(5) },
    });
    const spec = trackerSpec(sim.url, undefined, trackerWebhooks());
    engine = await startEngine(env, [spec]);
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-cli-home-'));
    specsFile = path.join(home, 'tracker.json');
    // A parsed spec without rate limits is also a valid spec input.
    await fs.writeFile(specsFile, JSON.stringify(spec));
    base = {
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: engine.taskQueue,
      SYNCWRIGHT_SPECS: specsFile,
      SYNCWRIGHT_HOME: home,
    };
  });
  after(async () => {
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  it('--json output of more than 1 MB arrives whole through a pipe', async () => {
    const scope = { integration: 'tracker', connection: env.uniqueId('big'), resource: 'issues' };
    const filler = 'x'.repeat(600);
    await upsertRecords(
      env.db,
      scope,
      Array.from({ length: 3000 }, (_, i) => ({ key: String(i + 1), data: { id: i + 1, filler } })),
    );
    const r = await cli(
      ['records', 'tracker', 'issues', '--connection', scope.connection, '--all', '--json'],
      base,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 1_000_000, `only ${r.stdout.length} bytes arrived`);
    const rows = JSON.parse(r.stdout) as { id: number }[];
    assert.equal(rows.length, 3000);
    assert.equal(rows[2999]?.id, 3000);
  });

  it('records: numeric keys in numeric order, says when it stops at the limit, --all, --include-deleted', async () => {
    const scope = { integration: 'tracker', connection: env.uniqueId('keys'), resource: 'issues' };
    await upsertRecords(
      env.db,
      scope,
      Array.from({ length: 25 }, (_, i) => ({ key: String(i + 1), data: { id: i + 1 } })),
    );
    await env.db
      .updateTable('records')
      .set({ deleted_at: new Date() })
      .where('connection', '=', scope.connection)
      .where('record_key', '=', '3')
      .execute();
    const args = ['records', 'tracker', 'issues', '--connection', scope.connection];
    const first = await cli(args, base);
    assert.equal(first.code, 0, first.stderr);
    const keys = first.stdout
      .trim()
      .split('\n')
      .map((l) => Number(l.split('\t')[0]));
    assert.deepEqual(keys, [1, 2, ...Array.from({ length: 18 }, (_, i) => i + 4)]);
    assert.equal(first.stderr.trim(), 'showing 20 of 24 records: --all for every one, --limit <n> for more');

    const all = await cli([...args, '--all'], base);
    assert.equal(all.stdout.trim().split('\n').length, 24);
    assert.equal(all.stderr, '');

    const deleted = await cli([...args, '--all', '--include-deleted', '--json'], base);
    const ids = (JSON.parse(deleted.stdout) as { id: number }[]).map((d) => d.id);
    assert.deepEqual(
      ids,
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
  });

  it('a failed sync --wait prints the run’s own typed error; run <id> shows it too', async () => {
    const conn = env.uniqueId('refused');
    await engine.addConnection('tracker', conn, { token: 'wrong-token' });
    const r = await cli(['sync', 'tracker', 'issues', '--connection', conn, '--wait'], base, 120_000);
    assert.equal(r.code, 1);
    const line = r.stderr.trim().split('\n').at(-1) ?? '';
    assert.doesNotMatch(line, /Workflow execution failed/);
    assert.match(line, new RegExp(`^syncwright: sync tracker/${conn}/issues failed: .*401.* \\(\\w+\\)$`));

    const id = `sync:tracker:${conn}:issues`;
    const shown = await cli(['run', id, '--json'], base);
    assert.equal(shown.code, 0, shown.stderr);
    const run = JSON.parse(shown.stdout) as { status: string; error: { type: string; message: string } };
    assert.equal(run.status, 'FAILED');
    assert.match(run.error.message, new RegExp(`^sync tracker/${conn}/issues failed: .*401`));
    assert.equal(line, `syncwright: ${run.error.message} (${run.error.type})`);
  });

  it('TEMPORAL_TASK_QUEUE wins over stack.json; without it, stack.json decides', async () => {
    await writeStackFile(home, {
      pid: process.pid,
      databaseUrl: env.databaseUrl,
      temporalAddress: env.temporalAddress,
      namespace: env.namespace,
      taskQueue: 'from-stack-json',
      uiUrl: null,
      webhookUrl: null,
    });
    try {
      const queueOf = async (queueEnv: string | undefined, conn: string) => {
        const r = await cli(['sync', 'tracker', 'issues', '--connection', conn, '--json'], {
          ...base,
          TEMPORAL_ADDRESS: undefined,
          TEMPORAL_TASK_QUEUE: queueEnv,
        });
        assert.equal(r.code, 0, r.stderr);
        const handle = syncHandle(env.client, (JSON.parse(r.stdout) as { workflowId: string }).workflowId);
        const d = await handle.describe();
        await handle.terminate('test: only its task queue mattered');
        return d.taskQueue;
      };
      assert.equal(await queueOf('from-env', env.uniqueId('q1')), 'from-env');
      assert.equal(await queueOf(undefined, env.uniqueId('q2')), 'from-stack-json');
    } finally {
      await fs.rm(path.join(home, 'stack.json'), { force: true });
    }
  });

  it('webhooks serve: a taken SYNCWRIGHT_WEBHOOK_PORT is named; the taken default port is replaced', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await cli(['webhooks', 'serve'], { ...base, SYNCWRIGHT_WEBHOOK_PORT: String(port) });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.trim(),
        `syncwright: webhook port 127.0.0.1:${port} is taken (SYNCWRIGHT_WEBHOOK_PORT): set SYNCWRIGHT_WEBHOOK_PORT to a free port, or unset it to use any free one`,
      );
    } finally {
      blocker.close();
    }
    // The default port (8288), taken by this test or by anything else on the machine.
    const holder = net.createServer();
    await new Promise<void>((resolve) => {
      holder.once('error', () => resolve());
      holder.listen(8288, '127.0.0.1', () => resolve());
    });
    try {
      const child = spawn(process.execPath, ['bin/syncwright.js', 'webhooks', 'serve'], {
        env: childEnv({ ...base, SYNCWRIGHT_WEBHOOK_PORT: undefined }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /webhook receiver on (http:\/\/\S+) /.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('close', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      assert.doesNotMatch(url, /:8288$/);
      assert.match(
        err,
        /webhook port 8288 is taken: using a free one \(SYNCWRIGHT_WEBHOOK_PORT chooses it\)/,
      );
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('close', resolve));
    } finally {
      holder.close();
    }
  });
});
