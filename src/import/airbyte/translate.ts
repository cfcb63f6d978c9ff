/**
 * `import airbyte`: an Airbyte declarative manifest as one Syncwright spec, and a report of every
 * component that could not be carried over, with its manifest path and what its loss means. The spec is
 * checked by Syncwright's own schema before it is returned: a resource the schema refuses is left out
 * and reported, so what is written always passes `syncwright validate`.
 *
 *   const { spec, issues } = importAirbyteManifest(text, { id: 'pokeapi' });
 */
import { integrationSpecSchema } from '../../spec/schema.js';
import { authKey, type AuthOut } from './auth.js';
import { ConfigFields } from './config-fields.js';
import { isObject, loadManifest, originOf, type Component } from './manifest.js';
import { Report, type ImportIssue } from './report.js';
import { resourceName, translateStream, type StreamOut } from './stream.js';
import { DEFAULT_CONSTRUCTS, type Constructs } from './target.js';

export interface ImportOptions {
  /** The integration id (a lower-case slug). */
  id: string;
  name?: string | undefined;
  /** The constructs the target grammar has (default: all of main's, `DEFAULT_CONSTRUCTS`). */
  constructs?: Constructs | undefined;
  /**
   * Check the result with this checkout's spec schema (default true). Off only to estimate a grammar
   * this checkout does not have.
   */
  check?: boolean | undefined;
  /**
   * Secret-marked config fields kept plain even where a path could seal them, because another place
   * needs them as plain config (set by the import itself when it runs a second time).
   */
  plainSecrets?: readonly string[] | undefined;
}

export interface ImportResult {
  /** The spec as written (input form), or undefined when no stream could be imported. */
  spec: Record<string, unknown> | undefined;
  issues: ImportIssue[];
  /** Manifest stream name → resource name, for every imported stream. */
  resources: Record<string, string>;
}

/** Top-level keys that hold nothing to sync (the check stream, schemas, metadata, the config spec). */
const QUIET_TOP = new Set([
  'version',
  'type',
  'check',
  'definitions',
  'streams',
  'spec',
  'metadata',
  'schemas',
  'description',
  'concurrency_level',
]);

function mostCommon<T>(values: T[], key: (v: T) => string): T | undefined {
  const counts = new Map<string, { n: number; v: T }>();
  for (const v of values) {
    const k = key(v);
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { n: 1, v });
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]?.v;
}

/** Rate limits of an HTTPAPIBudget: each fixed or moving window rate as a Syncwright rate limit. */
function rateLimitsOf(budget: unknown, report: Report): Record<string, unknown>[] {
  if (!isObject(budget)) return [];
  const at = originOf(budget) ?? 'api_budget';
  const out: Record<string, unknown>[] = [];
  const policies = Array.isArray(budget.policies) ? budget.policies : [];
  policies.forEach((p, i) => {
    if (!isObject(p)) return;
    const matchers = Array.isArray(p.matchers) ? p.matchers : [];
    if (matchers.length > 0) {
      report.add(
        `${at}.policies.${i}.matchers`,
        'HttpRequestRegexMatcher',
        'note',
        'per-endpoint rate policies apply to every request of the connection',
      );
    }
    const rates =
      p.type === 'MovingWindowCallRatePolicy' && Array.isArray(p.rates)
        ? p.rates
        : p.type === 'FixedWindowCallRatePolicy'
          ? [{ limit: p.call_limit, interval: p.period }]
          : [];
    if (rates.length === 0)
      report.add(
        `${at}.policies.${i}`,
        typeof p.type === 'string' ? p.type : 'policy',
        'note',
        'this rate policy has no equivalent',
      );
    for (const r of rates) {
      if (!isObject(r) || typeof r.limit !== 'number' || typeof r.interval !== 'string') continue;
      const m = /^P(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?|(\d+)D)$/.exec(r.interval);
      if (!m) continue;
      const seconds =
        Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) * 86_400;
      if (seconds > 0 && r.limit > 0) out.push({ limit: Math.floor(r.limit), intervalSeconds: seconds });
    }
  });
  return out;
}

/** The auth types a resource may give as its own (spec schema: resourceAuthSchema). */
const RESOURCE_AUTH_TYPES = new Set(['bearer', 'api-key', 'basic', 'custom-headers']);

