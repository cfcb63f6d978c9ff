import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSecretBox } from '../../src/cli/keys.js';
import type { CliContext } from '../../src/cli/context.js';
import { loadConfig } from '../../src/config.js';
import { defineIntegration } from '../../src/spec/define.js';
import { writeStackFile } from '../../src/stack/stack-file.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { configFromStrings, connectionProblems } from '../../src/sync/connections.js';

const spec = defineIntegration({
  id: 'tracker',
  baseUrl: 'https://api.example.com',
  connectionConfig: {
    project: { pattern: '[a-z0-9._-]+' },
    limit: { type: 'number', required: false },
    archived: { type: 'boolean', required: false },
    label: { required: false },
  },
  secrets: { token: 'API token', webhook_secret: 'signing secret', webhook_secret_old: 'previous one' },
  auth: { type: 'bearer', token: 'token' },
  webhooks: {
    signature: { scheme: 'stripe', secrets: ['webhook_secret', 'webhook_secret_old'] },
    eventId: { path: 'id' },
    eventType: { path: 'type' },
    events: { 'issue.deleted': { action: 'delete', resource: 'issues', id: 'data.id' } },
  },
  resources: {
    issues: {
      request: { path: '/projects/{project}/issues' },
      recordsPath: 'data',
      primaryKey: 'id',
      pagination: { type: 'none' },
    },
  },
});
const ok = { integration: 'tracker', id: 'acme', secrets: { token: 't', webhook_secret: 'w' } };

describe('connection rules (every save: CLI, testing kit, TypeScript API)', () => {
  it('a list field holds non-empty text values; on the command line, comma-separated', () => {
    const listed = defineIntegration({
      id: 'reports',
      baseUrl: 'https://api.example.com',
      connectionConfig: { regions: { type: 'list' } },
      resources: {
        r: { request: { path: '/r' }, primaryKey: 'id', parent: { values: { region: '{config.regions}' } } },
      },
    });
    const check = (regions: unknown) =>
      connectionProblems(listed, { integration: 'reports', id: 'c', secrets: {}, config: { regions } });
    assert.deepEqual(check(['eu', 'us', 3]), []);
    assert.deepEqual(check('eu,us'), [
      'config.regions: expected a list of non-empty text values, got "eu,us"',
    ]);
    assert.deepEqual(check(['eu', '']), [
      'config.regions: expected a list of non-empty text values, got ["eu",""]',
    ]);
    assert.deepEqual(configFromStrings(listed, { regions: 'eu, us,,apac' }), {
      regions: ['eu', 'us', 'apac'],
    });
  });

  it("a format: url field holds an https URL (http on loopback) on the spec's hosts", () => {
    const site = defineIntegration({
      id: 'chat',
      baseUrl: '{config.endpoint}/api/v1',
      connectionConfig: { endpoint: { format: 'url', hosts: ['*.rocket.chat', '127.0.0.1:*'] } },
      resources: { rooms: { request: { path: '/rooms' }, primaryKey: 'id' } },
    });
    const check = (endpoint: unknown) =>
      connectionProblems(site, { integration: 'chat', id: 'c', secrets: {}, config: { endpoint } });
    assert.deepEqual(check('https://acme.rocket.chat'), []);
    assert.deepEqual(check('http://127.0.0.1:3000/'), []);
    assert.deepEqual(check('http://acme.rocket.chat'), [
      'config.endpoint: must be an https URL (plain http only on a loopback host), got http://acme.rocket.chat',
    ]);
    assert.deepEqual(check('https://evil.com'), [
      'config.endpoint: https://evil.com is not on a host the spec allows (*.rocket.chat, 127.0.0.1:*)',
    ]);
    assert.deepEqual(check('https://x@acme.rocket.chat'), ['config.endpoint: must not carry user info']);
  });

  it('accepts a connection that fits its spec; the second webhook secret is a rotation slot', () => {
    assert.deepEqual(
      connectionProblems(spec, { ...ok, config: { project: 'acme', limit: 5, archived: false } }),
      [],
    );
  });

  it('a pattern matches the whole value, and a path field is one segment: never empty, "." or ".."', () => {
    const problems = (project: unknown) => connectionProblems(spec, { ...ok, config: { project } });
    assert.deepEqual(problems('../admin'), [
      'config.project: must match the pattern [a-z0-9._-]+ (the whole value)',
    ]);
    assert.deepEqual(problems('acme/..'), [
      'config.project: must match the pattern [a-z0-9._-]+ (the whole value)',
    ]);
    assert.deepEqual(problems('..'), ['config.project: fills a path segment, so it cannot be ".."']);
    assert.deepEqual(problems('.'), ['config.project: fills a path segment, so it cannot be "."']);
    assert.deepEqual(problems(''), [
      'config.project: must match the pattern [a-z0-9._-]+ (the whole value)',
      'config.project: fills a path segment, so it cannot be empty',
    ]);
    assert.deepEqual(problems(42), ['config.project: expected a string, got 42']);
  });

  it('names each wrong type, missing, undeclared field and secret', () => {
    assert.deepEqual(
      connectionProblems(spec, {
        integration: 'tracker',
        id: ' ',
        config: { limit: '5', archived: 'yes', extra: 1 },
        secrets: { webhook_secret: 'w', nope: 'x' },
      }),
      [
        'id: required, a non-empty connection id',
        'config.project: required',
        'config.limit: expected a number, got "5"',
        'config.archived: expected true or false, got "yes"',
        'config.extra: not a config field of tracker (declared: project, limit, archived, label)',
        'secrets.token: required (API token)',
        'secrets.nope: not a secret of tracker (declared: token, webhook_secret, webhook_secret_old)',
      ],
    );
  });

  it('the CLI’s name=value strings become typed values only when they parse', () => {
    assert.deepEqual(configFromStrings(spec, { project: 'acme', limit: '5', archived: 'true', label: '7' }), {
      project: 'acme',
      limit: 5,
      archived: true,
      label: '7',
    });
    assert.deepEqual(configFromStrings(spec, { limit: 'x', archived: 'yes' }), {
      limit: 'x',
      archived: 'yes',
    });
  });
});

