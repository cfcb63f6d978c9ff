/**
 * Requests on behalf of one connection, as its spec says: auth (static or OAuth2 with one refresh and
 * retry on 401), the shared rate budget (one ledger acquisition per try; provider feedback tightens
 * it), and the integration's HTTP transport. Used by the page source (syncs) and by webhook refetches.
 */
import { httpClientSchema } from '../config.js';
import { DEFAULT_HTTP_CLIENT, type HttpClientName } from '../http/node-client.js';
import {
  applyAuth,
  querySecretNames,
  resolveSecret,
  type AppliedAuth,
  type AuthInputs,
} from '../http/auth/apply.js';
import { createPathSecrets, pathSecretNames, type PathSecrets } from '../http/path-secrets.js';
import { OAuth2Tokens } from '../http/auth/oauth2.js';
import { isOAuthAuth, usesTokens, type AuthConfig, type TokenAuthConfig } from '../http/auth/schema.js';
import { chosenAuth } from '../http/auth/select.js';
import { sessionHeader } from '../http/auth/session-login.js';
import { withConnectionUrls } from '../http/auth/urls.js';
import { ProviderError } from '../http/errors.js';
import { fillBaseUrl } from '../http/base-url.js';
import { InstanceUrlError, instanceOrigin } from '../http/instance-url.js';
import { fillPathTemplate } from '../http/path-template.js';
import type { FillOptions, TemplateVars } from '../template/template.js';
import type { DecoderConfig } from '../http/decoders.js';
import type { ResponseRule } from '../http/response-rules.js';
import { HttpTransport, redactedPath, type JsonResponse } from '../http/transport.js';
import { createUrlPolicy, UntrustedUrlError, type UrlPolicy } from '../http/url-policy.js';
import { parseRateHeaders } from '../http/rate-headers.js';
import { acquire, blockConnection } from '../ratelimit/ledger.js';
import { lease, releaseLease } from '../ratelimit/leases.js';
import { SpecError } from '../spec/errors.js';
import { lookupSpec } from '../spec/registry.js';
import type { IntegrationSpec } from '../spec/schema.js';
import { getConnection } from '../store/connections.js';
import { scalarText } from '../json/path.js';
import { rateKeyOf } from './connections.js';
import type { EngineDeps } from './deps.js';
import { providerRequestMetrics } from './request-metrics.js';

/** Rate-limit waits up to this long are slept in the activity (heartbeating); longer ones go to Temporal. */
const MAX_IN_ACTIVITY_WAIT_MS = 5000;

export interface ConnectionRequest {
  url: URL;
  method: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Send the body as an HTML form (transport.ts `form`). */
  form?: boolean;
  /** Cost in the integration's rate limits. */
  cost: number;
  /** For errors and logs. */
  resource: string;
  signal: AbortSignal;
  onWait?: ((waitMs: number, reason: string) => void) | undefined;
  /** Response rules, the resource's before the integration's. */
  rules?: readonly ResponseRule[];
  decoder?: DecoderConfig;
  /** Stream a JSON Lines / CSV answer (transport.ts `stream`). */
  stream?: boolean;
}

export interface ConnectionClient {
  /**
   * Fills {name}/{config.name} from the connection's config and `extra` values; each value is exactly
   * one encoded path segment (".", ".." and empty values are refused).
   */
  fillPath(
    template: string,
    extra?: Record<string, string>,
    vars?: TemplateVars,
    options?: FillOptions,
  ): string;
  /** The connection's config (not its secrets), for request templates. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The spec's base URL with `path` appended (the base URL's own path is a prefix). */
  urlFor(path: string): URL;
  /** Where this connection's requests may go (baseUrl, allowedOrigins); checks provider-given URLs. */
  urlPolicy: UrlPolicy;
  /** Query parameters holding credentials: never stored in checkpoints or shown in labels. */
  secretParams: readonly string[];
  /**
   * A provider-given URL (a next link) with the segments that are path secrets' values replaced by
   * their markers (path-secrets.ts), so that a checkpoint never holds them.
   */
  sealUrl(url: URL): URL;
  request(req: ConnectionRequest): Promise<JsonResponse>;
}

