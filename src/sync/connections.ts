/**
 * Connections as the engine sees them: saved only after a check against their integration's spec, and
 * removed together with everything kept for them (OAuth2 tokens, rate state, leases). The one way to
 * add a connection for the CLI, the testing kit, the demo and code that embeds Syncwright
 * (`import { addConnection } from 'syncwright/connections'`):
 *
 *   const db = createDb(process.env.DATABASE_URL!);
 *   const box = SecretBox.fromKey(process.env.SYNCWRIGHT_ENCRYPTION_KEY);
 *   await addConnection(db, box, await loadSpec('integrations/tracker.yaml'), { integration: 'tracker',
 *     id: 'acme', config: { project: 'acme' }, secrets: { token: process.env.TRACKER_TOKEN! } });
 */
import type { IntegrationSpec } from '../spec/schema.js';
import { urlFieldValue } from '../http/base-url.js';
import { authSecretNames, secretPlaceholders, selectedOption } from '../http/auth/select.js';
import {
  connectionForAccount,
  deleteConnectionRows,
  saveConnection as storeConnection,
} from '../store/connections.js';
import { routeUnrouted } from '../webhooks/unrouted.js';
import { deleteSequences } from '../webhooks/sequence-store.js';
import type { Db } from '../store/db.js';
import type { SecretBox } from '../store/secret-box.js';

export { createDb } from '../store/db.js';
export { EncryptionKeyError, SecretBox } from '../store/secret-box.js';
export { loadSpec } from '../spec/load.js';
export { resealSecrets, type ResealReport } from './reseal.js';

export interface ConnectionInput {
  integration: string;
  id: string;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
  /**
   * The provider's id of the tenant (a GitHub App installation id, a Stripe Connect account, a Slack
   * team id): webhooks routed by account (`webhooks.route.account`) reach this connection by it.
   */
  account?: string | undefined;
}

/** A connection that does not fit its spec; `problems` name each field and the rule it breaks. */
export class ConnectionConfigError extends Error {
  override name = 'ConnectionConfigError';
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`connection ${where}: ${problems.join('; ')}`);
  }
}

/** The rate ledger's and the lease table's key of a connection. */
export const rateKeyOf = (integration: string, connection: string) => `${integration}:${connection}`;

/** Config fields that fill a `{name}` / `{config.name}` path placeholder: each is one path segment. */
function pathFields(spec: IntegrationSpec): Set<string> {
  const out = new Set<string>();
  for (const r of Object.values(spec.resources))
    for (const m of r.request.path.matchAll(/\{([^{}]+)\}/g))
      if (!m[1]!.startsWith('parent.')) out.add(m[1]!.replace(/^config\./, ''));
  return out;
}

/**
 * Every way `c` breaks its spec, each naming the field and the rule: a missing required field, a value
 * of the wrong type, a string that does not match the field's `pattern` (the whole value must match), a
 * path field that is empty, `.` or `..`, an undeclared field, a missing or undeclared secret.
 */
export function connectionProblems(spec: IntegrationSpec, c: ConnectionInput): string[] {
  const problems: string[] = [];
  if (c.id.trim() === '') problems.push('id: required, a non-empty connection id');
  if (c.account !== undefined && (c.account.trim() === '' || c.account.length > 500))
    problems.push('account: a non-empty provider account id of at most 500 characters');
  const inPath = pathFields(spec);
  for (const [name, field] of Object.entries(spec.connectionConfig)) {
    const value = c.config[name];
    const about = field.description ? ` (${field.description})` : '';
    if (value === undefined || value === null) {
      if (field.required) problems.push(`config.${name}: required${about}`);
      continue;
    }
    if (field.type === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value))
        problems.push(`config.${name}: expected a number, got ${JSON.stringify(value)}`);
      continue;
    }
    if (field.type === 'list') {
      const ok = (v: unknown) =>
        (typeof v === 'string' && v !== '') || typeof v === 'number' || typeof v === 'boolean';
      if (!Array.isArray(value) || !value.every(ok))
        problems.push(
          `config.${name}: expected a list of non-empty text values, got ${JSON.stringify(value)}`,
        );
      continue;
    }
    if (field.type === 'boolean') {
      if (typeof value !== 'boolean')
        problems.push(`config.${name}: expected true or false, got ${JSON.stringify(value)}`);
      continue;
    }
    if (typeof value !== 'string') {
      problems.push(`config.${name}: expected a string, got ${JSON.stringify(value)}`);
      continue;
    }
    if (field.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(`^(?:${field.pattern})$`, 'u');
      } catch {
        problems.push(
          `config.${name}: the spec's pattern ${field.pattern} is not a valid regular expression`,
        );
      }
      if (re && !re.test(value))
        problems.push(`config.${name}: must match the pattern ${field.pattern} (the whole value)`);
    }
    if (field.format === 'url') {
      const url = urlFieldValue(value, field);
      if ('problem' in url) problems.push(`config.${name}: ${url.problem}`);
    }
    if (inPath.has(name) && ['', '.', '..'].includes(value))
      problems.push(
        `config.${name}: fills a path segment, so it cannot be ${value === '' ? 'empty' : `"${value}"`}`,
      );
  }
  for (const name of Object.keys(c.config))
    if (!(name in spec.connectionConfig))
      problems.push(
        `config.${name}: not a config field of ${spec.id} (declared: ${Object.keys(spec.connectionConfig).join(', ') || 'none'})`,
      );
  // An auth with options: the config names one the spec has; the others' secrets are not needed.
  let otherOptions = new Set<string>();
  if (spec.auth.type === 'select') {
    const chosen = selectedOption(spec.auth, c.config);
    if ('problem' in chosen) problems.push(chosen.problem);
    // No option chosen: the choice is the problem, not the secrets of options it might become.
    otherOptions = secretsOfOtherOptions(spec, 'option' in chosen ? chosen.option : undefined);
  }
  // Webhook secrets after the first are rotation slots: usually empty.
  const rotation = new Set(spec.webhooks?.signature.secrets.slice(1).filter((s) => typeof s === 'string'));
  for (const [name, what] of Object.entries(spec.secrets)) {
    const value = c.secrets[name];
    if (value !== undefined && typeof value !== 'string') problems.push(`secrets.${name}: expected a string`);
    else if (!value && !rotation.has(name) && !otherOptions.has(name))
      problems.push(`secrets.${name}: required (${what})`);
  }
  for (const name of Object.keys(c.secrets))
    if (!(name in spec.secrets))
      problems.push(
        `secrets.${name}: not a secret of ${spec.id} (declared: ${Object.keys(spec.secrets).join(', ') || 'none'})`,
      );
  return problems;
}

