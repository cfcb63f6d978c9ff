/**
 * The provider's webhook subscription of a connection: the requests of its lifecycle filled from the
 * spec's templates (pure), what an answer says (id, expiry, secret), and the stored state.
 */
import { scalarText, valueAtPath } from '../json/path.js';
import type { SubscriptionConfig, SubscriptionRequest } from '../spec/webhooks-schema.js';
import type { DbOrTx } from '../store/db.js';
import type { SealContext, SecretBox } from '../store/secret-box.js';

export class SubscriptionAnswerError extends Error {
  override name = 'SubscriptionAnswerError';
}

export interface TemplateValues {
  config: Readonly<Record<string, unknown>>;
  subscriptionId?: string | undefined;
  /** ISO 8601: now plus the lifetime asked for. */
  expiry: string;
  /** A fresh random secret for {secret} (Graph's clientState), subscribe only; stored sealed. */
  secret?: string | undefined;
}

/** Whether a lifecycle request sends a {secret} Syncwright made up (then it is stored). */
export const usesGeneratedSecret = (request: SubscriptionRequest): boolean =>
  JSON.stringify(request.body ?? {}).includes('{secret}');

function fill(template: string, v: TemplateValues, where: string): string {
  return template.replace(/\{([^{}]+)\}/g, (_, name: string) => {
    if (name === 'expiry') return v.expiry;
    if (name === 'secret') {
      if (v.secret === undefined)
        throw new SubscriptionAnswerError(`${where}: {secret} is only for subscribe`);
      return v.secret;
    }
    if (name === 'subscription.id') {
      if (v.subscriptionId === undefined)
        throw new SubscriptionAnswerError(`${where}: no subscription id yet`);
      return v.subscriptionId;
    }
    const key = name.replace(/^config\./, '');
    const value = v.config[key];
    if (value === undefined || value === null)
      throw new SubscriptionAnswerError(`${where}: {${name}} is not set in the connection's config`);
    return scalarText(value);
  });
}

function fillDeep(value: unknown, v: TemplateValues, where: string): unknown {
  if (typeof value === 'string') return fill(value, v, where);
  if (Array.isArray(value)) return value.map((x) => fillDeep(x, v, where));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, fillDeep(x, v, where)]));
  return value;
}

/** The path (not yet URL-joined) and body of a lifecycle request. */
export function fillSubscriptionRequest(
  request: SubscriptionRequest,
  values: TemplateValues,
  where: string,
): { method: string; path: string; body: unknown } {
  // Path values are single segments: an id with "/" must not reach another endpoint.
  const path = request.path.replace(/\{([^{}]+)\}/g, (m) => encodeURIComponent(fill(m, values, where)));
  return {
    method: request.method,
    path,
    body: request.body ? fillDeep(request.body, values, where) : undefined,
  };
}

export interface SubscriptionAnswer {
  id: string | undefined;
  expiresAt: string | null;
  secret: string | undefined;
}

/** What a subscribe or renew answer says; a subscribe answer must carry the id. */
export function readSubscriptionAnswer(
  config: SubscriptionConfig,
  body: unknown,
  needsId: boolean,
): SubscriptionAnswer {
  const id = valueAtPath(body, config.idPath);
  if (needsId && (id === undefined || id === null || id === '' || typeof id === 'object'))
    throw new SubscriptionAnswerError(`the subscribe answer has no subscription id at "${config.idPath}"`);
  let expiresAt: string | null = null;
  if (config.expiresPath) {
    const raw = valueAtPath(body, config.expiresPath);
    const ms = typeof raw === 'string' ? Date.parse(raw) : NaN;
    if (Number.isNaN(ms))
      throw new SubscriptionAnswerError(`the answer has no ISO 8601 expiry at "${config.expiresPath}"`);
    expiresAt = new Date(ms).toISOString();
  }
  const secret = config.secretPath ? valueAtPath(body, config.secretPath) : undefined;
  return {
    id: id === undefined || id === null || typeof id === 'object' ? undefined : scalarText(id),
    expiresAt,
    secret: typeof secret === 'string' && secret !== '' ? secret : undefined,
  };
}

