/**
 * Configuration, parsed once from the environment at an entry point (CLI, tests) into a frozen object.
 * Library modules take this object (or pieces of it) as an argument and never read process.env.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Which client sends provider requests (SYNCWRIGHT_HTTP_CLIENT; src/http/node-client.ts). */
export const httpClientSchema = z.enum(['node-http', 'node-fetch']);

export const configSchema = z.object({
  /** An existing Temporal frontend (host:port). Unset: a local dev server is started. */
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('syncwright'),
  /** Path to a `temporal` CLI binary to use for the local dev server. */
  TEMPORAL_CLI: optionalString,
  /** Preferred ports of the local dev server (frontend, Web UI); 0 picks free ones. */
  SYNCWRIGHT_TEMPORAL_PORT: port(7233),
  SYNCWRIGHT_TEMPORAL_UI_PORT: port(8233),
  /** An existing Postgres. Unset: an embedded Postgres is started with its data under SYNCWRIGHT_HOME. */
  DATABASE_URL: optionalString,
  SYNCWRIGHT_PG_PORT: port(54329),
  /** Local state (embedded Postgres data, Temporal SQLite file, logs). */
  SYNCWRIGHT_HOME: z.string().default('.syncwright'),
  /** Downloads and builds shared by every clone on this machine (the Temporal CLI, parsed YAML specs). */
  SYNCWRIGHT_CACHE_DIR: optionalString,
  XDG_CACHE_HOME: optionalString,
  /** 32 bytes (base64 or hex) sealing connection secrets at rest. The local demo/up make one in SYNCWRIGHT_HOME. */
  SYNCWRIGHT_ENCRYPTION_KEY: optionalString,
  /** Previous keys, comma-separated: they still open sealed values (during a `keys rotate`), never seal. */
  SYNCWRIGHT_ENCRYPTION_KEYS_OLD: optionalString,
  /** Spec file or directory the worker and CLI load. */
  SYNCWRIGHT_SPECS: z.string().default('integrations'),
  /** Where the webhook receiver listens (`up`, `webhooks serve`); port 0 picks a free one. */
  SYNCWRIGHT_WEBHOOK_HOST: z.string().min(1).default('127.0.0.1'),
  SYNCWRIGHT_WEBHOOK_PORT: port(8288),
  /**
   * Prometheus `/metrics` of the worker and the webhook receiver: off unless set (`up` serves it on
   * 9464 by default). 0 picks a free port.
   */
  SYNCWRIGHT_METRICS_PORT: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.coerce.number().int().min(0).max(65535).optional(),
  ),
  SYNCWRIGHT_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** "1" adds the connection id as a metrics label (off: tenants can be many). */
  SYNCWRIGHT_METRICS_CONNECTION_LABEL: z.enum(['0', '1', 'true', 'false']).optional(),
  /** The webhook receiver silent for longer than this (90s, 15m, 1h) reconciles at start; default 2m. */
  SYNCWRIGHT_WEBHOOK_GAP: optionalString,
  /** Operator notifications (Standard Webhooks, signed with the secret, `whsec_…`): off unless set. */
  SYNCWRIGHT_NOTIFY_URL: optionalString.pipe(z.url({ message: 'expected an http(s) URL' }).optional()),
  SYNCWRIGHT_NOTIFY_SECRET: optionalString,
  /** Notify when a resource's last successful sync is older than this (90s, 15m, 1h, 2d). */
  SYNCWRIGHT_NOTIFY_STALE_AFTER: optionalString,
  /** OpenTelemetry traces to this OTLP/HTTP URL (e.g. http://collector:4318/v1/traces): off unless set. */
  SYNCWRIGHT_TRACING_URL: optionalString.pipe(z.url({ message: 'expected an http(s) URL' }).optional()),
  /**
   * The worker process's V8 heap growth (percent the old generation may grow before a full collection);
   * 0 leaves V8's own. See src/temporal/worker-heap.ts.
   */
  SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(400).default(50),
  /** What sends provider requests: node:http (default) or node-fetch (src/http/node-client.ts). */
  SYNCWRIGHT_HTTP_CLIENT: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    httpClientSchema.optional(),
  ),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  readonly temporal: {
    readonly address: string | undefined;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly cliPath: string | undefined;
    readonly port: number;
    readonly uiPort: number;
  };
  readonly postgres: { readonly url: string | undefined; readonly embeddedPort: number };
  readonly webhooks: { readonly host: string; readonly port: number; readonly gap: string | undefined };
  readonly tracingUrl: string | undefined;
  readonly notify: {
    readonly url: string | undefined;
    readonly secret: string | undefined;
    readonly staleAfter: string | undefined;
  };
  readonly metrics: {
    /** Undefined: off (except in `up`). */
    readonly port: number | undefined;
    readonly host: string;
    readonly connectionLabel: boolean;
  };
  readonly workerHeapGrowingPercent: number;
  readonly homeDir: string;
  readonly encryptionKey: string | undefined;
  readonly encryptionKeysOld: readonly string[];
  readonly specsPath: string;
  readonly cacheDir: string;
  readonly logLevel: RawConfig['LOG_LEVEL'];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; every problem is listed as `NAME: message`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const raw = parsed.data;
  const cacheRoot = raw.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return Object.freeze({
    temporal: Object.freeze({
      address: raw.TEMPORAL_ADDRESS,
      namespace: raw.TEMPORAL_NAMESPACE,
      taskQueue: raw.TEMPORAL_TASK_QUEUE,
      cliPath: raw.TEMPORAL_CLI,
      port: raw.SYNCWRIGHT_TEMPORAL_PORT,
      uiPort: raw.SYNCWRIGHT_TEMPORAL_UI_PORT,
    }),
    postgres: Object.freeze({ url: raw.DATABASE_URL, embeddedPort: raw.SYNCWRIGHT_PG_PORT }),
    webhooks: Object.freeze({
      host: raw.SYNCWRIGHT_WEBHOOK_HOST,
      port: raw.SYNCWRIGHT_WEBHOOK_PORT,
      gap: raw.SYNCWRIGHT_WEBHOOK_GAP,
    }),
    tracingUrl: raw.SYNCWRIGHT_TRACING_URL,
    notify: Object.freeze({
      url: raw.SYNCWRIGHT_NOTIFY_URL,
      secret: raw.SYNCWRIGHT_NOTIFY_SECRET,
      staleAfter: raw.SYNCWRIGHT_NOTIFY_STALE_AFTER,
    }),
    metrics: Object.freeze({
      port: raw.SYNCWRIGHT_METRICS_PORT,
      host: raw.SYNCWRIGHT_METRICS_HOST,
      connectionLabel:
        raw.SYNCWRIGHT_METRICS_CONNECTION_LABEL === '1' || raw.SYNCWRIGHT_METRICS_CONNECTION_LABEL === 'true',
    }),
    workerHeapGrowingPercent: raw.SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT,
    homeDir: path.resolve(cwd, raw.SYNCWRIGHT_HOME),
    encryptionKey: raw.SYNCWRIGHT_ENCRYPTION_KEY,
    encryptionKeysOld: Object.freeze(
      (raw.SYNCWRIGHT_ENCRYPTION_KEYS_OLD ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    ),
    specsPath: path.resolve(cwd, raw.SYNCWRIGHT_SPECS),
    cacheDir: path.resolve(raw.SYNCWRIGHT_CACHE_DIR ?? path.join(cacheRoot, 'syncwright')),
    logLevel: raw.LOG_LEVEL,
  });
}
