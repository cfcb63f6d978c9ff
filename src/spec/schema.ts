/**
 * The integration spec: one zod schema, the single source of truth for "describe a provider's API
 * once". Types come from it (z.infer); JSON, YAML and TypeScript specs all pass through it.
 */
import { z } from 'zod';
import { checkOAuthFlowAuth } from '../http/auth/spec-checks.js';
import { checkAuthExtras } from '../http/auth/extra-checks.js';
import {
  resourceAuthSchema,
  specAuthSchema,
  type AuthConfig,
  type SelectAuthConfig as SelectAuth,
  type SessionTokenAuthConfig,
} from '../http/auth/schema.js';
import { authChoices, type AuthChoice } from '../http/auth/select.js';
import { baseUrlPlaceholders, baseUrlProblem, usesInstanceUrl } from '../http/base-url.js';
import { pathSecretNames } from '../http/path-secrets.js';
import { hostPatternsSchema } from '../http/instance-url.js';
import { decoderSchema } from '../http/decoders.js';
import { timeZoneProblem } from '../http/request-template.js';
import { responseRuleSchema } from '../http/response-rules.js';
import {
  fieldsSchema,
  flattenSchema,
  recordFilterSchema,
  recordSchemaSchema,
  removeFieldsSchema,
} from '../mapping/schema.js';
import { paginationSchema } from '../pagination/schema.js';
import { checkPagination } from '../pagination/checks.js';
import { dotPath, hasWildcard } from '../json/path.js';
import { webhooksSchema } from './webhooks-schema.js';
import { exportSchema, withExportRequest } from './export-schema.js';
import { checkExport } from './export-checks.js';
import { checkRequestTemplates, templateProblems } from './template-checks.js';
import { placeholdersOf } from '../template/template.js';
import { timePatternProblem } from '../template/parse-time.js';
import { CONFIG_STEP, STEP_TEXT } from './step.js';
import { alternativesOf, boundProblem, CONFIG_START, dateBoundSchema } from './date-bound.js';
import { parentParamsOf, parentResources } from './parent.js';

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "-" and "_", starting with a letter or digit');

const configFieldSchema = z.strictObject({
  /** `list`: text values (comma-separated on the command line), e.g. the values a parent runs over. */
  type: z.enum(['string', 'number', 'boolean', 'list']).default('string'),
  required: z.boolean().default(true),
  /** A regular expression string values must match. */
  pattern: z.string().optional(),
  description: z.string().optional(),
  /**
   * `url`: the value is a whole http(s) URL that may start baseUrl or a token URL
   * (`{config.endpoint}/api/v1`), checked when a connection is saved and before every use
   * (src/http/base-url.ts).
   */
  format: z.literal('url').optional(),
  /** With `format: url`: the hosts the URL may be on (`*.rocket.chat`, `127.0.0.1:*`). */
  hosts: hostPatternsSchema.optional(),
});

const requestSchema = z.strictObject({
  method: z.enum(['GET', 'POST']).default('GET'),
  /** Path template: {name} is a connection config field, {parent.field} a field of the parent record. */
  path: z.string().startsWith('/', 'must start with "/"'),
  /** Query values, headers and body are request templates (src/http/request-template.ts). */
  query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional(),
  /**
   * How the body is sent: JSON (the default), or `form`, an HTML form (application/x-www-form-urlencoded)
   * of the body's fields. A GET may have a body too. A GET or a form whose fields all have no value sends no body.
   */
  bodyFormat: z.enum(['json', 'form']).optional(),
  /**
   * A GraphQL request: POSTed as `{ query, variables }`. The query text is sent as written; the
   * variables are templates (`after: "{cursor}"`).
   */
  graphql: z
    .strictObject({ query: z.string().min(1), variables: z.record(z.string(), z.unknown()).default({}) })
    .optional(),
});

/** `incremental.startDate` taken from a connection's config (a whole `{config.<field>}`). */
export { CONFIG_START };

