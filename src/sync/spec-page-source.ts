/**
 * The real page source: reads a resource of a connection as its spec describes — request building,
 * auth, HTTP, pagination, mapping and validation. Invalid records become quarantine entries.
 */
import { applyAuth, type AuthInputs } from '../http/auth/apply.js';
import { OAuth2Tokens } from '../http/auth/oauth2.js';
import { ProviderError } from '../http/errors.js';
import { HttpTransport } from '../http/transport.js';
import type { Logger } from '../log.js';
import { parseRateHeaders } from '../ratelimit/headers.js';
import { acquire, blockConnection } from '../ratelimit/ledger.js';
import { mapRecord } from '../mapping/map-record.js';
import { firstState, nextPage, totalOf, type PaginationState } from '../pagination/paginate.js';
import { SpecError } from '../spec/errors.js';
import type { IntegrationSpec, ResourceSpec } from '../spec/schema.js';
import type { Db } from '../store/db.js';
import { getConnection } from '../store/connections.js';
import type { SecretBox } from '../store/secret-box.js';
import type { QuarantinedRecord, SyncRun } from '../store/runs.js';
import type { KeyedRecord } from '../store/records.js';
import { scalarText, valueAtPath } from './records-at-path.js';
import {
  maxCursor,
  type OpenPageSource,
  type Page,
  type PageRequest,
  type PageSource,
} from './page-source.js';

export interface SpecPageSourceDeps {
  db: Db;
  specs: ReadonlyMap<string, IntegrationSpec>;
  secretBox: SecretBox | undefined;
  /** For `{ env: NAME }` secret references: the worker's environment, passed in at start-up. */
  env: Readonly<Record<string, string | undefined>>;
  log?: Logger | undefined;
}

/** Rate-limit waits up to this long are slept in the activity (heartbeating); longer ones go to Temporal. */
const MAX_IN_ACTIVITY_WAIT_MS = 5000;

/** What is checkpointed after each committed page. */
export interface Checkpoint {
  state: PaginationState;
  label: string | null;
}

export function lookupResource(
  specs: ReadonlyMap<string, IntegrationSpec>,
  integration: string,
  resource: string,
) {
  const spec = specs.get(integration);
  if (!spec) {
    throw new SpecError(integration, [
      `unknown integration (loaded: ${[...specs.keys()].join(', ') || 'none'})`,
    ]);
  }
  const res = spec.resources[resource];
  if (!res) {
    throw new SpecError(integration, [
      `unknown resource "${resource}" (resources: ${Object.keys(spec.resources).join(', ')})`,
    ]);
  }
  return { spec, resource: res };
}

function fillPath(
  template: string,
  config: Record<string, unknown>,
  parent: Record<string, string> | null,
  where: string,
): string {
  return template.replace(/\{([^{}]+)\}/g, (_, key: string) => {
    if (key.startsWith('parent.')) {
      const v = parent?.[key.slice('parent.'.length)];
      if (v === undefined)
        throw new SpecError(where, [`path placeholder {${key}} has no value from the parent record`]);
      return encodeURIComponent(v);
    }
    const name = key.replace(/^config\./, '');
    const v = config[name];
    if (v === undefined || v === null)
      throw new SpecError(where, [`path placeholder {${key}} has no value in the connection's config`]);
    return encodeURIComponent(scalarText(v));
  });
}

function formatSince(value: string, resource: ResourceSpec): string {
  const inc = resource.incremental!;
  let ms = Number.isNaN(Date.parse(value))
    ? Number(value) * (inc.format === 'unix' ? 1000 : 1)
    : Date.parse(value);
  ms -= inc.lookbackSeconds * 1000;
  if (inc.format === 'unix') return String(Math.floor(ms / 1000));
  if (inc.format === 'unix-ms') return String(ms);
  return new Date(ms).toISOString();
}