/**
 * The secrets only auth options other than `option` (or than none) use: a connection using `option`
 * need not supply them. A secret its own option, a resource's auth, the webhooks or a template
 * elsewhere uses stays required.
 */
export function secretsOfOtherOptions(spec: IntegrationSpec, option: string | undefined): Set<string> {
  if (spec.auth.type !== 'select') return new Set();
  const { options } = spec.auth;
  const used = new Set([
    ...(option === undefined ? [] : authSecretNames(options[option]!)),
    ...Object.values(spec.resources).flatMap((r) => (r.auth ? authSecretNames(r.auth) : [])),
    ...(spec.webhooks?.signature.secrets.filter((s) => typeof s === 'string') ?? []),
    ...secretPlaceholders({ ...spec, auth: null }),
  ]);
  return new Set(
    Object.entries(options)
      .filter(([name]) => name !== option)
      .flatMap(([, auth]) => authSecretNames(auth))
      .filter((name) => !used.has(name)),
  );
}

/** Typed config from `name=value` strings (the CLI): numbers and booleans as their spec field says. */
export function configFromStrings(
  spec: IntegrationSpec,
  raw: Record<string, string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const type = spec.connectionConfig[name]?.type;
    if (type === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) out[name] = Number(value);
    else if (type === 'boolean' && (value === 'true' || value === 'false')) out[name] = value === 'true';
    else if (type === 'list')
      out[name] = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
    else out[name] = value;
  }
  return out;
}

/**
 * Adds or replaces a connection after checking it against `spec` (throws ConnectionConfigError listing
 * every problem). Secrets are sealed with the box's current key. A replaced connection gets a new
 * generation, so every worker drops the OAuth2 tokens of the old secrets at its next request.
 */
export async function addConnection(
  db: Db,
  box: SecretBox | undefined,
  spec: IntegrationSpec,
  c: ConnectionInput,
): Promise<void> {
  if (spec.id !== c.integration)
    throw new ConnectionConfigError(`${c.integration}/${c.id}`, [
      `integration: the spec given is "${spec.id}", not "${c.integration}"`,
    ]);
  const problems = connectionProblems(spec, c);
  if (problems.length) throw new ConnectionConfigError(`${c.integration}/${c.id}`, problems);
  const account = c.account;
  if (account === undefined) {
    await storeConnection(db, box, c);
    return;
  }
  await db.transaction().execute(async (tx) => {
    const owner = await connectionForAccount(tx, c.integration, account);
    if (owner !== undefined && owner !== c.id)
      throw new ConnectionConfigError(`${c.integration}/${c.id}`, [
        `account: ${account} is already the account of connection ${c.integration}/${owner}`,
      ]);
    await storeConnection(tx, box, c);
    // Events that arrived for this account before it had a connection are delivered now.
    await routeUnrouted(tx, c.integration, account, c.id);
  });
}

/**
 * Removes a connection and everything kept for it, in one transaction: its OAuth2 tokens, its rate
 * state and ledger rows, its concurrent-request leases, its webhook sequence state. Records and runs stay. False if it did not exist.
 */
export async function removeConnection(db: Db, integration: string, id: string): Promise<boolean> {
  const key = rateKeyOf(integration, id);
  return db.transaction().execute(async (tx) => {
    await tx.deleteFrom('rate_limits').where('connection_key', '=', key).execute();
    await tx.deleteFrom('rate_ledger').where('connection_key', '=', key).execute();
    await tx.deleteFrom('rate_leases').where('connection_key', '=', key).execute();
    await deleteSequences(tx, integration, id);
    return deleteConnectionRows(tx, integration, id);
  });
}
