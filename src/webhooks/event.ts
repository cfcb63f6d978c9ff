/**
 * From an authentic request to the inbox row: parse the body, find the event id, type, order and the
 * entity it is about. Pure. A body that cannot be parsed, or that has no event id or type, is the
 * sender's mistake (400); an event that parses but cannot be applied (its record does not map) is
 * stored as failed so an operator sees it.
 */
import { isUtf8 } from 'node:buffer';
import { keyText, mapRecord } from '../mapping/map-record.js';
import type { IntegrationSpec } from '../spec/schema.js';
import { valueAtPath } from '../json/path.js';
import type { EventAction, ValueSpec, WebhooksConfig } from '../spec/webhooks-schema.js';
import { readValue, type RequestValues } from './request-values.js';

export class WebhookBodyError extends Error {
  override name = 'WebhookBodyError';
}

export interface DescribedEvent {
  eventId: string;
  eventType: string;
  action: EventAction['action'];
  resource: string | null;
  entityKey: string | null;
  /** Provider timestamp or sequence that orders events of one entity; null: arrival order. */
  orderKey: string | null;
  payload: unknown;
  /** Authentic but not applicable: stored as failed with this reason. */
  problem: string | null;
}

/** A parsed body: its fields, and the JSON stored as the event's payload. */
export interface ParsedBody {
  fields: Record<string, unknown>;
  /** JSON bodies are stored as sent; form bodies as the JSON of their fields. */
  json: string;
}

export function parseBody(format: WebhooksConfig['format'], raw: Buffer): ParsedBody {
  if (!isUtf8(raw)) throw new WebhookBodyError('body is not valid UTF-8');
  const text = raw.toString('utf8');
  if (format === 'form') {
    const params = new URLSearchParams(text);
    const out: Record<string, unknown> = {};
    for (const [k, v] of params) out[k] = v;
    // Slack interactivity sends its JSON in a `payload` field.
    if (typeof out.payload === 'string') {
      try {
        out.payload = JSON.parse(out.payload);
      } catch {
        // Keep it as text: it is still the event.
      }
    }
    return { fields: out, json: JSON.stringify(out) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WebhookBodyError(`body is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebhookBodyError(
      `body must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return { fields: value as Record<string, unknown>, json: text };
}

/**
 * Text Postgres can store: no NUL and no unpaired surrogate (both can arrive as JSON escapes). Checked
 * on what becomes a column, so one such event is refused alone instead of failing its whole batch.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what Postgres text cannot hold
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Any NUL or surrogate at all: a cheap first look, since almost no value has one. */
// eslint-disable-next-line no-control-regex -- as above
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

function checkText(what: string, value: string | null): void {
  if (value !== null && SUSPECT.test(value) && UNSTORABLE.test(value))
    throw new WebhookBodyError(`${what} contains a NUL character or an unpaired surrogate`);
}

export function describeEvent(
  spec: IntegrationSpec,
  header: (name: string) => string | undefined,
  body: Record<string, unknown>,
  query?: (name: string) => string | undefined,
): DescribedEvent {
  const e = describe(spec, { header, body, query: query ?? (() => undefined) });
  checkText('event id', e.eventId);
  checkText('event type', e.eventType);
  checkText('order key', e.orderKey);
  checkText('entity id', e.entityKey);
  // The reason may quote the record's values: keep it storable rather than refuse the event.
  return e.problem === null ? e : { ...e, problem: e.problem.replace(new RegExp(UNSTORABLE, 'g'), '\uFFFD') };
}

/** A required value, or a 400 naming what is missing. */
function required(what: string, spec: ValueSpec, request: RequestValues): string {
  const v = readValue(spec, request);
  if (v.ok) return v.value;
  throw new WebhookBodyError(
    `no ${what} at ${v.missing}${typeof spec === 'string' ? ` (of "${spec}")` : ''}`,
  );
}

function describe(spec: IntegrationSpec, request: RequestValues): DescribedEvent {
  const webhooks = spec.webhooks!;
  const body = request.body;
  const eventId = required('event id', webhooks.eventId, request);
  if (eventId.length > 500) throw new WebhookBodyError('event id is longer than 500 characters');
  const eventType = required('event type', webhooks.eventType, request);
  let orderKey: string | null = null;
  if (webhooks.order) {
    const order = readValue(webhooks.order, request);
    orderKey = order.ok ? order.value : null;
  }
  const action = webhooks.events[eventType] ?? webhooks.events['*'] ?? { action: 'ignore' as const };
  // One object shape for every outcome (no spreads): this runs for every accepted delivery.
  const described = (
    resource: string | null,
    entityKey: string | null,
    problem: string | null,
  ): DescribedEvent => ({
    eventId,
    eventType,
    action: action.action,
    resource,
    entityKey,
    orderKey,
    payload: body,
    problem,
  });
  if (action.action === 'ignore') return described(null, null, null);

  const resource = spec.resources[action.resource]!;
  if (action.action === 'upsert') {
    const mapped = mapRecord(resource, valueAtPath(body, action.record));
    return described(
      action.resource,
      mapped.key,
      mapped.ok ? null : `record at "${action.record}" does not map: ${mapped.reason}`,
    );
  }
  const key = primaryKeyText(valueAtPath(body, action.id), resource.primaryKey);
  return described(action.resource, key, key === null ? `no entity id at body path "${action.id}"` : null);
}

/**
 * The stored key of an entity from its id in an event: the same text a sync stores (keyText). A composite
 * key must come whole, as an array of its values in the key's order; a one-field key may come bare or as
 * a one-value array.
 */
function primaryKeyText(id: unknown, primaryKey: string | string[]): string | null {
  const fields = Array.isArray(primaryKey) ? primaryKey.length : 1;
  if (fields === 1) return keyText(Array.isArray(id) && id.length === 1 ? id : [id], false);
  return Array.isArray(id) && id.length === fields ? keyText(id, true) : null;
}
