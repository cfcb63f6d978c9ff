/**
 * The example spec (integrations/example-tracker.yaml), proved the way an integration author would:
 * only the public testing kit, `syncwright/testing`. Copy this file to start testing your own spec.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createTestStack,
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
  type TestStack,
} from 'syncwright/testing';

const TOKEN = 'test-token';
const WEBHOOK_SECRET = 'whsec_ZXhhbXBsZSB0cmFja2VyIHNpZ25pbmcga2V5';

describe('integrations/example-tracker.yaml', { timeout: 180_000 }, () => {
  let provider: ProviderSimulator;
  let stack: TestStack;

  before(async () => {
    // The provider: 250 issues of project "acme", a bare array per page with a Link header to the next
    // (GitHub style), filtered by ?since=, behind a bearer token.
    provider = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: {
        'projects/acme/issues': {
          records: generateRecords(250),
          pagination: 'link-header',
          bareArray: true,
          sinceParam: 'since',
        },
      },
    });
    stack = await createTestStack({
      specs: 'integrations/example-tracker.yaml',
      baseUrls: { 'example-tracker': provider.url },
    });
    await stack.addConnection('example-tracker', 'acme', {
      config: { project: 'acme' },
      secrets: { token: TOKEN, webhook_secret: WEBHOOK_SECRET },
    });
  });

  after(async () => {
    await stack?.close();
    await provider?.close();
  });

  it('syncs every issue, mapped as the spec says', async () => {
    const run = await stack.sync('example-tracker', 'issues', { connection: 'acme' });
    assert.equal(run.status, 'completed');
    assert.equal(run.inserted, 250);
    assert.equal(run.pages, 3);
    const records = await stack.records('example-tracker', 'issues', { connection: 'acme' });
    assert.equal(records.length, 250);
    const first = records.find((r) => r.key === '1')!;
    assert.deepEqual(first.data, {
      id: 1,
      title: 'Issue 1',
      state: 'open',
      author: null,
      labels: null,
      comments: 0,
      updated_at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('an incremental sync reads only what changed', async () => {
    const changed = provider
      .records('projects/acme/issues')
      .map((r) => (r.id === 5 ? { ...r, title: 'Renamed', updated_at: '2026-06-01T00:00:00.000Z' } : r));
    provider.setRecords('projects/acme/issues', changed);
    const run = await stack.sync('example-tracker', 'issues', { connection: 'acme', mode: 'incremental' });
    assert.equal(run.updated, 1);
    const five = (await stack.records('example-tracker', 'issues', { connection: 'acme' })).find(
      (r) => r.key === '5',
    );
    assert.equal((five?.data as { title: string }).title, 'Renamed');
  });

  it('applies signed webhooks: updates, deletes, and rejects a bad signature', async () => {
    const updated = await stack.sendWebhook(
      'example-tracker',
      'acme',
      WEBHOOK_SECRET,
      {
        type: 'issue.updated',
        data: { id: 7, title: 'From a webhook', state: 'closed', updated_at: '2026-07-01T00:00:00Z' },
      },
      { id: 'msg_1' },
    );
    assert.equal(updated.status, 202);
    const deleted = await stack.sendWebhook(
      'example-tracker',
      'acme',
      WEBHOOK_SECRET,
      { type: 'issue.deleted', data: { id: 8 } },
      { id: 'msg_2' },
    );
    assert.equal(deleted.status, 202);
    const forged = await stack.sendWebhook(
      'example-tracker',
      'acme',
      'whsec_d3Jvbmc=',
      { type: 'issue.deleted', data: { id: 9 } },
      { id: 'msg_3' },
    );
    assert.equal(forged.status, 401);

    const events = await stack.webhooksSettled();
    assert.deepEqual(
      events.map((e) => [e.eventId, e.status, e.result]),
      [
        ['msg_2', 'processed', 'deleted'],
        ['msg_1', 'processed', 'upserted'],
      ],
    );
    const all = await stack.records('example-tracker', 'issues', {
      connection: 'acme',
      includeDeleted: true,
    });
    assert.equal((all.find((r) => r.key === '7')?.data as { title: string }).title, 'From a webhook');
    assert.ok(all.find((r) => r.key === '8')?.deletedAt);
    assert.equal(all.find((r) => r.key === '9')?.deletedAt, null);
  });
});
