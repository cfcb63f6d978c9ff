/**
 * The `webhooks` section of an integration spec: signature schemes, event ids, types, routing and
 * actions. Part of the spec language, so it lives with the spec schema; src/webhooks/ implements it.
 */
import { z } from 'zod';
import { secretRefSchema } from '../http/auth/schema.js';

const common = {
  /** Secret references (connection secret names or { env: NAME }); more than one while rotating. */
  secrets: z.array(secretRefSchema).min(1, 'at least one secret'),
  /** How far a signed timestamp may be from now, either way. */
  toleranceSeconds: z.number().int().positive().default(300),
};

export const signatureSchema = z.discriminatedUnion('scheme', [
  /** X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>. No timestamp. */
  z.strictObject({ scheme: z.literal('github'), ...common }),
  /** Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body"> keyed with the whole whsec_ string. */
  z.strictObject({ scheme: z.literal('stripe'), ...common }),
  /** X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the body. No timestamp. */
  z.strictObject({ scheme: z.literal('shopify'), ...common }),
  /** X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:timestamp:body">, X-Slack-Request-Timestamp. */
  z.strictObject({ scheme: z.literal('slack'), ...common }),
  /** Standard Webhooks (Svix): webhook-id/-timestamp/-signature, "v1,<base64>" of "id.timestamp.body". */
  z.strictObject({ scheme: z.literal('standard-webhooks'), ...common }),
  /** Anything else that signs with an HMAC. */
  z.strictObject({
    scheme: z.literal('hmac'),
    ...common,
    algorithm: z.enum(['sha1', 'sha256', 'sha512']).default('sha256'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    /** Header carrying the signature. */
    header: z.string().min(1),
    /** Text before the signature in the header, e.g. "sha256=". */
    prefix: z.string().default(''),
    /** What is signed: {body}, {timestamp} and {id} are replaced by the raw body and the headers' values. */
    signed: z.string().default('{body}'),
    timestampHeader: z.string().min(1).optional(),
    idHeader: z.string().min(1).optional(),
    /** How the secret is turned into key bytes. */
    secretEncoding: z.enum(['utf8', 'base64', 'hex']).default('utf8'),
  }),
]);

export type SignatureConfig = z.infer<typeof signatureSchema>;
export type SignatureScheme = SignatureConfig['scheme'];

/** Where a value comes from: a request header or a dot path in the parsed body. */
export const valueSourceSchema = z.union([
  z.strictObject({ header: z.string().min(1).toLowerCase() }),
  z.strictObject({ path: z.string().min(1) }),
]);
export type ValueSource = z.infer<typeof valueSourceSchema>;

const eventActionSchema = z.discriminatedUnion('action', [
  /** Upsert the record found in the payload, through the resource's mapping. */
  z.strictObject({
    action: z.literal('upsert'),
    resource: z.string().min(1),
    /** Dot path of the record in the payload ("" for the whole body). */
    record: z.string().default(''),
  }),
  /** Mark the entity deleted. */
  z.strictObject({
    action: z.literal('delete'),
    resource: z.string().min(1),
    /** Dot path of the entity's primary key in the payload. */
    id: z.string().min(1),
  }),
  /** Read the entity from the API (rate-limited like any request) and upsert it; a 404 deletes it. */
  z.strictObject({
    action: z.literal('refetch'),
    resource: z.string().min(1),
    id: z.string().min(1),
    /** Path template of the single-entity endpoint: {id} and connection config fields. */
    path: z.string().startsWith('/', 'must start with "/"'),
    /** Dot path of the record in the answer ("" for the whole body). */
    recordPath: z.string().default(''),
  }),
  /** Acknowledge and store, do nothing else. */
  z.strictObject({ action: z.literal('ignore') }),
]);
export type EventAction = z.infer<typeof eventActionSchema>;

export const webhooksSchema = z.strictObject({
  /**
   * Route prefix; the connection id is the next path segment: POST <path>/<connection>.
   * Default /webhooks/<integration id>.
   */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9/_.-]*[^/]$/, 'a path like /webhooks/tracker (no trailing slash)')
    .optional(),
  signature: signatureSchema,
  /** How the body is encoded: JSON, or a form (Slack commands). */
  format: z.enum(['json', 'form']).default('json'),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Unique per delivery: what makes a repeated delivery a duplicate. */
  eventId: valueSourceSchema,
  /**
   * Where an event id is unique: per connection (the default: one tenant's ids never silence another
   * tenant's), or across the integration, when the provider's ids are global and one event may be
   * delivered to several connection routes.
   */
  dedupe: z.enum(['connection', 'integration']).default('connection'),
  eventType: valueSourceSchema,
  /** Orders events of one entity (a timestamp or a sequence); without it, arrival order. */
  order: valueSourceSchema.optional(),
  /** Event type → what to do; "*" matches types not listed. Unlisted types are stored and ignored. */
  events: z.record(z.string().min(1), eventActionSchema),
});
export type WebhooksConfig = z.infer<typeof webhooksSchema>;