/** What a subscription's secret is sealed to (its row), also for `keys rotate`. */
export const subscriptionSealContext = (integration: string, connection: string): SealContext => ({
  what: 'webhook-subscription-secret',
  integration,
  connection,
});

export interface StoredSubscription {
  integration: string;
  connection: string;
  subscriptionId: string;
  expiresAt: Date | null;
  renewals: number;
  hasSecret: boolean;
  updatedAt: Date;
}

export async function saveSubscription(
  db: DbOrTx,
  box: SecretBox | undefined,
  s: {
    integration: string;
    connection: string;
    subscriptionId: string;
    expiresAt: string | null;
    secret?: string | undefined;
  },
): Promise<void> {
  if (s.secret !== undefined && !box)
    throw new Error('a subscription secret was returned but no encryption key is available');
  const sealed =
    s.secret !== undefined ? box!.seal(s.secret, subscriptionSealContext(s.integration, s.connection)) : null;
  const now = new Date();
  await db
    .insertInto('webhook_subscriptions')
    .values({
      integration: s.integration,
      connection: s.connection,
      subscription_id: s.subscriptionId,
      expires_at: s.expiresAt,
      secret_sealed: sealed,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['integration', 'connection']).doUpdateSet({
        subscription_id: s.subscriptionId,
        expires_at: s.expiresAt,
        secret_sealed: sealed,
        renewals: 0,
        updated_at: now,
      }),
    )
    .execute();
}

export async function recordRenewal(
  db: DbOrTx,
  integration: string,
  connection: string,
  expiresAt: string | null,
): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set((eb) => ({ expires_at: expiresAt, renewals: eb('renewals', '+', 1), updated_at: new Date() }))
    .where('integration', '=', integration)
    .where('connection', '=', connection)
    .execute();
}

export async function deleteSubscription(db: DbOrTx, integration: string, connection: string): Promise<void> {
  await db
    .deleteFrom('webhook_subscriptions')
    .where('integration', '=', integration)
    .where('connection', '=', connection)
    .execute();
}

export async function listSubscriptions(db: DbOrTx, integration?: string): Promise<StoredSubscription[]> {
  let q = db.selectFrom('webhook_subscriptions').selectAll().orderBy('integration').orderBy('connection');
  if (integration) q = q.where('integration', '=', integration);
  return (await q.execute()).map(storedSubscription);
}

/** The connection's stored subscription, if any. */
export async function getSubscription(
  db: DbOrTx,
  integration: string,
  connection: string,
): Promise<StoredSubscription | undefined> {
  const row = await db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('integration', '=', integration)
    .where('connection', '=', connection)
    .executeTakeFirst();
  return row && storedSubscription(row);
}

function storedSubscription(r: {
  integration: string;
  connection: string;
  subscription_id: string;
  expires_at: Date | null;
  renewals: number;
  secret_sealed: string | null;
  updated_at: Date;
}): StoredSubscription {
  return {
    integration: r.integration,
    connection: r.connection,
    subscriptionId: r.subscription_id,
    expiresAt: r.expires_at,
    renewals: r.renewals,
    hasSecret: r.secret_sealed !== null,
    updatedAt: r.updated_at,
  };
}

/** The secret the connection's stored subscription holds (Graph's clientState), or undefined. */
export async function openSubscriptionSecret(
  db: DbOrTx,
  box: SecretBox | undefined,
  integration: string,
  connection: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('webhook_subscriptions')
    .select('secret_sealed')
    .where('integration', '=', integration)
    .where('connection', '=', connection)
    .executeTakeFirst();
  if (!row?.secret_sealed || !box) return undefined;
  return box.open(row.secret_sealed, subscriptionSealContext(integration, connection));
}
