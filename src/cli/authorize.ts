/**
 * `syncwright connection authorize <integration> --id <conn>`: the OAuth2 authorization-code flow with
 * PKCE for a spec whose auth is `oauth2-authorization-code` (or has such an option: `type: select`). A callback server listens on
 * http://127.0.0.1:<port>/callback (the redirect URI to register with the provider), the authorize URL is
 * printed (and opened in a browser when this machine has one), and the answer's code is exchanged. The
 * connection is then saved through the same checked `addConnection`, and its tokens are stored sealed in
 * the same transaction; syncs refresh them like `oauth2-refresh-token` does. Nothing secret is printed.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthInputs } from '../http/auth/apply.js';
import {
  AuthorizationError,
  finishAuthorization,
  startAuthorization,
  type AuthorizationCodeAuth,
} from '../http/auth/authorization-code.js';
import { storeTokens } from '../http/auth/oauth2.js';
import { ProviderError } from '../http/errors.js';
import { AuthOptionError, chosenAuth } from '../http/auth/select.js';
import type { IntegrationSpec } from '../spec/schema.js';
import { addConnection, configFromStrings, connectionProblems } from '../sync/connections.js';
import { integrationSpec, pairs, specsFor } from './commands/shared.js';
import { openDatabase, UsageError, type CliContext } from './context.js';
import { openSecretBox } from './keys.js';

export interface AuthorizeOptions {
  id: string;
  config: string[];
  secret: string[];
  /** 0: any free port. */
  port: number;
  /** False with --no-browser. */
  browser: boolean;
  timeoutSeconds: number;
  specs?: string;
  /** Tests: called with the authorize URL once the callback server listens. */
  onAuthorizeUrl?: (url: string) => void;
}

/**
 * How to open `url` in a browser here, or undefined when there is none to open: never in CI, never on
 * a Linux session without a display (SSH, containers). $BROWSER wins when set.
 */
export function browserCommand(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
): [string, string[]] | undefined {
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') return undefined;
  if (env.BROWSER) return [env.BROWSER, [url]];
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]];
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return ['xdg-open', [url]];
}

interface Callback {
  url: URL;
  respond(status: number, text: string): void;
}

/** Listens on 127.0.0.1 for the provider's redirect to /callback; other paths (favicon) get a 404. */
async function listenForCallback(port: number): Promise<{
  redirectUri: string;
  next: Promise<Callback>;
  close(): Promise<void>;
}> {
  let deliver!: (c: Callback) => void;
  const next = new Promise<Callback>((resolve) => (deliver = resolve));
  let answered = false;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1`);
    if (req.method !== 'GET' || url.pathname !== '/callback' || answered) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(answered ? 'this authorization request is already answered' : 'not found');
      return;
    }
    answered = true;
    deliver({
      url,
      respond: (status, text) => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end(text);
      },
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(`port ${port} is in use: pass another with --port (and register its redirect URI)`)
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://127.0.0.1:${actual}/callback`,
    next,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function withTimeout<T>(p: Promise<T>, seconds: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new UsageError(
            `no answer on the callback within ${seconds} s: run the command again (--timeout gives more time)`,
          ),
        ),
      seconds * 1000,
    );
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new UsageError('interrupted'));
    });
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/**
 * The authorization-code auth a connection authorizes: the spec's, or of a spec with auth options, the
 * one `--config <by>=<option>` names, else its only authorization-code option (then written into the
 * connection's config, so its syncs use it too).
 */
export function authorizationCodeAuth(
  spec: IntegrationSpec,
  integration: string,
  config: Record<string, unknown>,
): AuthorizationCodeAuth {
  const add = 'add its connections with `syncwright connection add`';
  if (spec.auth.type !== 'select') {
    if (spec.auth.type !== 'oauth2-authorization-code')
      throw new UsageError(
        `${integration} uses auth "${spec.auth.type}", not oauth2-authorization-code: ${add}`,
      );
    return spec.auth;
  }
  const select = spec.auth;
  const flows = Object.keys(select.options).filter(
    (o) => select.options[o]!.type === 'oauth2-authorization-code',
  );
  const given = config[select.by];
  if (given === undefined || given === null || given === '') {
    if (flows.length !== 1)
      throw new UsageError(
        flows.length === 0
          ? `${integration} has no oauth2-authorization-code auth option (options: ${Object.keys(select.options).join(', ')}): ${add}`
          : `${integration} has several oauth2-authorization-code auth options: choose one with --config ${select.by}=<${flows.join('|')}>`,
      );
    config[select.by] = flows[0]!;
  }
  let chosen;
  try {
    chosen = chosenAuth(select, config, `connection ${integration}`).auth;
  } catch (error) {
    if (error instanceof AuthOptionError) throw new UsageError(error.message);
    throw error;
  }
  if (chosen.type !== 'oauth2-authorization-code')
    throw new UsageError(
      `config.${select.by}: the "${String(config[select.by])}" auth option of ${integration} is ${chosen.type}, not oauth2-authorization-code: ${add}` +
        (flows.length ? ` (or authorize with --config ${select.by}=<${flows.join('|')}>)` : ''),
    );
  return chosen;
}