const incrementalSchema = z.strictObject({
  /** Field of the mapped record that grows with every change, e.g. updated_at. */
  cursorField: z.string().min(1),
  /**
   * Query parameter the last high-water mark is sent in. Without it, the request templates place it:
   * `{since}`, `{window.start}`, `{window.end}` (e.g. inside a JQL or SOQL query, or a JSON body).
   */
  param: z.string().min(1).optional(),
  format: z.enum(['iso', 'unix', 'unix-ms']).default('iso'),
  /**
   * How records write cursorField when it is neither ISO 8601 nor a unix number: a date pattern
   * (`yyyyMMdd`, `dd/MM/yyyy HH:mm`; tokens yyyy MM dd HH mm ss SSS, the wall clock read as UTC).
   * Values are read by it, so they compare as times; the high-water mark is kept as ISO text.
   */
  cursorFormat: z
    .string()
    .min(1)
    .superRefine((pattern, ctx) => {
      const problem = timePatternProblem(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** Re-read this much before the high-water mark, for providers whose clocks or indexes lag. */
  lookbackSeconds: z.number().int().min(0).default(0),
  /**
   * Where a first run (no high-water mark yet) starts: an ISO date or time, a template over the
   * connection's config and `{now}` (the run's start), e.g. `{config.start_date}` or
   * `{now|minus:P30D}`, or a list of those of which the first with a value wins. No value: from the
   * provider's beginning.
   */
  startDate: dateBoundSchema.optional(),
  /**
   * Where every run's range ends, instead of the time of the run: the same forms as startDate (e.g.
   * `['{config.end_date}', '{now|minus:P1D}']`). A run whose start is past it reads nothing; with
   * clientSide, records after it are skipped.
   */
  endDate: dateBoundSchema.optional(),
  /**
   * Slice the range into windows of this length ("7d", "12h", "30m" or seconds); each commits. The
   * number may come from the connection's config, with a default for when it has none:
   * `{config.batch_days|default:31}d`.
   */
  step: z
    .union([
      z.number().int().positive(),
      z
        .string()
        .regex(
          STEP_TEXT,
          'expected a length such as "7d", "12h", "30m" or seconds, or {config.<field>|default:<n>}d',
        ),
    ])
    .optional(),
  /** The range ends this long before now, for providers whose latest data is still settling. */
  lagSeconds: z.number().int().min(0).default(0),
  /**
   * The provider cannot filter: every page is read, and records at or below the high-water mark (less
   * lookbackSeconds; before startDate on a first run) are skipped, not rewritten; so are records after
   * endDate, when there is one.
   */
  clientSide: z.boolean().default(false),
  /**
   * The provider cannot filter and the cursor does not show every change (e.g. `created_at`): each
   * incremental run reads every record and writes what changed, without marking unseen records deleted,
   * and keeps the high-water mark. Nothing is sent and nothing skipped (no param, range or clientSide).
   */
  readsAll: z.boolean().default(false),
  /** How the provider orders records by cursorField; `descending` (newest first) stops at the first old one. */
  order: z.enum(['unsorted', 'descending']).default('unsorted'),
});

/**
 * The zone date patterns in request templates are written in: an IANA name, or `{config.name}` when
 * each connection says (Jira's JQL dates are in the user's zone).
 */
const timeZoneSchema = z.string().superRefine((zone, ctx) => {
  if (/^\{config\.[A-Za-z_][A-Za-z0-9_]*\}$/.test(zone)) return;
  const problem = timeZoneProblem(zone);
  if (problem) ctx.addIssue({ code: 'custom', message: `${problem}, or {config.<field>}` });
});

const mapFunction = z.custom<(record: Record<string, unknown>) => Record<string, unknown>>(
  (v) => typeof v === 'function',
  'must be a function (only in TypeScript specs)',
);

const parentResourceSchema = z.strictObject({
  resource: z.string().min(1),
  /** Path placeholder → field of the parent record, e.g. { repo: "name" } for {parent.repo}. */
  params: z.record(z.string().min(1), z.string().min(1)),
  /**
   * An incremental run visits only the parents whose stored record changed (was added, rewritten or
   * revived) since this resource's last completed run; a full run, or the first, visits every parent.
   */
  changedOnly: z.boolean().optional(),
});

const parentValuesSchema = z.strictObject({
  values: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a placeholder name'),
      z.union([
        z.array(z.union([z.string().min(1), z.number(), z.boolean()])).min(1, 'at least one value'),
        z.string().regex(CONFIG_START, 'a list of values, or {config.<field>} of a list field'),
      ]),
    )
    .refine((v) => Object.keys(v).length > 0, 'at least one list of values'),
});

export const resourceSchema = z.strictObject({
  description: z.string().optional(),
  request: requestSchema,
  /** Dot path of the records array in the response; "" when the body is the array. */
  recordsPath: dotPath().default(''),
  /**
   * `true`: the answer at recordsPath is one record (an object), not a list — a profile, an account's
   * settings, today's quote; a list there is an error. `auto`: an object is one record and a list is
   * records (what Airbyte's extractor does). A missing or null value is no record. Not paginated.
   */
  single: z.union([z.boolean(), z.literal('auto')]).default(false),
  /** How answers are decoded: JSON (default), JSON Lines or CSV, optionally a gzip/deflate file. */
  decoder: decoderSchema.optional(),
  /** Field path(s) of the mapped record that identify it (required unless appendOnly). */
  primaryKey: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /**
   * Records are only ever added (logs, events, history rows): a full sync never marks one deleted.
   * Without a primaryKey each distinct record is stored once, keyed by the sha256 of its content.
   */
  appendOnly: z.boolean().default(false),
  /** Output field → source. Without it, records are stored as the provider sends them. */
  fields: fieldsSchema.optional(),
  /** Keep fields not named in `fields` (default: only when `fields` is absent). */
  passthrough: z.boolean().optional(),
  /** TypeScript specs: a last mapping step in code. */
  map: mapFunction.optional(),
  /** Keep only records for which every condition holds (on the record as sent); others are skipped. */
  filter: recordFilterSchema.optional(),
  /**
   * Records for which every condition holds are deleted at the provider (Zendesk's `status: deleted`,
   * Salesforce's `IsDeleted: true`): the stored record is marked deleted instead of rewritten.
   */
  deletedWhen: recordFilterSchema.optional(),
  /** Move the fields of nested objects to the top before mapping, e.g. HubSpot's `properties`. */
  flatten: flattenSchema.optional(),
  /** Fields dropped from stored records, e.g. `content.html` or `items.*.secret` (after mapping). */
  removeFields: removeFieldsSchema.optional(),
  schema: recordSchemaSchema.optional(),
  pagination: paginationSchema.default({ type: 'none', stopOnEmptyPage: true }),
  incremental: incrementalSchema.optional(),
  /** Date patterns in this resource's templates are in this zone (overrides the integration's). */
  timeZone: timeZoneSchema.optional(),
  /** What answers mean beyond their status; checked before the integration's rules. */
  responseRules: z.array(responseRuleSchema).default([]),
  /**
   * This resource's requests authenticate with this instead of the spec's auth (static types only),
   * with secrets declared in the spec's `secrets`.
   */
  auth: resourceAuthSchema.optional(),
  /** Cost of one request to this resource in the integration's rate limits (default 1). */
  requestCost: z.number().int().positive().default(1),
  /**
   * Run once per record of another resource, or once per combination of listed values (the cartesian
   * product: `values: { strategy: [desktop, mobile], locale: [en, de] }` is four runs); either way the
   * values are `{parent.<name>}` in the templates and child records are keyed per parent.
   */
  parent: z
    .union([
      parentResourceSchema,
      parentValuesSchema,
      z.strictObject({
        /**
         * Every combination of one record of each parent resource (and one value of each list), as
         * Airbyte's several SubstreamPartitionRouters give: `[{ resource: accounts, params: { account: id } },
         * { resource: inboxes, params: { inbox: id } }]` runs once per account and inbox.
         */
        product: z
          .array(z.union([parentResourceSchema, parentValuesSchema]))
          .min(2, 'at least two parents to combine'),
      }),
    ])
    .optional(),
  /**
   * An asynchronous bulk export (submit a job, poll it, download its files) instead of paged requests;
   * `request` may then be left out (export-schema.ts).
   */
  export: exportSchema.optional(),
});

/** What a spec author writes for a resource: an export resource may leave `request` out. */
type ResourceInput = Omit<z.input<typeof resourceSchema>, 'request'> & {
  request?: z.input<typeof requestSchema>;
};
const resourceEntrySchema = z.preprocess(withExportRequest, resourceSchema) as unknown as z.ZodType<
  z.infer<typeof resourceSchema>,
  ResourceInput
>;

const PER_MS = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** A provider limit, applied per connection and shared by every worker through the rate ledger. */
const rateLimitSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** Requests (or cost units) allowed per interval. */
    limit: z.number().int().positive(),
    per: z.enum(['second', 'minute', 'hour', 'day']).optional(),
    intervalSeconds: z.number().positive().optional(),
    /** How many may go at once after a quiet spell (default 1: evenly paced). */
    burst: z.number().int().positive().optional(),
  })
  .refine((r) => !r.per !== !r.intervalSeconds, {
    message: 'give exactly one of per or intervalSeconds',
    path: ['per'],
  })
  .transform((r) => ({
    name: r.name ?? `${r.limit}/${r.per ?? `${r.intervalSeconds}s`}`,
    limit: r.limit,
    intervalMs: r.per ? PER_MS[r.per] : r.intervalSeconds! * 1000,
    ...(r.burst ? { burst: r.burst } : {}),
  }));