export function createSpecPageSources(deps: SpecPageSourceDeps): OpenPageSource {
  const transports = new Map<string, HttpTransport>();
  const transportFor = (spec: IntegrationSpec) => {
    let t = transports.get(spec.id);
    if (!t) {
      t = new HttpTransport({
        timeoutMs: spec.retry.timeoutMs,
        maxResponseBytes: spec.retry.maxResponseBytes,
        log: deps.log?.child({ integration: spec.id }),
      });
      transports.set(spec.id, t);
    }
    return t;
  };

  // One token cache per connection, shared by every page source of this worker.
  const tokenCaches = new Map<string, OAuth2Tokens>();
  const oauthTokens = (spec: IntegrationSpec, run: SyncRun, inputs: AuthInputs): OAuth2Tokens | undefined => {
    const auth = spec.auth;
    if (auth.type !== 'oauth2-client-credentials' && auth.type !== 'oauth2-refresh-token') return undefined;
    const key = JSON.stringify([run.integration, run.connection]);
    let t = tokenCaches.get(key);
    if (!t) {
      t = new OAuth2Tokens(deps.db, deps.secretBox, auth, inputs, run);
      tokenCaches.set(key, t);
    }
    return t;
  };

  return async (run: SyncRun): Promise<PageSource> => {
    const { spec, resource } = lookupResource(deps.specs, run.integration, run.resource);
    if (resource.parent && !run.parentParams) {
      throw new SpecError(spec.id, [
        `resources.${run.resource} is a child of "${resource.parent.resource}": it is synced once per parent record`,
      ]);
    }
    const connection = await getConnection(deps.db, deps.secretBox, run.integration, run.connection);
    const where = `connection ${run.integration}/${run.connection}`;
    const inputs: AuthInputs = {
      secrets: connection.secrets,
      config: connection.config,
      env: deps.env,
      where,
    };
    const auth = applyAuth(spec.auth, inputs);
    const rateKey = `${run.integration}:${run.connection}`;
    const tokens = oauthTokens(spec, run, inputs);
    const http = transportFor(spec);
    // The base URL's own path is a prefix: https://api.x/v2 + /issues → /v2/issues.
    const base = new URL(spec.baseUrl);
    base.pathname = `${base.pathname.replace(/\/$/, '')}${fillPath(resource.request.path, connection.config, run.parentParams, spec.id)}`;
    const pagination = resource.pagination;

    return {
      async readPage(req: PageRequest): Promise<Page> {
        const state = req.checkpoint ? (req.checkpoint as Checkpoint).state : firstState(pagination);
        const url = new URL('url' in state.request ? state.request.url : base.toString());
        if (!('url' in state.request)) {
          const query: Record<string, string> = {};
          for (const [k, v] of Object.entries(resource.request.query)) query[k] = String(v);
          if (resource.incremental && req.since)
            query[resource.incremental.param] = formatSince(req.since, resource);
          Object.assign(query, state.request.query);
          for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
        }
        for (const [k, v] of Object.entries(auth.query)) url.searchParams.set(k, v);

        const send = (authorization: Record<string, string>) =>
          http.requestJson({
            url: url.toString(),
            method: resource.request.method,
            headers: { ...spec.headers, ...resource.request.headers, ...auth.headers, ...authorization },
            ...(resource.request.body !== undefined ? { body: resource.request.body } : {}),
            context: { integration: run.integration, connection: run.connection, resource: run.resource },
            signal: req.signal,
            secretParams: auth.secretParams,
          });
        const context = { integration: run.integration, connection: run.connection, resource: run.resource };
        // Every request spends the connection's shared budget first (one atomic statement per try).
        const rated = async (authorization: Record<string, string>) => {
          const got = await acquire(deps.db, rateKey, spec.rateLimits, resource.requestCost, {
            maxWaitMs: MAX_IN_ACTIVITY_WAIT_MS,
            signal: req.signal,
            onWait: (ms) => req.onWait?.(ms, 'rate limit'),
          });
          if (!got.admitted) {
            // A long wait happens in Temporal (the retry's nextRetryDelay), not in a worker slot.
            throw new ProviderError(
              'rate-limited',
              `rate budget spent: next request in ${got.waitMs} ms`,
              { ...context, method: resource.request.method, path: url.pathname },
              { retryAfterMs: got.waitMs },
            );
          }
          try {
            const r = await send(authorization);
            const said = parseRateHeaders((n) => r.header(n), new Date());
            if (said.blockedUntil)
              await blockConnection(deps.db, rateKey, spec.rateLimits, {
                until: said.blockedUntil,
                ...(said.source ? { source: said.source } : {}),
              });
            return r;
          } catch (error) {
            if (
              error instanceof ProviderError &&
              error.kind === 'rate-limited' &&
              error.details.status === 429
            ) {
              const ms = error.details.retryAfterMs;
              await blockConnection(deps.db, rateKey, spec.rateLimits, {
                status: 429,
                ...(ms !== undefined ? { until: new Date(Date.now() + ms), source: 'retry-after' } : {}),
              });
            }
            throw error;
          }
        };
        let response;
        if (!tokens) {
          response = await rated({});
        } else {
          const token = await tokens.token();
          try {
            response = await rated({ authorization: `Bearer ${token}` });
          } catch (error) {
            // One refresh and one retry on 401; a second 401 is an AuthError that fails the run.
            if (!(error instanceof ProviderError && error.details.status === 401)) throw error;
            response = await rated({ authorization: `Bearer ${await tokens.renew(token)}` });
          }
        }
        const raws = valueAtPath(response.body, resource.recordsPath);
        if (!Array.isArray(raws)) {
          throw new ProviderError(
            'decode',
            `expected an array of records at ${resource.recordsPath ? `"${resource.recordsPath}"` : 'the top of the body'}`,
            {
              integration: run.integration,
              connection: run.connection,
              resource: run.resource,
              method: resource.request.method,
              path: url.pathname,
            },
          );
        }
        const records: KeyedRecord[] = [];
        const quarantined: QuarantinedRecord[] = [];
        let highWater: string | null = null;
        for (const raw of raws) {
          const mapped = mapRecord(resource, raw);
          if (!mapped.ok) {
            quarantined.push({ key: mapped.key, raw, reason: mapped.reason });
            continue;
          }
          // Child records are unique per parent (issue 1 of repo A is not issue 1 of repo B).
          const key = run.parentKey === null ? mapped.key : JSON.stringify([run.parentKey, mapped.key]);
          records.push({ key, data: mapped.record });
          if (resource.incremental) {
            const v = mapped.record[resource.incremental.cursorField];
            if (v !== null && v !== undefined) highWater = maxCursor(highWater, scalarText(v));
          }
        }
        const step = nextPage(pagination, state, {
          body: response.body,
          header: (name) => response.header(name),
          recordCount: raws.length,
          requestUrl: url.toString(),
        });
        const label = step.done ? null : step.label;
        return {
          records,
          quarantined,
          fetched: raws.length,
          checkpoint: { state: step.state, label } satisfies Checkpoint,
          done: step.done,
          total: totalOf(pagination, response.body),
          highWater,
        };
      },
    };
  };
}