/** The base URL with `path` appended (the base URL's own path is a prefix). */
function joinPath(baseUrl: string, path: string): string {
  const base = new URL(baseUrl);
  base.pathname = `${base.pathname.replace(/\/$/, '')}${path}`;
  return base.toString();
}

/** SYNCWRIGHT_HTTP_CLIENT of the worker's environment: node:http unless it names node-fetch. */
function httpClientFrom(env: EngineDeps['env']): HttpClientName {
  const raw = env.SYNCWRIGHT_HTTP_CLIENT?.trim();
  if (!raw) return DEFAULT_HTTP_CLIENT;
  const parsed = httpClientSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `SYNCWRIGHT_HTTP_CLIENT: expected ${httpClientSchema.options.join(' or ')}, got ${JSON.stringify(raw)}`,
    );
  return parsed.data;
}

export function createConnectionClients(deps: EngineDeps) {
  const transports = new Map<string, HttpTransport>();
  const client = httpClientFrom(deps.env);
  const transportFor = (spec: IntegrationSpec) => {
    let t = transports.get(spec.id);
    if (!t) {
      t = new HttpTransport({
        timeoutMs: spec.retry.timeoutMs,
        maxResponseBytes: spec.retry.maxResponseBytes,
        log: deps.log?.child({ integration: spec.id }),
        client,
      });
      transports.set(spec.id, t);
    }
    return t;
  };

  // One token cache per connection, shared by every request of this worker. A connection saved again
  // has a newer generation: its cache is replaced, and the old one refuses to hand out its tokens.
  const tokenCaches = new Map<string, OAuth2Tokens>();
  const oauthTokens = (
    spec: IntegrationSpec,
    /** The connection's auth: the spec's, or the option its config selects. */
    auth: AuthConfig,
    target: { integration: string; connection: string },
    inputs: AuthInputs,
    generation: string,
    baseUrl: string,
    pathSecrets: PathSecrets,
  ): OAuth2Tokens | undefined => {
    if (!usesTokens(auth)) return undefined;
    // A connection switches auth option only by being saved again: a new generation, so a new cache.
    const key = JSON.stringify([target.integration, target.connection]);
    const cached = tokenCaches.get(key);
    if (cached?.generation === generation) return cached;
    // A session token's "token URL" is its login path under the connection's base URL, or the login
    // URL the spec writes out (a literal, or built from the connection's own config by baseUrl's rules).
    const resolved: TokenAuthConfig =
      auth.type === 'session-token'
        ? {
            ...auth,
            tokenUrl:
              auth.login.url !== undefined
                ? fillBaseUrl(auth.login.url, inputs.config, inputs.where, undefined, spec.connectionConfig)
                : joinPath(baseUrl, auth.login.path ?? '/'),
          }
        : withConnectionUrls(auth, inputs.config, inputs.where, spec.connectionConfig);
    const t = new OAuth2Tokens(deps.db, deps.secretBox, resolved, inputs, target, {
      generation,
      timeoutMs: spec.retry.timeoutMs,
      pathSecrets,
    });
    // A connection read before the latest save (an older generation) is not cached: its refresh is
    // refused by the generation check under the lock.
    if (cached && BigInt(generation) < BigInt(cached.generation)) return t;
    cached?.invalidate();
    tokenCaches.set(key, t);
    return t;
  };

  // One policy per base URL: a spec with {config.*} in baseUrl has one per connection.
  const policies = new Map<string, UrlPolicy>();
  const policyFor = (spec: IntegrationSpec, baseUrl: string) => {
    const key = JSON.stringify([spec.id, baseUrl]);
    let p = policies.get(key);
    if (!p) {
      p = createUrlPolicy(baseUrl, spec.allowedOrigins);
      policies.set(key, p);
    }
    return p;
  };

  return async (integration: string, connectionId: string): Promise<ConnectionClient> => {
    const spec = lookupSpec(deps.specs, integration);
    const connection = await getConnection(deps.db, deps.secretBox, integration, connectionId);
    const inputs: AuthInputs = {
      secrets: connection.secrets,
      config: connection.config,
      env: deps.env,
      where: `connection ${integration}/${connectionId}`,
    };
    // The connection's own auth: the spec's, or the option its config selects (AuthOptionError, naming
    // the config field and the options, when it selects none). From here on it is the only auth.
    const chosen = chosenAuth(spec.auth, connection.config, inputs.where).auth;
    const specAuth: AppliedAuth = applyAuth(chosen, inputs);
    // A resource with its own (static) auth sends only that; applied on its first request, so a
    // connection syncing other resources need not hold its secrets.
    const ownAuths = new Map<string, AppliedAuth>();
    const ownAuthOf = (resource: string): AppliedAuth | undefined => {
      const given = spec.resources[resource]?.auth;
      if (!given) return undefined;
      let applied = ownAuths.get(resource);
      if (!applied) ownAuths.set(resource, (applied = applyAuth(given, inputs)));
      return applied;
    };
    const allSecretParams = [
      ...new Set([
        ...specAuth.secretParams,
        ...Object.values(spec.resources).flatMap((r) => (r.auth ? querySecretNames(r.auth) : [])),
      ]),
    ];
    const rateKey = rateKeyOf(integration, connectionId);
    const where = `connection ${integration}/${connectionId}`;
    // Secrets placed in request paths or the token URL: their values are revealed only as a request
    // is sent (path-secrets.ts). One the connection lacks fails the request that needs it (fillPath).
    const pathSecretValues: Record<string, string> = {};
    for (const name of new Set([
      ...Object.values(spec.resources).flatMap((r) => pathSecretNames(r.request.path)),
      ...('tokenUrl' in spec.auth ? pathSecretNames(spec.auth.tokenUrl) : []),
    ])) {
      const value = connection.secrets[name];
      if (value !== undefined && value !== '') pathSecretValues[name] = value;
    }
    const pathSecrets = createPathSecrets(pathSecretValues, where);
    const tokens = oauthTokens(
      spec,
      chosen,
      { integration, connection: connectionId },
      inputs,
      connection.generation,
      // A session token's login path is under the spec's base URL (instance URLs are OAuth2's).
      chosen.type === 'session-token'
        ? fillBaseUrl(
            spec.baseUrl,
            connection.config,
            where,
            undefined,
            spec.connectionConfig,
            connection.secrets,
          )
        : '',
      pathSecrets,
    );
    // The header a token travels in: OAuth2's bearer, or where the spec puts a session token.
    const authorizationFor = (token: string): Record<string, string> =>
      chosen.type === 'session-token' ? sessionHeader(chosen, token) : { authorization: `Bearer ${token}` };
    const http = transportFor(spec);
    const measured = providerRequestMetrics(integration, connectionId);

    // The base URL, and so where credentials may go: the spec's, or the instance the token response
    // names (checked against the spec's hosts before anything is sent there). An instance that changes
    // on a refresh moves the connection: URLs of an instance it was on before (a checkpointed next
    // link) are sent to the current one, never to the old host.
    const instanceConfig = isOAuthAuth(chosen) ? chosen.instanceUrl : undefined;
    const seenInstances = new Set<string>();
    let instance: string | undefined;
    const currentInstance = (): string => {
      try {
        return instanceOrigin(tokens?.instanceUrl() ?? null, instanceConfig!);
      } catch (error) {
        if (!(error instanceof InstanceUrlError)) throw error;
        const tokenUrl = isOAuthAuth(chosen) ? new URL(chosen.tokenUrl).pathname : '';
        throw new ProviderError('untrusted-url', `${where}: ${error.message}`, {
          integration,
          connection: connectionId,
          method: 'POST',
          path: tokenUrl,
        });
      }
    };
    if (instanceConfig && tokens) {
      await tokens.token();
      instance = currentInstance();
      seenInstances.add(instance);
    }
    let baseUrl = fillBaseUrl(
      spec.baseUrl,
      connection.config,
      where,
      instance,
      spec.connectionConfig,
      connection.secrets,
    );
    let urlPolicy = policyFor(spec, baseUrl);
    /** Takes up the instance of the token in use, if it changed. */
    const followInstance = () => {
      if (!instanceConfig || !tokens) return;
      const now = currentInstance();
      if (now === instance) return;
      instance = now;
      seenInstances.add(now);
      baseUrl = fillBaseUrl(
        spec.baseUrl,
        connection.config,
        where,
        instance,
        spec.connectionConfig,
        connection.secrets,
      );
      urlPolicy = policyFor(spec, baseUrl);
    };
    const rebase = (url: URL): URL => {
      if (instance === undefined || url.origin === instance || !seenInstances.has(url.origin)) return url;
      const moved = new URL(url);
      const to = new URL(instance);
      moved.protocol = to.protocol;
      moved.host = to.host;
      return moved;
    };

    const request = async (req: ConnectionRequest): Promise<JsonResponse> => {
      const context = { integration, connection: connectionId, resource: req.resource };
      const own = ownAuthOf(req.resource);
      const auth = own ?? specAuth;
      if (instanceConfig && tokens) {
        await tokens.token();
        followInstance();
      }
      let url!: URL;
      let withCredentials = false;
      // Every URL is checked, not only provider-given ones: credentials go where the spec says, or nowhere.
      const aim = () => {
        url = rebase(new URL(req.url));
        let access;
        try {
          access = urlPolicy.check(url, 'a request');
        } catch (error) {
          if (!(error instanceof UntrustedUrlError)) throw error;
          throw new ProviderError('untrusted-url', error.message, {
            ...context,
            method: req.method,
            path: redactedPath(url.toString(), auth.secretParams),
          });
        }
        withCredentials = access === 'credentials';
        if (withCredentials) for (const [k, v] of Object.entries(auth.query)) url.searchParams.set(k, v);
      };
      aim();
      // An API key sent as a form field joins the form; a JSON body has no place for it.
      const keyFields = withCredentials && auth.form ? auth.form : undefined;
      if (keyFields && req.body !== undefined && !req.form)
        throw new SpecError(spec.id, [
          `resources.${req.resource}: the API key is a form field (auth.in: form), but this request's body is JSON: send it as a form (request.bodyFormat: form)`,
        ]);
      const body = keyFields
        ? { ...(req.body as Record<string, unknown> | undefined), ...keyFields }
        : req.body;
      const send = (authorization: Record<string, string>) =>
        measured.request(() =>
          http.requestJson({
            url: url.toString(),
            method: req.method,
            headers: {
              ...spec.headers,
              ...req.headers,
              ...(withCredentials ? { ...auth.headers, ...authorization } : {}),
            },
            ...(body !== undefined ? { body } : {}),
            ...(req.form || keyFields ? { form: true } : {}),
            ...(keyFields ? { credentialFields: Object.keys(keyFields) } : {}),
            context,
            signal: req.signal,
            secretParams: auth.secretParams,
            // Path secrets travel with the credentials: only to an origin that gets them.
            ...(withCredentials && pathSecrets.any ? { pathSecrets } : {}),
            urlPolicy,
            ...(req.rules ? { rules: req.rules } : {}),
            ...(req.decoder ? { decoder: req.decoder } : {}),
            ...(req.stream ? { stream: true } : {}),
            credentialHeaders: [...Object.keys(auth.headers), ...Object.keys(authorization)],
          }),
        );
      // Every try holds one of the connection's concurrent-request slots, if the spec limits them, and
      // spends the connection's shared budget (one atomic statement each) before it is sent.
      const rated = async (authorization: Record<string, string>) => {
        if (!spec.maxConcurrentRequests) return budgeted(authorization);
        // A lease outlives what it covers (the longest budget wait, then the longest request), so it
        // never lapses under a live request, and one whose worker died frees itself.
        const ttlMs = MAX_IN_ACTIVITY_WAIT_MS + spec.retry.timeoutMs + 5000;
        const held = await measured.lease(() =>
          lease(deps.db, rateKey, spec.maxConcurrentRequests!, ttlMs, {
            maxWaitMs: MAX_IN_ACTIVITY_WAIT_MS,
            signal: req.signal,
            onWait: (ms) => req.onWait?.(ms, 'concurrent requests'),
          }),
        );
        if (!held) {
          measured.deferred('lease');
          throw new ProviderError(
            'rate-limited',
            `all ${spec.maxConcurrentRequests} concurrent request slots of the connection stayed busy`,
            { ...context, method: req.method, path: url.pathname },
            { retryAfterMs: 1000 },
          );
        }
        try {
          return await budgeted(authorization);
        } finally {
          await releaseLease(deps.db, held);
        }
      };
      const budgeted = async (authorization: Record<string, string>) => {
        const got = await measured.budget(() =>
          acquire(deps.db, rateKey, spec.rateLimits, req.cost, {
            maxWaitMs: MAX_IN_ACTIVITY_WAIT_MS,
            signal: req.signal,
            onWait: (ms) => {
              measured.budgetWait(ms);
              req.onWait?.(ms, 'rate limit');
            },
          }),
        );
        if (!got.admitted) {
          measured.deferred('budget');
          // A long wait happens in Temporal (the retry's nextRetryDelay), not in a worker slot.
          throw new ProviderError(
            'rate-limited',
            `rate budget spent: next request in ${got.waitMs} ms`,
            { ...context, method: req.method, path: url.pathname },
            { retryAfterMs: got.waitMs },
          );
        }
        try {
          const r = await send(authorization);
          const said = parseRateHeaders((n) => r.header(n), new Date());
          if (said.blockedUntil) measured.blocked(said.source, said.blockedUntil.getTime() - Date.now());
          if (said.blockedUntil)
            await blockConnection(deps.db, rateKey, spec.rateLimits, {
              until: said.blockedUntil,
              ...(said.source ? { source: said.source } : {}),
            });
          return r;
        } catch (error) {
          // The provider said so (a 429, a rate-limited 403, a response rule): every worker waits.
          if (
            error instanceof ProviderError &&
            error.kind === 'rate-limited' &&
            error.details.status !== undefined
          ) {
            const ms = error.details.retryAfterMs;
            measured.rateLimitedAnswer(ms);
            await blockConnection(deps.db, rateKey, spec.rateLimits, {
              status: error.details.status,
              ...(ms !== undefined ? { until: new Date(Date.now() + ms), source: 'retry-after' } : {}),
            });
          }
          throw error;
        }
      };
      if (!tokens || own || !withCredentials) return rated({});
      const token = await tokens.token();
      try {
        return await rated(authorizationFor(token));
      } catch (error) {
        // One refresh and one retry on 401; a second 401 is an AuthError.
        if (!(error instanceof ProviderError && (error.details.status === 401 || error.details.refreshToken)))
          throw error;
        const renewed = await tokens.renew(token);
        // The new token may name another instance (an org moved): the retry goes there.
        followInstance();
        aim();
        return rated(authorizationFor(renewed));
      }
    };

    const fillPath = (
      template: string,
      extra: Record<string, string> = {},
      vars?: TemplateVars,
      options: FillOptions = {},
    ) =>
      fillPathTemplate(
        template,
        (key) => {
          if (key in extra) return extra[key];
          // A secret's marker, revealed by the transport as the request is sent (path-secrets.ts).
          if (key.startsWith('secrets.')) {
            const name = key.slice('secrets.'.length);
            resolveSecret(name, inputs);
            return `{secrets.${name}}`;
          }
          const given = vars?.(key);
          if (given !== undefined) return given;
          const v = connection.config[key.replace(/^config\./, '')];
          return v === undefined || v === null ? undefined : scalarText(v);
        },
        `connection ${integration}/${connectionId}`,
        options,
      );

    const urlFor = (path: string) => new URL(joinPath(baseUrl, path));

    return {
      fillPath,
      urlFor,
      request,
      // A URL of an earlier instance counts as the current one's: request() sends it there.
      urlPolicy: {
        check: (url: URL, what: string) => urlPolicy.check(rebase(url), what),
        get baseOrigin() {
          return urlPolicy.baseOrigin;
        },
      },
      secretParams: allSecretParams,
      sealUrl: (url: URL) => pathSecrets.seal(url),
      config: connection.config,
    };
  };
}

export type OpenConnectionClient = ReturnType<typeof createConnectionClients>;
