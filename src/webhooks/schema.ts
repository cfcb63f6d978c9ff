/** The `webhooks` section of an integration spec. */
import { z } from 'zod';
import { signatureSchema } from './signatures.js';

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