export const retrySchema = z.strictObject({
  timeoutMs: z.number().int().positive().default(30_000),
  maxAttempts: z.number().int().positive().default(8),
  initialIntervalMs: z.number().int().positive().default(1000),
  maxIntervalMs: z.number().int().positive().default(60_000),
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
});

/** An origin (scheme, host, port) only: no path, query or user info. */
const originString = z.string().refine(
  (v) => {
    try {
      const u = new URL(v);
      return /^https?:$/.test(u.protocol) && u.origin === v.replace(/\/$/, '');
    } catch {
      return false;
    }
  },
  { message: 'expected an origin such as "https://files.example.com" (scheme, host and port only)' },
);

/**
 * Origins besides baseUrl's that next links, next URLs and redirects may lead to, e.g. a CDN serving
 * export files. They get no credentials unless `credentials: true`.
 */
const allowedOriginSchema = z
  .union([originString, z.strictObject({ origin: originString, credentials: z.boolean().default(false) })])
  .transform((v) =>
    typeof v === 'string'
      ? { origin: new URL(v).origin, credentials: false }
      : { origin: new URL(v.origin).origin, credentials: v.credentials },
  );
/**
 * The provider's origin (and base path) every request path is appended to. It may hold `{config.name}`
 * placeholders in its host or path, filled per connection (src/http/base-url.ts).
 */
