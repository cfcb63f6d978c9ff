/**
 * The `webhooks` section of an integration spec: signature schemes, event ids, types, routing and
 * actions. Part of the spec language, so it lives with the spec schema; src/webhooks/ implements it.
 */
import { z } from 'zod';
import { dotPath } from '../json/path.js';
import { secretRefSchema } from '../http/auth/schema.js';
import { parseValueTemplate, TemplateSyntaxError } from './webhook-templates.js';

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
  /**
   * Not a signature: Microsoft Graph echoes the subscription's `clientState` in every item of the
   * body's `value` array. Each must equal (compared in constant time) one of the secrets, or the
   * secret the connection's stored subscription holds (`webhooks.subscription.secretPath`).
   */
  z.strictObject({
    scheme: z.literal('client-state'),
    ...common,
    secrets: z.array(secretRefSchema).default([]),
    /** Dot path of the notifications array in the body. */
    items: z.string().min(1).default('value'),
    /** The field of each item holding the client state. */
    field: z.string().min(1).default('clientState'),
  }),
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
  z.strictObject({ path: dotPath().min(1) }),
]);
export type ValueSource = z.infer<typeof valueSourceSchema>;

/**
 * A value of the request: a source as above, or a template over headers, query and body such as
 * `'{header.x-github-event}.{body.action?}'` (src/spec/webhook-templates.ts; its syntax is checked
 * by the section's refinement, so `validate` names the field).
 */
export const valueSpecSchema = z.union([valueSourceSchema, z.string().min(1)]);
export type ValueSpec = z.infer<typeof valueSpecSchema>;

/** Which requests a handshake answers: a header or body value equal to a constant. */
const matchSchema = z.union([
  z.strictObject({ header: z.string().min(1).toLowerCase(), equals: z.string().min(1) }),
  z.strictObject({ path: dotPath().min(1), equals: z.string().min(1) }),
]);
export type HandshakeMatch = z.infer<typeof matchSchema>;

/**
 * Requests a provider sends to check the endpoint rather than to deliver an event. They are answered
 * and not stored. All but `query-token` are answered only after the signature has been verified.
 */
export const handshakeSchema = z.discriminatedUnion('answer', [
  /** Echo a challenge found in the body (Slack url_verification): 200 {"<field>": challenge} or text. */
  z.strictObject({
    answer: z.literal('challenge'),
    when: matchSchema,
    /** Dot path of the challenge in the body. */
    challenge: z.string().min(1),
    respond: z.enum(['json', 'text']).default('json'),
    /** The JSON field of the answer (respond: json). */
    field: z.string().min(1).default('challenge'),
  }),
  /**
   * Answer a validation token sent in the query (Microsoft Graph validationToken): 200 text/plain with
   * the token, before any content-type or signature check (the request is not signed, has no body,
   * and nothing is stored).
   */
  z.strictObject({ answer: z.literal('query-token'), query: z.string().min(1) }),
  /**
   * Answer an HMAC of a plain token keyed with the webhook secret (Zoom endpoint.url_validation):
   * 200 {"<tokenField>": token, "<hmacField>": hex or base64 HMAC of the token}.
   */
  z.strictObject({
    answer: z.literal('hmac-token'),
    when: matchSchema,
    /** Dot path of the plain token in the body. */
    token: z.string().min(1),
    algorithm: z.enum(['sha256', 'sha512']).default('sha256'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    tokenField: z.string().min(1).default('plainToken'),
    hmacField: z.string().min(1).default('encryptedToken'),
  }),
  /** Acknowledge a ping (GitHub `ping`): 200 {"status":"acknowledged"}, nothing stored. */
  z.strictObject({ answer: z.literal('ack'), when: matchSchema }),
]);
export type Handshake = z.infer<typeof handshakeSchema>;

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
    recordPath: dotPath().default(''),
  }),
  /** Acknowledge and store, do nothing else. */
  z.strictObject({ action: z.literal('ignore') }),
]);
export type EventAction = z.infer<typeof eventActionSchema>;

/**
 * One URL for many tenants: the connection is the one whose provider account (`connection add
 * --account`) equals this value of the delivery, e.g. '{body.installation.id}' for a GitHub App.
 */
export const routeSchema = z.strictObject({
  /** The provider's account id in each delivery: { header }, { path } or a template. */
  account: valueSpecSchema,
});

/**
 * A request of the subscription lifecycle, sent with the connection's auth and rate limits. The path
 * and the string values of the body are templates: {config.name}, {subscription.id} (the stored id),
 * {expiry} (now plus lifetimeSeconds, ISO 8601).
 */