describe('the CLI’s encryption key', () => {
  const context = (home: string, env: Record<string, string>): CliContext =>
    ({ config: loadConfig({ SYNCWRIGHT_HOME: home, ...env }, '/') }) as CliContext;

  it('is an error when unset, saying how to set one; no key file is written', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-key-'));
    await assert.rejects(
      openSecretBox(context(home, { DATABASE_URL: 'postgres://x@127.0.0.1/x' })),
      /SYNCWRIGHT_ENCRYPTION_KEY is not set: set SYNCWRIGHT_ENCRYPTION_KEY to a 32-byte key \(generate one with `openssl rand -base64 32`\), the same on every machine/,
    );
    await assert.rejects(openSecretBox(context(home, {})), /SYNCWRIGHT_ENCRYPTION_KEY is not set/);
    await assert.rejects(fs.access(path.join(home, 'encryption.key')));
  });

  it('up and demo generate the local key; commands talking to that running up read it', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-key-'));
    const local = await openSecretBox(context(home, {}), { local: true });
    await writeStackFile(home, {
      pid: process.pid,
      databaseUrl: 'postgres://x@127.0.0.1/x',
      temporalAddress: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'q',
      uiUrl: null,
      webhookUrl: null,
    });
    assert.equal((await openSecretBox(context(home, {}))).keyId, local.keyId);
    // With DATABASE_URL the command does not use the local stack, so the local key does not apply.
    await assert.rejects(
      openSecretBox(context(home, { DATABASE_URL: 'postgres://x@127.0.0.1/x' })),
      /SYNCWRIGHT_ENCRYPTION_KEY is not set/,
    );
  });

  it('SYNCWRIGHT_ENCRYPTION_KEYS_OLD lists previous keys that still open values', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const key = randomBytes(32).toString('base64');
    const box = await openSecretBox(
      context(os.tmpdir(), {
        SYNCWRIGHT_ENCRYPTION_KEY: key,
        SYNCWRIGHT_ENCRYPTION_KEYS_OLD: ` ${oldKey} ,`,
      }),
    );
    const row = { what: 'connection-secrets' as const, integration: 'i', connection: 'c' };
    assert.equal(box.open(SecretBox.fromKey(oldKey).seal('s', row), row), 's');
    assert.equal(box.keyId, SecretBox.fromKey(key).keyId);
  });
});