export const baseUrlSchema = z.string().superRefine((u, ctx) => {
  const problem = baseUrlProblem(u);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const integrationSpecObject = z.strictObject({
  id: slug,
  name: z.string().optional(),
  baseUrl: baseUrlSchema,
  headers: z.record(z.string(), z.string()).default({}),
  allowedOrigins: z.array(allowedOriginSchema).default([]),
  connectionConfig: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), configFieldSchema).default({}),
  /** Names of the secrets each connection must supply, with what they are. */
  secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  auth: specAuthSchema.default({ type: 'none' }),
  resources: z
    .record(slug, resourceEntrySchema)
    .refine((r) => Object.keys(r).length > 0, 'at least one resource'),
  retry: retrySchema.default(retrySchema.parse({})),
  rateLimits: z.array(rateLimitSchema).default([]),
  /** What answers mean beyond their status (e.g. Slack's 200 with "ok": false), for every resource. */
  responseRules: z.array(responseRuleSchema).default([]),
  /** Requests in flight at once per connection, across every worker (leases in Postgres). */
  maxConcurrentRequests: z.number().int().positive().optional(),
  /** Date patterns in request templates are in this zone (default UTC); resources may override it. */
  timeZone: timeZoneSchema.optional(),
  webhooks: webhooksSchema.optional(),
});

/**
 * The cross-field rules run even when fields have their own problems, so one `validate` pass reports
 * every mistake. A part too malformed to cross-check (its own problems are reported) is skipped.
 */
export const integrationSpecSchema = integrationSpecObject.superRefine(
  (spec, ctx) => {
    if (spec !== null && typeof spec === 'object') tolerant(() => checkReferences(spec, ctx));
  },
  { when: () => true },
);

export type IntegrationSpec = z.infer<typeof integrationSpecSchema>;
export type IntegrationSpecInput = z.input<typeof integrationSpecSchema>;
export type ResourceSpec = z.infer<typeof resourceSchema>;

const PLACEHOLDER = /\{([^{}]+)\}/g;