export const subscriptionRequestSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  path: z.string().startsWith('/', 'must start with "/"'),
  body: z.record(z.string(), z.unknown()).optional(),
});
export type SubscriptionRequest = z.infer<typeof subscriptionRequestSchema>;

/**
 * The provider's webhook subscription, kept by a durable workflow per connection
 * (`webhook-subscription:<integration>:<connection>`): created on `connection add`, renewed before
 * it expires, removed on `connection remove`. A subscription found lapsed (or re-created) starts an
 * incremental sync of the `reconcile` resources, covering events that were never delivered.
 */
export const subscriptionSchema = z.strictObject({
  subscribe: subscriptionRequestSchema,
  renew: subscriptionRequestSchema.optional(),
  unsubscribe: subscriptionRequestSchema.optional(),
  /** Dot path of the subscription id in the subscribe answer. */
  idPath: dotPath().min(1).default('id'),
  /** Dot path of its expiry (ISO 8601) in the subscribe and renew answers; none: it does not expire. */
  expiresPath: dotPath().min(1).optional(),
  /** Dot path of a signing secret the provider returns (stored sealed, never logged). */
  secretPath: dotPath().min(1).optional(),
  /** The lifetime asked for, filling {expiry} (Microsoft Graph: at most 4230 minutes for most resources). */
  lifetimeSeconds: z
    .number()
    .int()
    .positive()
    .default(3 * 24 * 3600),
  /** Renew this long before the expiry. */
  renewBeforeSeconds: z.number().int().positive().default(3600),
});
export type SubscriptionConfig = z.infer<typeof subscriptionSchema>;

/**
 * A sequence number the provider puts on every delivery, counting up by one (Telegram's `update_id`;
 * Xero's `firstEventSequence`..`lastEventSequence` per delivery). A number that never arrives is an
 * event lost: once it is still missing `reorderSeconds` after a later number came, the `reconcile`
 * syncs are started. Read from the whole request (with `batch`, not from the items).
 */
export const sequenceSchema = z.strictObject({
  /** The delivery's number (an integer), or the first of the range it covers. */
  value: valueSpecSchema,
  /** The last number of a delivery covering a range; default: the value. */
  last: valueSpecSchema.optional(),
  /**
   * Numbers count per connection; per integration when the provider numbers all tenants' deliveries
   * together (an app-wide webhook routed by account: a gap reconciles every connection); or per value
   * of this template (a channel, a subscription).
   */
  scope: z.union([z.literal('connection'), z.literal('integration'), valueSpecSchema]).default('connection'),
  /** How long a skipped number may still arrive out of order before it counts as lost. */
  reorderSeconds: z.number().int().positive().default(60),
});
export type SequenceConfig = z.infer<typeof sequenceSchema>;

/**
 * Notifications about the subscription itself rather than a record (Microsoft Graph's lifecycle
 * notifications: `missed`, `reauthorizationRequired`, `subscriptionRemoved`). A delivery (or batch
 * item) whose `event` value is listed is not stored as an event: its action is handed to Temporal.
 */
export const lifecycleSchema = z.strictObject({
  /** The lifecycle event of a delivery or item: { header }, { path } or a template. */
  event: valueSpecSchema,
  /**
   * Lifecycle event → action: `reconcile` (notifications were dropped: start the `reconcile` syncs),
   * `renew` (renew the subscription now), `resubscribe` (the provider removed it: subscribe again,
   * then reconcile).
   */
  actions: z
    .record(z.string().min(1), z.enum(['reconcile', 'renew', 'resubscribe']))
    .refine((a) => Object.keys(a).length > 0, 'list at least one lifecycle event'),
});
export type LifecycleConfig = z.infer<typeof lifecycleSchema>;
export type LifecycleAction = LifecycleConfig['actions'][string];

