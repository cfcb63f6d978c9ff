/**
 * The operator's view, in a real browser: the Temporal Web UI served by a local dev server, driven by
 * headless Chromium (playwright-core with the system's chromium; .ci/run installs Debian's). It opens
 * the workflow list filtered by our search attribute, opens the run, reads its progress, and saves a
 * screenshot under test-output/. It fails if the run is not listed.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createActivities } from '../../activities/index.js';
import { connectClient } from '../../src/temporal/client.js';
import type { RunningDevServer } from '../../src/temporal/dev-server.js';
import { startOwnDevServer } from '../helpers/dev-server.js';
import { pauseSync, resumeSync, startSync, syncProgress } from '../../src/temporal/sync-client.js';
import { startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import type { Client } from '@temporalio/client';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';

const OUTPUT = path.resolve('test-output');

/** The system's Chromium: CHROMIUM_PATH, or Debian's / other distributions' usual places. */
function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/snap/bin/chromium',
  ];
  return candidates.find((c): c is string => Boolean(c) && existsSync(c!));
}

const executablePath = findChromium();
// In CI the browser must be there (.ci/run installs it); elsewhere the test says how to get it.
const skip =
  !executablePath && process.env.CI !== 'true'
    ? 'no Chromium found: apt-get install chromium, or set CHROMIUM_PATH'
    : false;

describe('the operator’s view in the Temporal UI (headless Chromium)', { skip, timeout: 240_000 }, () => {
  let env: TestEnv;
  let dir: string;
  let temporal: RunningDevServer;
  let client: Client;
  let worker: RunningWorker;
  let sim: ProviderSimulator;
  let browser: Browser;
  const taskQueue = 'ui-e2e';

  before(async () => {
    assert.ok(executablePath, 'Chromium is required in CI: .ci/run installs Debian’s chromium');
    env = await testEnv();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-ui-'));
    temporal = await startOwnDevServer({ dir, ui: true });
    client = await connectClient(temporal.address, 'default');
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      latencyMs: 100,
      resources: { issues: generateRecords(2_000) },
    });
    const spec = trackerSpec(sim.url);
    const box = SecretBox.fromKey(TEST_KEY);
    await saveConnection(env.db, box, {
      integration: spec.id,
      id: 'ops',
      secrets: { token: TOKEN },
      config: {},
    });
    // Its token is refused: its syncs fail with AuthError.
    await saveConnection(env.db, box, {
      integration: spec.id,
      id: 'badkey',
      secrets: { token: 'wrong' },
      config: {},
    });
    worker = await startWorker({
      address: temporal.address,
      namespace: 'default',
      taskQueue,
      activities: createActivities({
        db: env.db,
        specs: new Map([[spec.id, spec]]),
        secretBox: box,
        env: {},
      }),
      workflowBundle: env.workflowBundle,
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    await fs.mkdir(OUTPUT, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await worker?.shutdown();
    await client?.connection.close();
    await sim?.close();
    await temporal?.stop();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('finds the run by search attribute, opens it and shows its summary and progress', async () => {
    const handle = await startSync(
      client,
      { integration: 'tracker', connection: 'ops', resource: 'issues', kind: 'full', pagesPerActivity: 1 },
      { taskQueue },
    );
    // Paused mid-run, so the progress the UI shows is a live run's, and stays put while we look.
    for (let i = 0; (await syncProgress(handle)).pages < 3; i++) {
      assert.ok(i < 300, 'the sync makes progress');
      await new Promise((r) => setTimeout(r, 100));
    }
    await pauseSync(handle);
    for (let i = 0; (await syncProgress(handle)).status !== 'paused'; i++) {
      assert.ok(i < 100, 'the sync pauses');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The page in flight when the signal came still commits: wait for the count to stay put.
    let pages = -1;
    for (let p = (await syncProgress(handle)).pages; p !== pages; p = (await syncProgress(handle)).pages) {
      pages = p;
      await new Promise((r) => setTimeout(r, 1500));
    }

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      const query = 'SyncIntegration="tracker" AND SyncConnection="ops"';
      await page.goto(`${temporal.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      const row = page.getByRole('link', { name: handle.workflowId });
      await row.first().waitFor({ timeout: 60_000 });
      await page.screenshot({ path: path.join(OUTPUT, 'temporal-ui-workflows.png'), fullPage: true });

      await row.first().click();
      await page.waitForURL(
        /\/workflows\/sync%3Atracker%3Aops%3Aissues|\/workflows\/sync:tracker:ops:issues/,
        {
          timeout: 30_000,
        },
      );
      // The static summary and the current details (our progress) are on the run's page.
      await page.getByText('full sync of tracker / ops / issues').first().waitFor({ timeout: 60_000 });
      // This UI version shows the summary and current details under "User Metadata".
      await page
        .getByRole('link', { name: 'User Metadata' })
        .or(page.getByRole('tab', { name: 'User Metadata' }))
        .first()
        .click();
      await page.getByText('Current Details').first().waitFor({ timeout: 30_000 });
      // The UI renders user markdown (summary, current details) in sandboxed iframes: read every frame.
      const progressLine = /(\d+) pages, (\d+) of 2000 records[^\n]*/;
      let shown: string | undefined;
      for (let i = 0; !shown && i < 120; i++) {
        for (const frame of page.frames()) {
          const text = await frame
            .locator('body')
            .innerText({ timeout: 1000 })
            .catch(() => '');
          if (progressLine.test(text) && /— paused/.test(text)) shown = text;
        }
        if (!shown) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(shown, 'the run page shows the sync progress');
      const [line, shownPages, shownRecords] = progressLine.exec(shown)!;
      assert.deepEqual([Number(shownPages), Number(shownRecords)], [pages, pages * 100], line);
      await page.screenshot({ path: path.join(OUTPUT, 'temporal-ui-run.png'), fullPage: true });
    } catch (error) {
      await page.screenshot({ path: path.join(OUTPUT, 'temporal-ui-failure.png'), fullPage: true });
      throw error;
    } finally {
      await page.close();
      await resumeSync(handle);
    }
    const result = await handle.result();
    assert.equal(result.inserted, 2_000);
  });

  it('shows a failed run with its typed error and message', async () => {
    const handle = await startSync(
      client,
      { integration: 'tracker', connection: 'badkey', resource: 'issues', kind: 'full' },
      { taskQueue },
    );
    await assert.rejects(handle.result());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      const query = 'SyncConnection="badkey" AND ExecutionStatus="Failed"';
      await page.goto(`${temporal.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      const row = page.getByRole('link', { name: handle.workflowId });
      await row.first().waitFor({ timeout: 60_000 });
      await row.first().click();
      // The failure panel carries the typed error's message (and type) as the activity raised it.
      const message = /credentials were refused/;
      let found = false;
      for (let i = 0; !found && i < 120; i++) {
        for (const frame of page.frames()) {
          const text = await frame
            .locator('body')
            .innerText({ timeout: 1000 })
            .catch(() => '');
          if (message.test(text) && /AuthError/.test(text)) found = true;
        }
        if (!found) await new Promise((r) => setTimeout(r, 500));
      }
      await page.screenshot({ path: path.join(OUTPUT, 'temporal-ui-failed-run.png'), fullPage: true });
      assert.ok(found, 'the failed run shows AuthError and its message');
    } finally {
      await page.close();
    }
  });
});