/** Cross-field rules a schema per field cannot express; each problem names its path. */
function checkReferences(spec: z.infer<typeof integrationSpecObject>, ctx: z.RefinementCtx): void {
  // Every auth a connection may use: the spec's, or each of its options (`type: select`).
  const choices: AuthChoice[] = (tolerantValue(() => authChoices(spec.auth)) ?? []).filter(
    (c) => c.auth !== null && typeof c.auth === 'object',
  );
  // baseUrl and the auth URLs: {config.name} placeholders, a pattern for those in a host.
  const urls: [(string | number)[], unknown, AuthConfig | undefined][] = [
    [['baseUrl'], spec.baseUrl, undefined],
    ...choices.flatMap(({ auth, at }): [(string | number)[], unknown, AuthConfig][] => [
      [[...at, 'tokenUrl'], (auth as { tokenUrl?: unknown }).tokenUrl, auth],
      [[...at, 'authorizeUrl'], (auth as { authorizeUrl?: unknown }).authorizeUrl, auth],
      [[...at, 'login', 'url'], (auth as { login?: { url?: unknown } }).login?.url, auth],
    ]),
  ];
  for (const [where, url, urlAuth] of urls) {
    // `{secrets.name}` segments in a token URL's path (checked as segments by its schema).
    const last = where.at(-1);
    const authUrl = where.at(-2) !== 'login' && (last === 'tokenUrl' || last === 'authorizeUrl');
    for (const name of typeof url === 'string' && authUrl ? pathSecretNames(url) : []) {
      if (last !== 'tokenUrl' || urlAuth?.type === 'oauth2-authorization-code')
        ctx.addIssue({
          code: 'custom',
          path: where,
          message: `{secrets.${name}}: a secret may be in the path of a client-credentials, refresh-token or JWT-bearer tokenUrl only (an authorization-code flow's URLs are seen by a browser)`,
        });
      else if (!(name in spec.secrets))
        ctx.addIssue({
          code: 'custom',
          path: where,
          message: `{secrets.${name}}: secret "${name}" is not declared in secrets (declared: ${Object.keys(spec.secrets).join(', ') || 'none'})`,
        });
    }
    for (const { name, inHost, wholeUrl, choice, secret } of typeof url === 'string'
      ? baseUrlPlaceholders(url)
      : []) {
      const field = spec.connectionConfig[name];
      if (secret) {
        if (!(name in spec.secrets))
          ctx.addIssue({
            code: 'custom',
            path: where,
            message: `{?secrets.${name}}: secret "${name}" is not declared in secrets (declared: ${Object.keys(spec.secrets).join(', ') || 'none'})`,
          });
      } else if (!field) {
        ctx.addIssue({
          code: 'custom',
          path: where,
          message: `{config.${name}}: "${name}" is not a connectionConfig field (declared: ${Object.keys(spec.connectionConfig).join(', ') || 'none'})`,
        });
      } else if (
        wholeUrl &&
        (where.at(-1) === 'authorizeUrl' || urlAuth?.type === 'oauth2-authorization-code')
      ) {
        ctx.addIssue({
          code: 'custom',
          path: where,
          message: `{config.${name}} cannot start the URLs of an authorization-code flow (only baseUrl and client-credentials or refresh-token tokenUrl)`,
        });
      } else if (wholeUrl && (field.format !== 'url' || field.type !== 'string')) {
        // Only a field declared as a URL is checked as one (https, no user info, the spec's hosts).
        ctx.addIssue({
          code: 'custom',
          path: ['connectionConfig', name, 'format'],
          message: `required: {config.${name}} starts ${where.join('.')}, so it must be a string field with format: url`,
        });
      } else if (inHost && !field.pattern && choice === undefined) {
        // Without a pattern (or a choice between hosts written here) a connection could aim the credentials at any host.
        ctx.addIssue({
          code: 'custom',
          path: ['connectionConfig', name, 'pattern'],
          message: `required: {config.${name}} is in ${where.join('.')}'s host, so its values must be constrained by a pattern (e.g. '^[a-z0-9-]+$')`,
        });
      }
    }
  }
  for (const [name, field] of Object.entries(spec.connectionConfig)) {
    if (field.format === 'url' && field.type !== 'string')
      ctx.addIssue({
        code: 'custom',
        path: ['connectionConfig', name, 'type'],
        message: 'a format: url field is a string',
      });
    if (field.hosts && field.format !== 'url')
      ctx.addIssue({
        code: 'custom',
        path: ['connectionConfig', name, 'hosts'],
        message: 'hosts constrain a format: url field: add format: url or remove hosts',
      });
  }
  const wantsInstance = typeof spec.baseUrl === 'string' && usesInstanceUrl(spec.baseUrl);
  for (const { auth, at, option } of choices) {
    const instance = 'instanceUrl' in auth ? auth.instanceUrl : undefined;
    if (wantsInstance && !instance)
      ctx.addIssue({
        code: 'custom',
        path: option === undefined ? ['baseUrl'] : at,
        message:
          option === undefined
            ? '{instanceUrl} comes from the OAuth token response: give an OAuth2 auth with instanceUrl: { field, hosts }'
            : 'baseUrl starts with {instanceUrl}, which comes from the OAuth token response: every option must be an OAuth2 auth with instanceUrl: { field, hosts }',
      });
    if (instance && !wantsInstance)
      ctx.addIssue({
        code: 'custom',
        path: [...at, 'instanceUrl'],
        message: 'baseUrl must start with {instanceUrl} for the token response to name the host',
      });
  }
  if (spec.auth?.type === 'select') tolerant(() => checkSelect(spec.auth as SelectAuth));
  /** The option-choosing config field is a string field; the default is an option. */
  function checkSelect(select: SelectAuth): void {
    const field = spec.connectionConfig[select.by];
    const options = Object.keys(select.options);
    if (!field)
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'by'],
        message: `"${select.by}" is not a connectionConfig field (declared: ${Object.keys(spec.connectionConfig).join(', ') || 'none'}): declare it, type string, to hold the option each connection uses`,
      });
    else if (field.type !== 'string')
      ctx.addIssue({
        code: 'custom',
        path: ['connectionConfig', select.by, 'type'],
        message: `auth.by chooses the auth option by this field's value: it must be a string field, not ${field.type}`,
      });
    if (select.default !== undefined && !options.includes(select.default))
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'default'],
        message: `"${select.default}" is not an option (options: ${options.join(', ')})`,
      });
  }
  const checkZone = (zone: string | undefined, path: string[]) => {
    const field = zone?.match(/^\{config\.(.+)\}$/)?.[1];
    if (field !== undefined && !(field in spec.connectionConfig))
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${zone}: "${field}" is not a connectionConfig field (declared: ${Object.keys(spec.connectionConfig).join(', ') || 'none'})`,
      });
  };
  checkZone(spec.timeZone, ['timeZone']);
  for (const [name, resource] of Object.entries(spec.resources ?? {}))
    checkZone(resource?.timeZone, ['resources', name, 'timeZone']);
  const secretNames = new Set(Object.keys(spec.secrets));
  const checkSecret = (ref: unknown, path: (string | number)[]) => {
    if (typeof ref === 'string' && !secretNames.has(ref)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `secret "${ref}" is not declared in secrets (declared: ${[...secretNames].join(', ') || 'none'})`,
      });
    }
  };
  /** The secrets and templates of a static auth (the spec's, or a resource's own at `at`). */
  function checkStaticAuth(auth: AuthConfig, at: (string | number)[]): void {
    if (auth.type === 'bearer') checkSecret(auth.token, [...at, 'token']);
    if (auth.type === 'api-key') checkSecret(auth.value, [...at, 'value']);
    if (auth.type === 'basic') {
      checkSecret(auth.username, [...at, 'username']);
      if (auth.password !== undefined) checkSecret(auth.password, [...at, 'password']);
    }
    checkAuthExtras(
      auth,
      ctx,
      {
        problems: (value) =>
          templateProblems(value, { connectionConfig: spec.connectionConfig, secrets: secretNames }),
      },
      at,
    );
    if (auth.type === 'custom-headers') {
      for (const [header, template] of Object.entries(auth.headers))
        for (const message of templateProblems(template, {
          connectionConfig: spec.connectionConfig,
          secrets: secretNames,
        }))
          ctx.addIssue({ code: 'custom', path: [...at, 'headers', header], message });
    }
  }
  for (const { auth, at } of choices) tolerant(() => checkSpecAuth(auth, at));
  /** The spec's auth, or one of its options at `at`. */
  function checkSpecAuth(auth: AuthConfig, at: (string | number)[]): void {
    checkStaticAuth(auth, at);
    if (auth.type === 'oauth2-client-credentials' || auth.type === 'oauth2-refresh-token') {
      checkSecret(auth.clientId, [...at, 'clientId']);
      checkSecret(auth.clientSecret, [...at, 'clientSecret']);
      if (auth.type === 'oauth2-refresh-token') checkSecret(auth.refreshToken, [...at, 'refreshToken']);
    }
    checkOAuthFlowAuth(auth, spec.connectionConfig, ctx, checkSecret, at);
    if (auth.type === 'session-token') checkSessionToken(auth, at);
  }
  for (const [name, resource] of Object.entries(spec.resources ?? {}))
    if (resource?.auth) tolerant(() => checkStaticAuth(resource.auth!, ['resources', name, 'auth']));

  function checkSessionToken(auth: SessionTokenAuthConfig, at: (string | number)[]): void {
    const scope = { connectionConfig: spec.connectionConfig, secrets: secretNames };
    const login: [string, unknown][] = [
      ['headers', auth.login.headers],
      ['body', auth.login.body],
    ];
    for (const [part, value] of login)
      for (const message of templateProblems(value, scope))
        ctx.addIssue({ code: 'custom', path: [...at, 'login', part], message });
    const basic = auth.login.basic;
    if (basic) {
      checkSecret(basic.username, [...at, 'login', 'basic', 'username']);
      if (basic.password !== undefined) checkSecret(basic.password, [...at, 'login', 'basic', 'password']);
      if (Object.keys(auth.login.headers).some((h) => h.toLowerCase() === 'authorization'))
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'login', 'headers'],
          message: 'give the login an authorization header or basic, not both',
        });
    }
    if ((auth.tokenPath === undefined) === (auth.tokenHeader === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [...at, 'tokenPath'],
        message: 'give one of tokenPath (a path in the login answer) or tokenHeader',
      });
    if (!auth.value.includes('{token}'))
      ctx.addIssue({ code: 'custom', path: [...at, 'value'], message: 'must place the token: {token}' });
    for (const { name } of placeholdersOf(auth.value))
      if (name !== 'token')
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'value'],
          message: `{${name}}: only {token} is available here`,
        });
  }

  if (spec.webhooks) tolerant(() => checkWebhooks(spec, ctx, checkSecret));

  for (const [name, resource] of Object.entries(spec.resources))
    tolerant(() => checkResource(name, resource));

  function checkResource(name: string, resource: ResourceSpec): void {
    const at = (...rest: (string | number)[]) => ['resources', name, ...rest];
    const p = resource.pagination;
    if (p.type === 'cursor') {
      const given = [p.cursorPath, p.cursorHeader, p.lastRecordPath].filter((v) => v !== undefined).length;
      if (given !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: at('pagination', 'cursorPath'),
          message:
            given === 0
              ? 'required when type is "cursor" (or give cursorHeader or lastRecordPath)'
              : 'give one of cursorPath, cursorHeader or lastRecordPath',
        });
      }
    }
    checkPagination(p, (rest, message) =>
      ctx.addIssue({ code: 'custom', path: at('pagination', ...rest), message }),
    );
    if (resource.export) checkExport(spec, name, resource, resource.export, ctx);
    else checkRequestTemplates(spec, name, resource, ctx);
    const req = resource.request;
    const auths = resource.auth ? [resource.auth] : choices.map((c) => c.auth);
    if (
      auths.some((auth) => auth.type === 'api-key' && auth.in === 'form') &&
      (req.graphql || (req.body !== undefined && req.bodyFormat !== 'form'))
    )
      ctx.addIssue({
        code: 'custom',
        path: at('request', 'bodyFormat'),
        message:
          'the API key is a form field (auth.in: form): this body must be a form too (bodyFormat: form)',
      });
    if (resource.single && resource.pagination.type !== 'none')
      ctx.addIssue({
        code: 'custom',
        path: at('single'),
        message: 'one record per answer is not paginated: remove pagination or single',
      });
    if (resource.single && hasWildcard(resource.recordsPath))
      ctx.addIssue({
        code: 'custom',
        path: at('single'),
        message: 'a recordsPath with * matches many values: remove single or the wildcard',
      });
    if (resource.single && resource.decoder && resource.decoder.format !== 'json')
      ctx.addIssue({
        code: 'custom',
        path: at('single'),
        message: 'a JSON Lines or CSV answer is a list of records: single needs a JSON answer',
      });
    if (resource.decoder && resource.decoder.format !== 'json') {
      // A JSON Lines or CSV answer is streamed: it is the records, with no JSON body around them.
      const format = resource.decoder.format === 'csv' ? 'a CSV' : 'a JSON Lines';
      if (resource.recordsPath !== '')
        ctx.addIssue({
          code: 'custom',
          path: at('recordsPath'),
          message: `${format} answer is the records themselves: leave recordsPath out`,
        });
      (p.stopWhen ?? []).forEach((rule, i) => {
        if (rule.path !== undefined || rule.equalsPath !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: at('pagination', 'stopWhen', i, rule.path !== undefined ? 'path' : 'equalsPath'),
            message: `${format} answer has no JSON body to test: test a header instead`,
          });
      });
      const bodyPaths = [
        'cursorPath',
        'hasMorePath',
        'donePath',
        'totalPath',
        'totalPagesPath',
        'nextUrlPath',
      ];
      for (const field of bodyPaths.filter((f) => (p as Record<string, unknown>)[f] !== undefined))
        ctx.addIssue({
          code: 'custom',
          path: at('pagination', field),
          message: `${format} answer has no JSON body to read ${field} from: page by a header (cursorHeader, totalHeader, link-header), the last record (lastRecordPath), or page/offset`,
        });
    }
    for (const [field, rule] of Object.entries(resource.fields ?? {})) {
      if (typeof rule === 'string') continue;
      const sources = [rule.from, rule.value, rule.const].filter((v) => v !== undefined).length;
      if (sources > 1)
        ctx.addIssue({
          code: 'custom',
          path: at('fields', field),
          message: 'give one of from, value or const',
        });
      if (rule.value === undefined) continue;
      const scope = {
        connectionConfig: spec.connectionConfig,
        ...(resource.parent ? { parentParams: parentParamsOf(resource.parent) } : {}),
        incremental: resource.incremental !== undefined,
        record: true,
      };
      for (const message of templateProblems(rule.value, scope))
        ctx.addIssue({ code: 'custom', path: at('fields', field, 'value'), message });
    }
    /** One parent (or one of a product): its resource exists and leads nowhere back; its lists fit. */
    const checkParentItem = (
      item: z.infer<typeof parentResourceSchema> | z.infer<typeof parentValuesSchema>,
      where: (...rest: string[]) => (string | number)[],
    ) => {
      if ('values' in item) {
        for (const [k, v] of Object.entries(item.values)) {
          const field = typeof v === 'string' ? CONFIG_START.exec(v)?.[1] : undefined;
          if (field !== undefined && spec.connectionConfig[field]?.type !== 'list')
            ctx.addIssue({
              code: 'custom',
              path: where('values', k),
              message: `{config.${field}}: "${field}" must be a connectionConfig field of type list`,
            });
        }
        const runs = Object.values(item.values).reduce(
          (n, l) => n * (typeof l === 'string' ? 1 : l.length),
          1,
        );
        if (runs > 10_000)
          ctx.addIssue({
            code: 'custom',
            path: where('values'),
            message: `${runs} combinations: at most 10000 runs per sync`,
          });
        return;
      }
      if (item.resource === name) {
        ctx.addIssue({
          code: 'custom',
          path: where('resource'),
          message: 'a resource cannot be its own parent',
        });
        return;
      }
      if (!(item.resource in spec.resources)) {
        ctx.addIssue({
          code: 'custom',
          path: where('resource'),
          message: `no resource "${item.resource}" (resources: ${Object.keys(spec.resources).join(', ')})`,
        });
        return;
      }
      // A parent may itself be a child (its records are keyed per its own parent); a chain that comes
      // back to the resource would never have records to start from.
      const cycle = pathBack([name, item.resource]);
      if (cycle)
        ctx.addIssue({
          code: 'custom',
          path: where('resource'),
          message: `parents form a cycle (${cycle.join(' → ')})`,
        });
    };
    /** Depth first through the parents of the chain's last resource, to the chain's first. */
    const pathBack = (chain: string[]): string[] | undefined => {
      const last = spec.resources[chain.at(-1)!]?.parent;
      for (const next of last ? parentResources(last) : []) {
        if (next === chain[0]) return [...chain, next];
        if (chain.includes(next) || !(next in spec.resources)) continue;
        const found = pathBack([...chain, next]);
        if (found) return found;
      }
      return undefined;
    };
    if (resource.parent) {
      const items = 'product' in resource.parent ? resource.parent.product : [resource.parent];
      const prefix = (i: number) =>
        'product' in resource.parent! ? ['parent', 'product', String(i)] : ['parent'];
      const seen = new Map<string, number>();
      items.forEach((item, i) => {
        for (const p of Object.keys('resource' in item ? item.params : item.values)) {
          if (seen.has(p))
            ctx.addIssue({
              code: 'custom',
              path: at(...prefix(i), 'resource' in item ? 'params' : 'values', p),
              message: `{parent.${p}} is given by parent ${seen.get(p)} too`,
            });
          else seen.set(p, i);
        }
        checkParentItem(item, (...rest) => at(...prefix(i), ...rest));
        if ('product' in resource.parent! && 'resource' in item && item.changedOnly === true)
          ctx.addIssue({
            code: 'custom',
            path: at(...prefix(i), 'changedOnly'),
            message:
              'only a single parent resource visits changed parents only: the combinations of a product are all visited on every run',
          });
      });
    }
    if (resource.primaryKey === undefined && !resource.appendOnly)
      ctx.addIssue({
        code: 'custom',
        path: at('primaryKey'),
        message:
          'required: the field(s) that identify a record; a resource without a natural key may say appendOnly: true (keyed by a hash of its content)',
      });
    const inc = resource.incremental;
    for (const bound of ['startDate', 'endDate'] as const) {
      const value = inc?.[bound];
      if (value === undefined) continue;
      alternativesOf(value).forEach((text, i) => {
        const problem = boundProblem(text, spec.connectionConfig);
        if (problem)
          ctx.addIssue({
            code: 'custom',
            path: typeof value === 'string' ? at('incremental', bound) : at('incremental', bound, i),
            message: problem,
          });
      });
    }
    if (inc?.readsAll)
      for (const [key, given] of [
        ['clientSide', inc.clientSide],
        ['param', inc.param !== undefined],
        ['startDate', inc.startDate !== undefined],
        ['endDate', inc.endDate !== undefined],
        ['step', inc.step !== undefined],
        ['lagSeconds', inc.lagSeconds > 0],
      ] as const)
        if (given)
          ctx.addIssue({
            code: 'custom',
            path: at('incremental', key),
            message: `readsAll reads every record on every run: ${key} does not apply`,
          });
    if (inc?.cursorFormat !== undefined && inc.format !== 'iso')
      ctx.addIssue({
        code: 'custom',
        path: at('incremental', 'cursorFormat'),
        message: `cursor values are unix numbers (format: ${inc.format}) or written in cursorFormat, not both`,
      });
    const stepField = typeof inc?.step === 'string' ? CONFIG_STEP.exec(inc.step)?.[1] : undefined;
    if (stepField !== undefined) {
      const declared = spec.connectionConfig[stepField];
      if (declared === undefined || declared.type !== 'number')
        ctx.addIssue({
          code: 'custom',
          path: at('incremental', 'step'),
          message:
            declared === undefined
              ? `"${stepField}" is not a connectionConfig field (declared: ${Object.keys(spec.connectionConfig).join(', ') || 'none'})`
              : `"${stepField}" is a ${declared.type} field: a step's length is a number field`,
        });
    }
    if (inc?.clientSide && inc.step !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: at('incremental', 'step'),
        message: 'a provider that cannot filter (clientSide) cannot be read in windows: remove step',
      });
    if (inc?.clientSide && inc.lagSeconds > 0)
      ctx.addIssue({
        code: 'custom',
        path: at('incremental', 'lagSeconds'),
        message: 'clientSide reads everything the provider has: lagSeconds does not apply',
      });
    if (inc && inc.order === 'descending' && !inc.clientSide)
      ctx.addIssue({
        code: 'custom',
        path: at('incremental', 'order'),
        message: 'order: descending stops at the first old record, which needs clientSide: true',
      });
    // A removed key or cursor would leave every record without it.
    resource.removeFields?.forEach((p, i) => {
      const keys = resource.primaryKey === undefined ? [] : [resource.primaryKey].flat();
      const hit = [...keys, ...(resource.incremental ? [resource.incremental.cursorField] : [])].find(
        (k) => k === p || k.startsWith(`${p}.`),
      );
      if (hit !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: at('removeFields', i),
          message: `removes "${hit}", which is this resource's ${keys.includes(hit) ? 'primaryKey' : 'incremental.cursorField'}`,
        });
    });
    if (
      resource.incremental &&
      resource.fields &&
      !(resource.incremental.cursorField in resource.fields) &&
      resource.passthrough !== true
    ) {
      ctx.addIssue({
        code: 'custom',
        path: at('incremental', 'cursorField'),
        message: `"${resource.incremental.cursorField}" is not a mapped field`,
      });
    }
  }
}

