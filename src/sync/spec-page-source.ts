/**
 * The real page source: reads a resource of a connection as its spec describes — request building,
 * pagination, mapping and validation (auth, rate budget and HTTP are the connection client's).
 * Invalid records become quarantine entries.
 */
import { ProviderError } from '../http/errors.js';
import { UntrustedUrlError } from '../http/url-policy.js';
import { mapRecord } from '../mapping/map-record.js';
import { firstState, nextPage, totalOf, type PaginationState } from '../pagination/paginate.js';
import { SpecError } from '../spec/errors.js';
import { lookupResource } from '../spec/registry.js';
import type { ResourceSpec } from '../spec/schema.js';
import type { QuarantinedRecord, SyncRun } from '../store/runs.js';
import type { KeyedRecord } from '../store/records.js';
import {
  createConnectionClients,
  type ConnectionClient,
  type ConnectionClientDeps,
  type OpenConnectionClient,
} from './connection-client.js';
import { scalarText, valueAtPath } from '../json/path.js';
import {
  maxCursor,
  type OpenPageSource,
  type Page,
  type PageRequest,
  type PageSource,
} from './page-source.js';

export type SpecPageSourceDeps = ConnectionClientDeps;

/** What is checkpointed after each committed page. */
export interface Checkpoint {
  state: PaginationState;
  label: string | null;
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

/**
 * A next link or next URL from the provider, checked before it is stored: it must stay where the
 * connection's credentials may go (else the run fails, naming the origin), and credential query
 * parameters the provider echoed back are dropped (the client adds them to each request itself), so a
 * checkpoint never holds a secret.
 */
function trustedNextUrl(
  next: string,
  client: ConnectionClient,
  current: URL,
  run: SyncRun,
  resource: ResourceSpec,
): string {
  const url = new URL(next);
  try {
    client.urlPolicy.check(url, 'a next page link');
  } catch (error) {
    if (!(error instanceof UntrustedUrlError)) throw error;
    throw new ProviderError('untrusted-url', error.message, {
      integration: run.integration,
      connection: run.connection,
      resource: run.resource,
      method: resource.request.method,
      path: current.pathname,
    });
  }
  for (const name of client.secretParams) url.searchParams.delete(name);
  return url.toString();
}

export function createSpecPageSources(
  deps: SpecPageSourceDeps,
  openClient: OpenConnectionClient = createConnectionClients(deps),
): OpenPageSource {
  return async (run: SyncRun): Promise<PageSource> => {
    const { spec, resource } = lookupResource(deps.specs, run.integration, run.resource);
    if (resource.parent && !run.parentParams) {
      throw new SpecError(spec.id, [
        `resources.${run.resource} is a child of "${resource.parent.resource}": it is synced once per parent record`,
      ]);
    }
    const client = await openClient(run.integration, run.connection);
    const parentValues = Object.fromEntries(
      Object.entries(run.parentParams ?? {}).map(([k, v]) => [`parent.${k}`, v]),
    );
    const base = client.urlFor(client.fillPath(resource.request.path, parentValues));
    const pagination = resource.pagination;
    const rules = [...resource.responseRules, ...spec.responseRules];

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
        const response = await client.request({
          url,
          method: resource.request.method,
          headers: resource.request.headers,
          body: resource.request.body,
          cost: resource.requestCost,
          resource: run.resource,
          signal: req.signal,
          onWait: req.onWait,
          rules,
        });
        if (response.ignored) {
          // A response rule said this answer holds nothing (e.g. a child's 404): an empty last page.
          return {
            records: [],
            quarantined: [],
            fetched: 0,
            checkpoint: { state: { ...state, pages: state.pages + 1 }, label: null } satisfies Checkpoint,
            done: true,
            total: null,
            highWater: null,
          };
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
          acceptUrl: (next) => trustedNextUrl(next, client, url, run, resource),
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