export async function connectionAuthorizeCommand(
  ctx: CliContext,
  integration: string,
  opts: AuthorizeOptions,
): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  const spec = integrationSpec(specs, integration);
  const config = configFromStrings(spec, pairs(opts.config, 'config'));
  const auth = authorizationCodeAuth(spec, integration, config);
  const secrets = pairs(opts.secret, 'secret');
  const where = `${integration}/${opts.id}`;
  // Checked before the browser: fields the token response fills may still be missing.
  const fromToken = new Set(Object.values(auth.tokenResponseFields));
  const problems = connectionProblems(spec, { integration, id: opts.id, config, secrets }).filter(
    (p) => !fromToken.has(/^config\.([^:]+): required/.exec(p)?.[1] ?? ''),
  );
  if (problems.length) throw new UsageError(`connection ${where}: ${problems.join('; ')}`);
  const box = await openSecretBox(ctx);
  const db = await openDatabase(ctx);
  const inputs: AuthInputs = { secrets, config, env: process.env, where: `connection ${where}` };

  const callback = await listenForCallback(opts.port);
  ctx.scope.add('callback server', () => callback.close());
  const request = await startAuthorization(auth, inputs, callback.redirectUri);
  const url = request.url.toString();
  ctx.out(`Open this URL to authorize ${where} (waiting up to ${opts.timeoutSeconds} s for the answer):`);
  ctx.out(url);
  opts.onAuthorizeUrl?.(url);
  const browser = opts.browser ? browserCommand(url, process.env, process.platform) : undefined;
  if (browser) {
    // A browser that fails to start changes nothing: the URL is printed above.
    const child = spawn(browser[0], browser[1], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  }

  const abort = new AbortController();
  ctx.scope.add('authorization wait', () => abort.abort());
  const answer = await withTimeout(callback.next, opts.timeoutSeconds, abort.signal);
  try {
    const target = { integration, connection: opts.id };
    const result = await finishAuthorization(auth, inputs, request, answer.url, spec.retry.timeoutMs, target);
    const required = result.missingFields.filter(
      (f) => spec.connectionConfig[auth.tokenResponseFields[f]!]?.required,
    );
    if (required.length)
      throw new AuthorizationError(
        `the token response has no ${required.join(', ')} (auth.tokenResponseFields), which the connection needs`,
      );
    await db.transaction().execute(async (tx) => {
      await addConnection(tx, box, spec, {
        integration,
        id: opts.id,
        config: { ...config, ...result.config },
        secrets,
      });
      const row = await tx
        .selectFrom('connections')
        .select('generation')
        .where('integration', '=', integration)
        .where('id', '=', opts.id)
        .executeTakeFirstOrThrow();
      await storeTokens(
        tx,
        box,
        target,
        String(row.generation),
        result.tokens,
        undefined,
        auth.instanceUrl ? { field: auth.instanceUrl.field, fallback: null } : undefined,
      );
    });
    answer.respond(200, `Syncwright: ${where} is authorized. You can close this window.`);
    const refresh = result.tokens.refresh_token !== undefined;
    const summary = {
      integration,
      id: opts.id,
      refreshToken: refresh,
      expiresIn: result.tokens.expires_in ?? null,
      scope: result.tokens.scope ?? null,
      config: Object.keys(result.config),
    };
    if (ctx.json) ctx.out(JSON.stringify(summary, null, 2));
    else
      ctx.out(
        `connection ${where} authorized: ${refresh ? 'refresh token' : 'access token (the provider gave no refresh token)'} stored encrypted` +
          (summary.config.length ? `; config ${summary.config.join(', ')} from the token response` : ''),
      );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    answer.respond(400, `Syncwright: ${where} was not authorized: ${message}`);
    if (error instanceof AuthorizationError || error instanceof ProviderError) throw new UsageError(message);
    throw error;
  }
}