/** Translates a manifest's text. Throws ManifestError when the text is not a readable manifest. */
export function importAirbyteManifest(text: string, options: ImportOptions): ImportResult {
  const manifest = loadManifest(text);
  const root = manifest.root;
  const report = new Report();
  const spec =
    isObject(root.spec) && isObject(root.spec.connection_specification)
      ? root.spec.connection_specification
      : undefined;
  const config = new ConfigFields(spec, options.plainSecrets);

  for (const key of Object.keys(root)) {
    if (QUIET_TOP.has(key) || key === 'api_budget') continue;
    const effect = key === 'dynamic_streams' ? 'data' : 'note';
    report.add(
      key,
      key,
      effect,
      effect === 'data'
        ? 'streams generated at run time have no equivalent: they are left out'
        : 'not imported',
    );
  }

  const outs = new Map<string, StreamOut>();
  const failed = new Set<string>();
  const translate = (stream: Component, index: number): StreamOut | undefined => {
    const out = translateStream(stream, index, report, config, options.constructs);
    if (!out) return undefined;
    return out;
  };
  manifest.streams.forEach((stream, i) => {
    const out = translate(stream, i);
    const name = out?.name ?? (typeof stream.name === 'string' ? stream.name : `stream_${i}`);
    if (out) outs.set(out.name, out);
    else failed.add(name);
  });
  // Parents that are not listed streams are imported too (and theirs): children need them.
  for (let added = true; added;) {
    added = false;
    for (const out of [...outs.values()])
      for (const parent of parentStreams(out)) {
        if (outs.has(parent.name) || failed.has(parent.name)) continue;
        const p = translate(parent.stream, -1);
        if (p) outs.set(p.name, p);
        else failed.add(parent.name);
        added = true;
      }
  }

  // A secret-marked field sealed in one stream's path but needed as plain config by another: the
  // import runs again with it plain everywhere (it grows, so this ends).
  const plain = new Set(options.plainSecrets ?? []);
  if (config.plainNeeded().some((n) => !plain.has(n)))
    return importAirbyteManifest(text, {
      ...options,
      plainSecrets: [...new Set([...plain, ...config.plainNeeded()])],
    });

  const drop = (name: string, path: string, component: string, message: string) => {
    outs.delete(name);
    failed.add(name);
    report.add(path, component, 'data', `${message}: the stream is left out`, name);
  };

  // One origin and one auth per integration: the most common ones.
  const kept = () => [...outs.values()];
  const origin = mostCommon(kept(), (o) => o.urlBase)?.urlBase;
  for (const o of kept())
    if (o.urlBase !== origin)
      drop(
        o.name,
        `${o.path}.retriever.requester.url_base`,
        'url_base',
        `its host ${o.urlBase} differs from ${origin ?? ''} (one base URL per spec)`,
      );
  for (const o of kept()) if (!o.auth.ok) drop(o.name, o.authPath, 'authenticator', o.auth.reason);
  // Streams whose auth options differ from one another (one sends an extra credential with an option,
  // another does not) cannot share one spec's choice: each keeps its first option, as before options.
  const choices = new Set(
    kept().flatMap((o) => (o.auth.ok && o.auth.auth.type === 'select' ? [authKey(o.auth.auth)] : [])),
  );
  if (choices.size > 1)
    for (const o of kept())
      if (o.auth.ok && o.auth.fallback) {
        config.releaseChoice(String(o.auth.auth.by));
        o.auth = o.auth.fallback;
      }
  const authOf = (o: StreamOut): AuthOut => (o.auth.ok ? o.auth.auth : { type: 'none' });
  const chosen = mostCommon(kept(), (o) => authKey(authOf(o)));
  const auth = chosen ? authOf(chosen) : ({ type: 'none' } as AuthOut);
  // A stream authenticating unlike the rest keeps its own auth when a resource may give it (static
  // credentials only: a second token flow would need a token cache of its own).
  const ownAuths = new Map<string, AuthOut>();
  const resourceAuth = (options.constructs ?? DEFAULT_CONSTRUCTS).resourceAuth;
  for (const o of kept()) {
    const own = authOf(o);
    if (authKey(own) === authKey(auth)) continue;
    if (resourceAuth && RESOURCE_AUTH_TYPES.has(own.type)) {
      ownAuths.set(o.name, own);
      if (o.auth.ok && o.auth.note) report.add(o.authPath, own.type, 'differs', o.auth.note, o.name);
      continue;
    }
    drop(
      o.name,
      o.authPath,
      'authenticator',
      resourceAuth
        ? `it authenticates differently from the other streams, with a ${own.type} auth a resource cannot give as its own (only ${[...RESOURCE_AUTH_TYPES].join(', ')})`
        : 'it authenticates differently from the other streams (one auth per spec)',
    );
  }
  // The auth's own difference is said once, for the spec.
  if (chosen?.auth.ok && chosen.auth.note)
    report.add(chosen.authPath, auth.type, 'differs', chosen.auth.note);
  // Children of left-out parents (and theirs).
  for (let changed = true; changed;) {
    changed = false;
    for (const o of kept()) {
      const missing = parentStreams(o).find((p) => !outs.has(p.name));
      if (missing) {
        drop(
          o.name,
          `${originOf(missing.stream) ?? missing.name}`,
          'ParentStreamConfig',
          `its parent stream "${missing.name}" is not imported`,
        );
        changed = true;
      }
    }
  }

  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const o of kept()) {
    let n = resourceName(o.name);
    for (let i = 2; taken.has(n); i++) n = `${resourceName(o.name)}_${i}`;
    taken.add(n);
    names.set(o.name, n);
  }

  let resources: Record<string, Record<string, unknown>> = {};
  for (const o of kept()) {
    const r = { ...o.resource } as Record<string, unknown>;
    const own = ownAuths.get(o.name);
    if (own) r.auth = own;
    if (o.parent) r.parent = { ...(r.parent as object), resource: names.get(o.parent.name) };
    if (o.parents) {
      // A product's resource items, in order, are the parent streams'.
      const streams = [...o.parents];
      const items = (r.parent as { product: Record<string, unknown>[] }).product;
      r.parent = {
        product: items.map((i) =>
          'resource' in i ? { ...i, resource: names.get(streams.shift()!.name) } : i,
        ),
      };
    }
    resources[names.get(o.name)!] = r;
  }

  const maxAttempts = Math.max(0, ...kept().map((o) => o.maxAttempts ?? 0));
  const initial = kept().find((o) => o.initialIntervalMs !== undefined)?.initialIntervalMs;
  const rateLimits = rateLimitsOf(root.api_budget, report);

  const build = (): Record<string, unknown> => ({
    id: options.id,
    ...(options.name ? { name: options.name } : {}),
    baseUrl: origin,
    ...(Object.keys(config.connectionConfig()).length ? { connectionConfig: config.connectionConfig() } : {}),
    ...(Object.keys(config.secrets()).length ? { secrets: config.secrets() } : {}),
    auth,
    ...(maxAttempts > 0 || initial
      ? {
          retry: {
            ...(maxAttempts > 0 ? { maxAttempts } : {}),
            ...(initial ? { initialIntervalMs: initial } : {}),
          },
        }
      : {}),
    ...(rateLimits.length ? { rateLimits } : {}),
    resources,
  });

  // Syncwright's schema has the last word: a resource it refuses is left out (and its children).
  for (let round = 0; round < 50; round++) {
    if (Object.keys(resources).length === 0) return { spec: undefined, issues: report.issues, resources: {} };
    if (options.check === false)
      return { spec: build(), issues: report.issues, resources: Object.fromEntries(names) };
    const parsed = integrationSpecSchema.safeParse(build());
    if (parsed.success) {
      return {
        spec: build(),
        issues: report.issues,
        resources: Object.fromEntries([...names].filter(([, r]) => r in resources)),
      };
    }
    const bad = new Set<string>();
    const general: string[] = [];
    for (const i of parsed.error.issues) {
      const [first, second] = i.path;
      if (first === 'resources' && typeof second === 'string' && second in resources) bad.add(second);
      else general.push(`${i.path.join('.')}: ${i.message}`);
      const stream = [...names].find(([, r]) => r === second)?.[0];
      if (first === 'resources' && stream)
        report.add(
          outs.get(stream)?.path ?? stream,
          'stream',
          'data',
          `the translation is refused by the spec schema (${i.path.slice(2).join('.')}: ${i.message}): the stream is left out`,
          stream,
        );
    }
    // A problem outside the resources (the auth, the base URL) leaves nothing to import: reported, with
    // the spec path, rather than thrown.
    if (bad.size === 0) {
      for (const g of general)
        report.add(
          'spec',
          'spec',
          'data',
          `the translation is refused by the spec schema (${g}): nothing is imported`,
        );
      return { spec: undefined, issues: report.issues, resources: {} };
    }
    const remaining: Record<string, Record<string, unknown>> = {};
    for (const [k, v] of Object.entries(resources)) {
      const parentName = isObject(v.parent) ? v.parent.resource : undefined;
      if (!bad.has(k) && !(typeof parentName === 'string' && bad.has(parentName))) remaining[k] = v;
    }
    resources = remaining;
  }
  throw new Error('import airbyte: the spec did not settle');
}

/** The parent streams of an imported stream: its parent, or each of a product. */
function parentStreams(o: StreamOut): { stream: Component; name: string }[] {
  return o.parents ?? (o.parent ? [o.parent] : []);
}
