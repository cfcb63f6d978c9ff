/**
 * The webhook receiver (node:http): POST <webhooks.path>/<connection>.
 *
 * Checks run cheapest first and nothing is stored until all pass: 404 unknown route, integration or
 * connection · 405 not POST · 415 content type or encoding · 413 too large · 401 bad or missing
 * signature · 400 body that does not parse or has no event id/type · then the event is committed to
 * the inbox and only then answered 202 (a duplicate delivery gets 200 and changes nothing).
 * A database that cannot take the event answers 503, so the provider delivers again.
 */
import { recordDelivery, recordSignatureFailure } from '../metrics/metrics.js';
import { currentTraceparent, inSpan, tracingOff } from '../tracing/spans.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveSecret, type AuthInputs } from '../http/auth/apply.js';
import type { IntegrationSpec } from '../spec/schema.js';
import { ConnectionNotFoundError, getConnection } from '../store/connections.js';
import { AccountRouter } from './account-router.js';
import { describeEvent, parseBody, WebhookBodyError, type DescribedEvent, type ParsedBody } from './event.js';
import { bodyHandshakeAnswer, HandshakeError, queryTokenAnswer, type HandshakeAnswer } from './handshakes.js';
import {
  INTEGRATION_SCOPE,
  InboxWriter,
  inboxRow,
  UnstorableEventError,
  type InboxRow,
  type Written,
} from './inbox-writer.js';
import { clientStateMatches, verifySignature, verifySomeClientState } from './signatures.js';
import { valueAtPath } from '../json/path.js';
import { openSubscriptionSecret } from './subscriptions.js';
import { readValue, type RequestValues } from './request-values.js';
import { TtlCache } from './ttl-cache.js';
import { storeUnrouted } from './unrouted.js';
import { readSequence, type SequenceMark } from './sequence.js';
import { recordSequence } from './sequence-store.js';
import type { EngineDeps } from '../sync/deps.js';
import type { LifecycleAction } from '../spec/webhooks-schema.js';

/** What a lifecycle notification asks (`webhooks.lifecycle`), for one connection. */
export interface LifecycleHandOver {
  integration: string;
  connection: string;
  action: LifecycleAction;
  /** The notifications' lifecycle events, e.g. "missed". */
  events: string[];
}