/** A value computed from data that may be malformed (its problems reported elsewhere), else undefined. */
function tolerantValue<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return undefined;
  }
}

/** Runs a cross-field check on data that may be malformed where its fields have their own problems. */
function tolerant(check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
}

function checkWebhooks(
  spec: z.infer<typeof integrationSpecObject>,
  ctx: z.RefinementCtx,
  checkSecret: (ref: unknown, path: (string | number)[]) => void,
): void {
  const webhooks = spec.webhooks!;
  webhooks.signature.secrets.forEach((ref, i) => checkSecret(ref, ['webhooks', 'signature', 'secrets', i]));
  webhooks.reconcile.forEach((name, i) => {
    const r = spec.resources[name];
    if (!r || !r.incremental)
      ctx.addIssue({
        code: 'custom',
        path: ['webhooks', 'reconcile', i],
        message: r
          ? `resource "${name}" has no incremental sync to reconcile with`
          : `no resource "${name}" (resources: ${Object.keys(spec.resources).join(', ')})`,
      });
  });
  for (const [type, event] of Object.entries(webhooks.events)) {
    if (event.action === 'ignore') continue;
    const at = (...rest: string[]) => ['webhooks', 'events', type, ...rest];
    const resource = spec.resources[event.resource];
    if (!resource) {
      ctx.addIssue({
        code: 'custom',
        path: at('resource'),
        message: `no resource "${event.resource}" (resources: ${Object.keys(spec.resources).join(', ')})`,
      });
      continue;
    }
    if (resource.parent) {
      ctx.addIssue({
        code: 'custom',
        path: at('resource'),
        message: 'webhook actions on child resources are not supported yet',
      });
    }
    if ((event.action === 'delete' || event.action === 'refetch') && resource.primaryKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('action'),
        message: `resource "${event.resource}" is keyed by content (appendOnly without primaryKey): events can only upsert to it`,
      });
    }
    if (event.action === 'refetch') {
      for (const [, placeholder] of event.path.matchAll(PLACEHOLDER)) {
        const key = (placeholder ?? '').replace(/^config\./, '');
        if (key !== 'id' && !(key in spec.connectionConfig)) {
          ctx.addIssue({
            code: 'custom',
            path: at('path'),
            message: `{${placeholder}}: use {id} or a connectionConfig field`,
          });
        }
      }
    }
  }
}