export const webhooksSchema = z
  .strictObject({
    /**
     * Route prefix; the connection id is the next path segment: POST <path>/<connection>. With
     * `route`, deliveries for every tenant go to POST <path> itself. Default /webhooks/<integration id>.
     */
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.-]*[^/]$/, 'a path like /webhooks/tracker (no trailing slash)')
      .optional(),
    signature: signatureSchema,
    /** Route by the provider's account instead of by a connection id in the path. */
    route: routeSchema.optional(),
    /** Create, renew and remove the provider's subscription with the connection. */
    subscription: subscriptionSchema.optional(),
    /**
     * Resources whose incremental sync reconciles the webhooks: started automatically after a gap (a
     * lapsed or re-created subscription, or `syncwright webhooks reconcile`).
     */
    reconcile: z.array(z.string().min(1)).default([]),
    /** How the body is encoded: JSON, or a form (Slack commands). */
    format: z.enum(['json', 'form']).default('json'),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Checks of the endpoint answered without storing anything (challenges, validation tokens, pings). */
    handshakes: z.array(handshakeSchema).default([]),
    /** Unique per delivery: what makes a repeated delivery a duplicate. */
    eventId: valueSpecSchema,
    /**
     * Where an event id is unique: per connection (the default: one tenant's ids never silence another
     * tenant's), or across the integration, when the provider's ids are global and one event may be
     * delivered to several connection routes.
     */
    dedupe: z.enum(['connection', 'integration']).default('connection'),
    eventType: valueSpecSchema,
    /** Orders events of one entity (a timestamp or a sequence); without it, arrival order. */
    order: valueSpecSchema.optional(),
    /**
     * A body carrying several events (Microsoft Graph: {"value": [notification, …]}): each item of the
     * array at `items` is an event of its own. eventId, eventType, order, route.account and the event
     * actions read the item (`{body.…}` / `path`); headers and query are the request's.
     */
    batch: z
      .strictObject({
        items: z.string().min(1),
        /**
         * An authentic body whose array is empty is answered 200 and stores nothing (Xero's
         * intent-to-receive check sends `"events": []`); otherwise it is a 400.
         */
        acceptEmpty: z.boolean().default(false),
      })
      .optional(),
    /**
     * How successful deliveries are answered: the default is 202 (200 for a duplicate) with a JSON
     * body; `{ status: 200, body: none }` answers every 2xx as a bare 200 with no body, and errors
     * with no body either (Xero requires both).
     */
    respond: z.strictObject({ status: z.literal(200), body: z.literal('none') }).optional(),
    /** Deliveries numbered in sequence: a skipped number starts the `reconcile` syncs. */
    sequence: sequenceSchema.optional(),
    /** Subscription lifecycle notifications: reconcile, renew or resubscribe. */
    lifecycle: lifecycleSchema.optional(),
    /** Event type → what to do; "*" matches types not listed. Unlisted types are stored and ignored. */
    events: z.record(z.string().min(1), eventActionSchema),
  })
  .superRefine(checkTemplates);
export type WebhooksConfig = z.infer<typeof webhooksSchema>;

/** Template syntax of eventId, eventType, order and route.account, reported at their spec paths. */
function checkTemplates(
  w: {
    eventId: ValueSpec;
    eventType: ValueSpec;
    order?: ValueSpec | undefined;
    route?: { account: ValueSpec } | undefined;
    sequence?: SequenceConfig | undefined;
    lifecycle?: LifecycleConfig | undefined;
    subscription?: { renew?: unknown } | undefined;
    reconcile: string[];
    signature: { secrets: unknown[] };
  },
  ctx: z.RefinementCtx,
): void {
  const values: [(string | number)[], ValueSpec | undefined][] = [
    [['eventId'], w.eventId],
    [['eventType'], w.eventType],
    [['order'], w.order],
    [['route', 'account'], w.route?.account],
    [['sequence', 'value'], w.sequence?.value],
    [['lifecycle', 'event'], w.lifecycle?.event],
    [['sequence', 'last'], w.sequence?.last],
    [
      ['sequence', 'scope'],
      w.sequence?.scope === 'connection' || w.sequence?.scope === 'integration'
        ? undefined
        : w.sequence?.scope,
    ],
  ];
  for (const [path, v] of values) {
    if (typeof v !== 'string') continue;
    try {
      parseValueTemplate(v);
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      ctx.addIssue({ code: 'custom', path, message: error.message });
    }
  }
  if (w.sequence && w.reconcile.length === 0)
    ctx.addIssue({
      code: 'custom',
      path: ['sequence'],
      message:
        'a skipped sequence number is caught up by the webhooks.reconcile syncs: list at least one resource there',
    });
  for (const [event, action] of Object.entries(w.lifecycle?.actions ?? {})) {
    const path = ['lifecycle', 'actions', event];
    if (action !== 'renew' && w.reconcile.length === 0)
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${action} catches up with the webhooks.reconcile syncs: list at least one resource there`,
      });
    if (action !== 'reconcile' && !w.subscription)
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${action} acts on the subscription: declare webhooks.subscription`,
      });
    if (action === 'renew' && w.subscription && !w.subscription.renew)
      ctx.addIssue({ code: 'custom', path, message: 'renew needs webhooks.subscription.renew' });
  }
  // Routed by account, the connection is known only after the signature is checked: the secret is the
  // app's, the same for every tenant.
  if (w.route)
    w.signature.secrets.forEach((ref, i) => {
      if (typeof ref === 'string')
        ctx.addIssue({
          code: 'custom',
          path: ['signature', 'secrets', i],
          message:
            "with route.account the secret is the app's (one for all tenants): use { env: NAME }, not a connection secret",
        });
    });
}