export interface ReceiverDeps extends EngineDeps {
  /** Called after an event is committed (the dispatcher's nudge). */
  onAccepted?: (() => void) | undefined;
  /** Unix seconds; tests move the clock. */
  nowSeconds?: () => number;
  /** How long resolved connection secrets are reused (ms). */
  secretsTtlMs?: number;
  /**
   * Hands a lifecycle notification's action to Temporal (the webhook service's). The sender is answered
   * 202 only after it returns; without it, or when it throws, 503 (the provider delivers again).
   */
  onLifecycle?: ((request: LifecycleHandOver) => Promise<void>) | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The route of an integration: its spec's webhooks.path or /webhooks/<id>. */
export const webhookPath = (spec: IntegrationSpec): string => spec.webhooks?.path ?? `/webhooks/${spec.id}`;

const CONNECTION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

function mediaType(value: string | undefined): { type: string; charset: string | undefined } | undefined {
  if (!value) return undefined;
  const [type = '', ...params] = value.split(';');
  let charset: string | undefined;
  for (const p of params) {
    const [k, v] = p.split('=', 2);
    if (k?.trim().toLowerCase() === 'charset') charset = v?.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

function checkContentType(req: IncomingMessage, format: 'json' | 'form'): void {
  const media = mediaType(req.headers['content-type']);
  const ok =
    format === 'json'
      ? media && (media.type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media.type))
      : media?.type === 'application/x-www-form-urlencoded';
  if (!ok) {
    throw new HttpError(
      415,
      `content-type must be ${format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'}` +
        (media ? `, got ${media.type}` : ', got none'),
    );
  }
  if (media?.charset && media.charset !== 'utf-8' && media.charset !== 'utf8')
    throw new HttpError(415, `charset must be utf-8, got ${media.charset}`);
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity')
    throw new HttpError(415, `content-encoding ${encoding} is not supported`);
}

/** Reads the body up to `limit` bytes; more is a 413 (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(new HttpError(413, `body is ${declared} bytes, the limit is ${limit}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new HttpError(413, `body is over the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    // A webhook body usually arrives in one chunk: no copy then.
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

interface ConnectionSecrets {
  /** False when there is no such connection (remembered briefly, so floods of bad ids stay cheap). */
  found: boolean;
  secrets: string[];
}

/** A lookup shared by every request for the connection until it expires (counted from when it resolves). */
interface CachedSecrets {
  value: Promise<ConnectionSecrets>;
  /** The value once resolved: most requests need no promise at all. */
  resolved?: ConnectionSecrets;
  /** When the lookup started (performance.now()): a request that began later may need a fresher one. */
  startedAt: number;
  /** Read again because a signature failed: not read again within REFRESH_INTERVAL_MS. */
  refresh: boolean;
}

/**
 * A signature that fails makes the secrets be read again at most this often per connection, so a flood
 * of forged requests costs one database read a second, not one per request.
 */
const REFRESH_INTERVAL_MS = 1000;

/** Connections whose secrets are remembered at once; ids come from request paths, so this is bounded. */
const SECRET_CACHE_ENTRIES = 10_000;

/** Events in one batch body at most (Graph sends far fewer; a body is at most maxBodyBytes anyway). */
const MAX_BATCH_ITEMS = 1000;

/** A lifecycle notification of a request (the body, or one item of a batch): handed over, not stored. */
interface LifecycleItem {
  lifecycle: { event: string; action: LifecycleAction };
  fields: Record<string, unknown>;
}
type ItemOfRequest = EventOfRequest | LifecycleItem | 'refused';
const isEvent = (i: ItemOfRequest): i is EventOfRequest => i !== 'refused' && 'event' in i;
const isLifecycle = (i: ItemOfRequest): i is LifecycleItem => i !== 'refused' && 'lifecycle' in i;

/** An authentic body with nothing in it (batch.acceptEmpty): answered, nothing stored. */
const ACKNOWLEDGED = { status: 200, body: { status: 'acknowledged' } };

const lifecycleResult = (i: LifecycleItem) => ({
  lifecycleEvent: i.lifecycle.event,
  action: i.lifecycle.action,
});

/** An event of a request: the body's, or one item of a batch. */
interface EventOfRequest {
  event: DescribedEvent;
  payloadJson: string;
  /** The body, or the item: what route.account reads. */
  fields: Record<string, unknown>;
}

export function createWebhookHandler(deps: ReceiverDeps) {
  const writer = new InboxWriter(deps.db);
  const now = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const ttl = deps.secretsTtlMs ?? 30_000;
  const routes = new Map<string, IntegrationSpec>();
  /** Specs routed by account: every tenant posts to the path itself. */
  const accountRoutes = new Map<string, IntegrationSpec>();
  for (const spec of deps.specs.values()) {
    if (spec.webhooks) routes.set(webhookPath(spec), spec);
    if (spec.webhooks?.route) accountRoutes.set(webhookPath(spec), spec);
  }
  const router = new AccountRouter(deps.db, deps.env, ttl);
  const secretCache = new TtlCache<CachedSecrets>(SECRET_CACHE_ENTRIES);
  const cacheKey = (spec: IntegrationSpec, connection: string) => `${spec.id}\u0000${connection}`;

  /** The connection's webhook secrets, decrypted once per TTL. */
  const secretsOf = (spec: IntegrationSpec, connection: string): CachedSecrets =>
    secretCache.get(cacheKey(spec, connection)) ?? lookUp(spec, connection);

  /** Reads the secrets now, shared by every request until the entry expires. */
  function lookUp(spec: IntegrationSpec, connection: string, refresh = false): CachedSecrets {
    const key = cacheKey(spec, connection);
    const entry: CachedSecrets = {
      value: loadSecrets(spec, connection),
      startedAt: performance.now(),
      refresh,
    };
    secretCache.set(key, entry, Infinity);
    entry.value.then(
      (r) => {
        entry.resolved = r;
        // Unknown connections are remembered briefly, so floods of bad ids stay cheap.
        if (secretCache.get(key) === entry) secretCache.set(key, entry, r.found ? ttl : 2000);
      },
      () => {
        if (secretCache.get(key) === entry) secretCache.delete(key);
      },
    );
    return entry;
  }

  /**
   * After a signature failed against remembered secrets that were read before the request began: read
   * them again (once for all requests failing against the same entry), so a secret rotated by
   * `connection add` verifies at once instead of after the TTL. Undefined: read again too recently.
   */
  function refreshed(
    spec: IntegrationSpec,
    connection: string,
    stale: CachedSecrets,
    began: number,
  ): CachedSecrets | undefined {
    const current = secretCache.get(cacheKey(spec, connection)) ?? stale;
    // Read (or being read) since the request began: as fresh as a new read would be.
    if (current.startedAt >= began) return current;
    if (current.refresh && began - current.startedAt < REFRESH_INTERVAL_MS) return undefined;
    return lookUp(spec, connection, true);
  }

  async function loadSecrets(spec: IntegrationSpec, connection: string): Promise<ConnectionSecrets> {
    let conn;
    try {
      conn = await getConnection(deps.db, deps.secretBox, spec.id, connection);
    } catch (error) {
      if (error instanceof ConnectionNotFoundError) return { found: false, secrets: [] };
      throw error;
    }
    const inputs: AuthInputs = {
      secrets: conn.secrets,
      config: conn.config,
      env: deps.env,
      where: `connection ${spec.id}/${connection}`,
    };
    const secrets: string[] = [];
    for (const ref of spec.webhooks!.signature.secrets) {
      // While rotating, one of the secrets may already be gone: the others still verify.
      try {
        secrets.push(resolveSecret(ref, inputs));
      } catch {
        /* not set */
      }
    }
    // Graph's clientState: the value Syncwright's subscription holds, read with the other secrets.
    if (spec.webhooks!.signature.scheme === 'client-state') {
      const state = await openSubscriptionSecret(deps.db, deps.secretBox, spec.id, connection);
      if (state !== undefined) secrets.push(state);
    }
    return { found: true, secrets };
  }

  /** `seen` learns the route's integration and connection, for the delivery metrics. */
  async function accept(
    req: IncomingMessage,
    seen: { integration: string; connection: string; bare: boolean },
  ): Promise<{ status: number; body: unknown } | HandshakeAnswer> {
    // The usual origin-form target ("/path?query") is cut by hand; anything else goes through URL.
    const target = req.url ?? '/';
    const end = target.search(/[?#]/);
    const pathname = !target.startsWith('/')
      ? new URL(target, 'http://receiver').pathname
      : end === -1
        ? target
        : target.slice(0, end);
    const routed = accountRoutes.size > 0 ? accountRoutes.get(pathname) : undefined;
    // The integration's `respond`: answers without a body once the route names it.
    if (routed) {
      seen.bare = routed.webhooks!.respond !== undefined;
      return acceptByAccount(req, routed, target, end);
    }
    const cut = pathname.lastIndexOf('/');
    const spec = routes.get(pathname.slice(0, cut));
    if (!spec) throw new HttpError(404, `no webhook route ${pathname}`);
    let connection: string;
    try {
      connection = decodeURIComponent(pathname.slice(cut + 1));
    } catch {
      throw new HttpError(404, 'connection id is not valid');
    }
    if (!CONNECTION_ID.test(connection)) throw new HttpError(404, 'connection id is not valid');
    seen.integration = spec.id;
    seen.bare = spec.webhooks!.respond !== undefined;
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const webhooks = spec.webhooks!;
    // A validation token in the query (Microsoft Graph) is answered before anything else: it has no body.
    const handshake = end === -1 ? undefined : queryHandshake(webhooks, target.slice(end));
    if (handshake) return handshake;
    checkContentType(req, webhooks.format);
    const body = await readBody(req, webhooks.maxBodyBytes);

    const began = performance.now();
    const entry = secretsOf(spec, connection);
    // Resolved entries are used without awaiting: most requests need no promise at all.
    let known = entry.resolved ?? (await entry.value);
    if (!known.found) throw new HttpError(404, `no connection "${connection}" for integration "${spec.id}"`);
    seen.connection = connection;
    if (known.secrets.length === 0) {
      deps.log?.error({ integration: spec.id, connection }, 'no webhook secret is set for this connection');
      throw new HttpError(503, 'webhook secrets are not configured for this connection');
    }
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const sig = webhooks.signature;
    // A batch of Graph notifications is checked item by item: the request passes if one item does.
    const verify = (secrets: string[]) =>
      webhooks.batch && sig.scheme === 'client-state'
        ? verifySomeClientState(sig, body, secrets)
        : verifySignature(sig, { header, body }, secrets, now());
    let verdict = verify(known.secrets);
    const fresher =
      !verdict.ok && entry.startedAt < began ? refreshed(spec, connection, entry, began) : undefined;
    if (fresher) {
      // The remembered secrets may predate a rotation: check against the stored ones before refusing.
      known = fresher.resolved ?? (await fresher.value);
      if (known.found && known.secrets.length > 0) verdict = verify(known.secrets);
    }
    if (!verdict.ok) {
      recordSignatureFailure(spec.id, connection);
      throw new HttpError(401, verdict.reason);
    }

    let all: ItemOfRequest[];
    let sequence: SequenceMark | undefined;
    try {
      const parsed = parseBody(webhooks.format, body);
      // Authentic: a handshake (Slack challenge, Zoom token, GitHub ping) is answered, not stored.
      const answer = bodyHandshakeAnswer(webhooks, header, parsed.fields, known.secrets);
      if (answer) {
        deps.log?.info({ integration: spec.id, connection }, 'webhook handshake answered');
        return answer;
      }
      const query = queryOf(target, end);
      all = batchOf(spec, header, parsed, query, known.secrets);
      sequence = sequenceOf(spec, { header, body: parsed.fields, query });
    } catch (error) {
      if (error instanceof WebhookBodyError || error instanceof HandshakeError)
        throw new HttpError(400, error.message);
      throw error;
    }
    if (all.length === 0) return ACKNOWLEDGED;
    const events = all.filter(isEvent);
    const lifecycle = all.filter(isLifecycle);
    if (lifecycle.length > 0) await handOver(spec, connection, lifecycle);
    if (!webhooks.batch)
      return lifecycle[0]
        ? { status: 202, body: { status: 'accepted', lifecycle: lifecycleResult(lifecycle[0]) } }
        : store(spec, connection, events[0]!.event, events[0]!.payloadJson, sequence);
    const refused = all.filter((i) => i === 'refused').length;
    if (refused > 0) {
      recordSignatureFailure(spec.id, connection);
      deps.log?.warn(
        { integration: spec.id, connection, refused },
        'webhook batch items without a matching client state were dropped',
      );
    }
    const answer = await storeBatch(
      spec,
      events.map((e) => ({ ...e, connection })),
      sequence && { connection, mark: sequence },
    );
    return lifecycle.length === 0 ? answer : withLifecycle(all, answer);
  }

  /**
   * Hands each action of a connection's lifecycle notifications to Temporal once (a batch may repeat
   * one); a failure is a 503, so the provider delivers them again.
   */
  async function handOver(spec: IntegrationSpec, connection: string, items: LifecycleItem[]): Promise<void> {
    const byAction = new Map<LifecycleAction, string[]>();
    for (const { lifecycle } of items) {
      const events = byAction.get(lifecycle.action) ?? [];
      if (!events.includes(lifecycle.event)) events.push(lifecycle.event);
      byAction.set(lifecycle.action, events);
    }
    for (const [action, events] of byAction) {
      if (!deps.onLifecycle) {
        deps.log?.error(
          { integration: spec.id, connection, action },
          'no hand-over for lifecycle notifications',
        );
        throw new HttpError(503, 'lifecycle notifications cannot be handled here; deliver them again');
      }
      try {
        await deps.onLifecycle({ integration: spec.id, connection, action, events });
      } catch (error) {
        deps.log?.error(
          { err: error, integration: spec.id, connection, action },
          'lifecycle notification not handed over',
        );
        throw new HttpError(503, 'the lifecycle notification could not be handled; deliver it again');
      }
      deps.log?.info({ integration: spec.id, connection, action, events }, 'webhook lifecycle notification');
    }
  }

  /** A batch's answer with its lifecycle items in their places. */
  function withLifecycle(
    all: ItemOfRequest[],
    answer: { status: number; body: unknown },
  ): { status: number; body: unknown } {
    const stored = (answer.body as { events: unknown[] }).events;
    const results: unknown[] = [];
    let r = 0;
    for (const item of all) {
      if (item === 'refused') continue;
      results.push(isLifecycle(item) ? lifecycleResult(item) : stored[r++]);
    }
    // A lifecycle notification handed over is news, as a stored event is.
    return { status: 202, body: { status: 'accepted', events: results } };
  }

  /**
   * The events of the request in order; 'refused' for an item whose client state does not match, a
   * lifecycle item for a notification `webhooks.lifecycle` lists.
   */
  function batchOf(
    spec: IntegrationSpec,
    header: (name: string) => string | undefined,
    parsed: ParsedBody,
    query: (name: string) => string | undefined,
    secrets: readonly string[],
  ): ItemOfRequest[] {
    const webhooks = spec.webhooks!;
    const lifecycleOf = (fields: Record<string, unknown>): LifecycleItem | undefined => {
      if (!webhooks.lifecycle) return undefined;
      const found = readValue(webhooks.lifecycle.event, { header, body: fields, query });
      const action = found.ok ? webhooks.lifecycle.actions[found.value] : undefined;
      return action && found.ok ? { lifecycle: { event: found.value, action }, fields } : undefined;
    };
    if (!webhooks.batch)
      return [
        lifecycleOf(parsed.fields) ?? {
          event: describeEvent(spec, header, parsed.fields, query),
          payloadJson: parsed.json,
          fields: parsed.fields,
        },
      ];
    const at = webhooks.batch.items;
    const items = valueAtPath(parsed.fields, at);
    if (Array.isArray(items) && items.length === 0 && webhooks.batch.acceptEmpty) return [];
    if (!Array.isArray(items) || items.length === 0)
      throw new WebhookBodyError(`no events at body path "${at}": expected a non-empty array`);
    if (items.length > MAX_BATCH_ITEMS)
      throw new WebhookBodyError(`${items.length} events at body path "${at}": at most ${MAX_BATCH_ITEMS}`);
    const sig = webhooks.signature;
    return items.map((item: unknown, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw new WebhookBodyError(`item ${i} at body path "${at}" is not an object`);
      const fields = item as Record<string, unknown>;
      if (sig.scheme === 'client-state' && !clientStateMatches(sig, fields, secrets)) return 'refused';
      const lifecycle = lifecycleOf(fields);
      if (lifecycle) return lifecycle;
      try {
        return {
          event: describeEvent(spec, header, fields, query),
          payloadJson: JSON.stringify(fields),
          fields,
        };
      } catch (error) {
        if (error instanceof WebhookBodyError)
          throw new WebhookBodyError(`item ${i} at body path "${at}": ${error.message}`);
        throw error;
      }
    });
  }

  /**
   * Commits the events of one batch (one group commit, as their writes coalesce) and answers: 202 when
   * one is new, 200 when all were duplicates; `events` lists each item's outcome in order.
   */
  async function storeBatch(
    spec: IntegrationSpec,
    events: (EventOfRequest & { connection: string })[],
    sequence: { connection: string; mark: SequenceMark } | undefined,
  ): Promise<{ status: number; body: unknown }> {
    if (events.length === 0) return { status: 200, body: { status: 'duplicate', events: [] } };
    const outcomes = await Promise.allSettled(
      events.map((e) =>
        writer.write(traced(inboxRow(spec.id, e.connection, e.event, e.payloadJson, spec.webhooks!.dedupe))),
      ),
    );
    const failed = outcomes.find(
      (o): o is PromiseRejectedResult =>
        o.status === 'rejected' && !(o.reason instanceof UnstorableEventError),
    );
    if (failed) {
      // Some items may be stored: a redelivery finds them as duplicates and stores the rest.
      deps.log?.error({ err: failed.reason, integration: spec.id }, 'webhook inbox write failed');
      throw new HttpError(503, 'the events could not be stored; deliver them again');
    }
    const results = outcomes.map((o, i) => {
      const { eventId, eventType } = events[i]!.event;
      if (o.status === 'rejected')
        return { eventId, error: `the event cannot be stored: ${(o.reason as Error).message}` };
      deps.log?.info(
        {
          integration: spec.id,
          connection: events[i]!.connection,
          eventId,
          eventType,
          inboxId: o.value.id,
          duplicate: o.value.duplicate,
        },
        'webhook accepted',
      );
      return o.value.duplicate ? { eventId, duplicate: true } : { eventId, id: o.value.id };
    });
    const fresh = results.some((r) => 'id' in r);
    if (fresh) deps.onAccepted?.();
    if (fresh && sequence) await countSequence(spec, sequence.connection, sequence.mark);
    const stored = results.some((r) => !('error' in r));
    return {
      status: fresh ? 202 : stored ? 200 : 400,
      body: { status: fresh ? 'accepted' : stored ? 'duplicate' : 'failed', events: results },
    };
  }

  /** The delivery's sequence numbers, if the spec numbers deliveries and this one has them. */
  function sequenceOf(spec: IntegrationSpec, request: RequestValues): SequenceMark | undefined {
    const config = spec.webhooks!.sequence;
    if (!config) return undefined;
    const mark = readSequence(config, request);
    if (mark && 'problem' in mark) {
      // Authentic all the same: stored, just not counted.
      deps.log?.warn({ integration: spec.id, reason: mark.problem }, 'webhook sequence number not usable');
      return undefined;
    }
    return mark;
  }

  /**
   * Counts a stored delivery's numbers. After the commit: the event is safe whatever happens here, and
   * a number never counted only looks lost (a reconciliation too many, never one too few).
   */
  async function countSequence(spec: IntegrationSpec, connection: string, mark: SequenceMark): Promise<void> {
    try {
      const lost = await recordSequence(
        deps.db,
        spec.id,
        // Numbered across tenants: counted once for the integration.
        spec.webhooks!.sequence!.scope === 'integration' ? INTEGRATION_SCOPE : connection,
        mark,
        spec.webhooks!.sequence!.reorderSeconds * 1000,
      );
      if (lost.length > 0)
        deps.log?.warn({ integration: spec.id, connection, holes: lost.length }, 'webhook sequence skipped');
    } catch (error) {
      deps.log?.error({ err: error, integration: spec.id, connection }, 'webhook sequence not recorded');
    }
  }

  /** Commits an authentic event to the inbox and answers: 202 stored, 200 a duplicate. */
  async function store(
    spec: IntegrationSpec,
    connection: string,
    event: DescribedEvent,
    payloadJson: string,
    sequence: SequenceMark | undefined,
  ): Promise<{ status: number; body: unknown }> {
    let written: Written;
    try {
      written = await writer.write(
        traced(inboxRow(spec.id, connection, event, payloadJson, spec.webhooks!.dedupe)),
      );
    } catch (error) {
      if (error instanceof UnstorableEventError)
        throw new HttpError(400, `the event cannot be stored: ${error.message}`);
      deps.log?.error({ err: error, integration: spec.id, connection }, 'webhook inbox write failed');
      throw new HttpError(503, 'the event could not be stored; deliver it again');
    }
    deps.log?.info(
      {
        integration: spec.id,
        connection,
        eventId: event.eventId,
        eventType: event.eventType,
        inboxId: written.id,
        duplicate: written.duplicate,
      },
      'webhook accepted',
    );
    if (!written.duplicate) deps.onAccepted?.();
    if (!written.duplicate && sequence) await countSequence(spec, connection, sequence);
    return written.duplicate
      ? { status: 200, body: { status: 'duplicate', eventId: event.eventId } }
      : { status: 202, body: { status: 'accepted', eventId: event.eventId, id: written.id } };
  }

  /**
   * POST <path> of a spec routed by account: verified with the app's secrets, then written to the
   * connection with the delivery's account, or kept as unrouted (202 {"status":"unrouted"}) when no
   * connection has it yet.
   */
  async function acceptByAccount(
    req: IncomingMessage,
    spec: IntegrationSpec,
    target: string,
    end: number,
  ): Promise<{ status: number; body: unknown } | HandshakeAnswer> {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const webhooks = spec.webhooks!;
    const handshake = end === -1 ? undefined : queryHandshake(webhooks, target.slice(end));
    if (handshake) return handshake;
    checkContentType(req, webhooks.format);
    const body = await readBody(req, webhooks.maxBodyBytes);
    const secrets = router.appSecrets(spec);
    if (secrets.length === 0) {
      deps.log?.error({ integration: spec.id }, 'no app webhook secret is set (environment)');
      throw new HttpError(503, 'webhook secrets are not configured for this integration');
    }
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const verdict = verifySignature(webhooks.signature, { header, body }, secrets, now());
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    let events: EventOfRequest[];
    let accounts: string[];
    let lifecycle: { item: LifecycleItem; account: string }[];
    let sequence: SequenceMark | undefined;
    try {
      const parsed = parseBody(webhooks.format, body);
      // Handshakes come before routing: Slack's url_verification names no team.
      const answer = bodyHandshakeAnswer(webhooks, header, parsed.fields, secrets);
      if (answer) {
        deps.log?.info({ integration: spec.id }, 'webhook handshake answered');
        return answer;
      }
      const query = queryOf(target, end);
      const items = batchOf(spec, header, parsed, query, secrets);
      if (items.length === 0) return ACKNOWLEDGED;
      // Each event's own account: a batch's items may be for different tenants.
      const accountOf = (fields: Record<string, unknown>, i: number) => {
        const found = readValue(webhooks.route!.account, { header, body: fields, query });
        const where = webhooks.batch ? `item ${i} at body path "${webhooks.batch.items}": ` : '';
        if (!found.ok) throw new WebhookBodyError(`${where}no account at ${found.missing}`);
        if (found.value.length > 500)
          throw new WebhookBodyError(`${where}account is longer than 500 characters`);
        return found.value;
      };
      events = [];
      accounts = [];
      lifecycle = [];
      items.forEach((item, i) => {
        if (isEvent(item)) {
          events.push(item);
          accounts.push(accountOf(item.fields, i));
        } else if (isLifecycle(item)) lifecycle.push({ item, account: accountOf(item.fields, i) });
      });
      sequence = sequenceOf(spec, { header, body: parsed.fields, query });
    } catch (error) {
      if (error instanceof WebhookBodyError || error instanceof HandshakeError)
        throw new HttpError(400, error.message);
      throw error;
    }
    for (const { item, account } of lifecycle) {
      let connection: string | undefined;
      try {
        connection = await router.connectionFor(spec.id, account);
      } catch (error) {
        deps.log?.error({ err: error, integration: spec.id, account }, 'webhook routing failed');
        throw new HttpError(503, 'the lifecycle notification could not be routed; deliver it again');
      }
      // No connection has the account: it has no subscription to act on.
      if (connection === undefined)
        deps.log?.warn(
          { integration: spec.id, account, event: item.lifecycle.event },
          'lifecycle notification for an account no connection has: ignored',
        );
      else await handOver(spec, connection, [item]);
    }
    if (events.length === 0)
      return {
        status: 202,
        body: webhooks.batch
          ? { status: 'accepted', events: lifecycle.map((l) => lifecycleResult(l.item)) }
          : { status: 'accepted', lifecycle: lifecycleResult(lifecycle[0]!.item) },
      };
    if (!webhooks.batch) {
      const { event, payloadJson } = events[0]!;
      const routed = await routeEvent(spec, accounts[0]!, event, payloadJson);
      if (!('connection' in routed))
        return routed.duplicate
          ? { status: 200, body: { status: 'duplicate', eventId: event.eventId } }
          : { status: 202, body: { status: 'unrouted', account: accounts[0], eventId: event.eventId } };
      return store(spec, routed.connection, event, payloadJson, sequence);
    }
    // A batch: each item goes to its account's connection, or waits as unrouted.
    const routedEvents: (EventOfRequest & { connection: string })[] = [];
    const unrouted = new Map<
      number,
      { eventId: string; unrouted: string } | { eventId: string; duplicate: true }
    >();
    for (const [i, e] of events.entries()) {
      const routed = await routeEvent(spec, accounts[i]!, e.event, e.payloadJson);
      if ('connection' in routed) routedEvents.push({ ...e, connection: routed.connection });
      else
        unrouted.set(
          i,
          routed.duplicate
            ? { eventId: e.event.eventId, duplicate: true }
            : { eventId: e.event.eventId, unrouted: accounts[i]! },
        );
    }
    const first = routedEvents[0];
    const answer = await storeBatch(
      spec,
      routedEvents,
      sequence && first && { connection: first.connection, mark: sequence },
    );
    const stored = (answer.body as { events: unknown[] }).events;
    const results: unknown[] = [];
    for (let i = 0, r = 0; i < events.length; i++) results.push(unrouted.get(i) ?? stored[r++]);
    const waiting = [...unrouted.values()].some((u) => 'unrouted' in u);
    const status = answer.status === 202 || waiting ? 202 : answer.status;
    return {
      status,
      body: {
        status: status === 202 ? 'accepted' : (answer.body as { status: string }).status,
        events: results,
      },
    };
  }

  /**
   * The connection of an event's account, or the event kept as unrouted (nothing is lost) when no
   * connection has the account yet.
   */
  async function routeEvent(
    spec: IntegrationSpec,
    account: string,
    event: DescribedEvent,
    payloadJson: string,
  ): Promise<{ connection: string } | { duplicate: boolean }> {
    try {
      const connection = await router.connectionFor(spec.id, account);
      if (connection !== undefined) return { connection };
      const kept = await storeUnrouted(
        deps.db,
        account,
        inboxRow(spec.id, '', event, payloadJson, spec.webhooks!.dedupe),
      );
      if ('routedTo' in kept) return { connection: kept.routedTo };
      deps.log?.warn(
        { integration: spec.id, account, eventId: event.eventId, eventType: event.eventType },
        'webhook for an account no connection has: kept as unrouted',
      );
      return { duplicate: kept.duplicate };
    } catch (error) {
      if (error instanceof UnstorableEventError)
        throw new HttpError(400, `the event cannot be stored: ${error.message}`);
      deps.log?.error({ err: error, integration: spec.id, account }, 'webhook routing failed');
      throw new HttpError(503, 'the event could not be stored; deliver it again');
    }
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    if (req.url === '/healthz' || req.url === '/health') {
      send(res, 200, { status: 'ok' });
      return;
    }
    // Unknown routes and connections are counted without their made-up names (bounded labels).
    const seen = { integration: 'unknown', connection: '', bare: false };
    const bare = () => seen.bare;
    inSpan('webhook POST', {}, () => accept(req, seen)).then(
      (r) => {
        recordDelivery(seen.integration, seen.connection, r.status);
        if (bare()) sendBare(res, r.status >= 200 && r.status < 300 ? 200 : r.status);
        else if ('contentType' in r) sendText(res, r);
        else send(res, r.status, r.body);
      },
      (error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        recordDelivery(seen.integration, seen.connection, status);
        const message = error instanceof HttpError ? error.message : 'internal error';
        if (!(error instanceof HttpError)) deps.log?.error({ err: error }, 'webhook receiver error');
        else
          deps.log?.info(
            {
              status,
              reason: message,
              path: req.url,
              ms: Math.round((performance.now() - started) * 1000) / 1000,
            },
            'webhook rejected',
          );
        if (bare()) sendBare(res, status);
        else send(res, status, { error: message });
        // Stop reading what is left of an oversized body.
        if (status === 413) req.resume();
      },
    );
  };
}

/** A query-token handshake's answer, if the query carries one; a bad token is a 400. */
function queryHandshake(
  webhooks: IntegrationSpec['webhooks'] & object,
  search: string,
): HandshakeAnswer | undefined {
  if (!webhooks.handshakes.some((h) => h.answer === 'query-token')) return undefined;
  try {
    return queryTokenAnswer(webhooks, new URLSearchParams(search.startsWith('?') ? search.slice(1) : ''));
  } catch (error) {
    if (error instanceof HandshakeError) throw new HttpError(400, error.message);
    throw error;
  }
}

/** Query parameters for event templates, parsed only when one is asked for. */
function queryOf(target: string, end: number): (name: string) => string | undefined {
  let params: URLSearchParams | undefined;
  return (name) => {
    if (end === -1 || target[end] !== '?') return undefined;
    params ??= new URLSearchParams(target.slice(end + 1).split('#', 1)[0]);
    return params.get(name) ?? undefined;
  };
}

function sendText(res: ServerResponse, answer: HandshakeAnswer): void {
  if (res.headersSent) return;
  res.writeHead(answer.status, {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
    // The body echoes what the sender gave: never let a browser sniff it into something else.
    'x-content-type-options': 'nosniff',
  });
  res.end(answer.body);
}

/** `respond: { status: 200, body: none }`: the status alone (Xero wants no body, no cookies). */
function sendBare(res: ServerResponse, status: number): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface RunningReceiver {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  deps: ReceiverDeps & { port?: number; host?: string },
): Promise<RunningReceiver> {
  const server = createServer(createWebhookHandler(deps));
  // A slow sender must not hold a connection forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const host = deps.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The row with the receiver's trace, when tracing is on, for the dispatcher to continue. */
function traced(row: InboxRow): InboxRow {
  // Without a tracer the receiver starts no span: there is no trace to hand on.
  if (tracingOff()) return row;
  const traceparent = currentTraceparent();
  if (traceparent) row.trace_context = traceparent;
  return row;
}
