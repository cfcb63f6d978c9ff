/**
 * Session-token auth: a login request (credentials from the connection's secrets, in a JSON or form
 * body or in headers) answers with a token that later requests carry in a header. The token is cached,
 * stored sealed and renewed exactly like an OAuth2 access token (oauth2.ts: one login at a time across
 * every worker, under the connection's advisory lock), on expiry or after a 401.
 *
 * The login answer is never quoted in errors or logs (it holds the token); only its status is.
 */
import { fillBody, fillRecord, formBody } from '../request-template.js';
import { valueAtPath } from '../../json/path.js';
import { ProviderError } from '../errors.js';
import { authVars, resolveCredential, type AuthInputs } from './apply.js';
import type { SessionTokenAuthConfig } from './schema.js';

export interface LoginResult {
  access_token: string;
  token_type: 'bearer';
  expires_in?: number;
}

/** The header a session token travels in. */
export function sessionHeader(auth: SessionTokenAuthConfig, token: string): Record<string, string> {
  return { [auth.header.toLowerCase()]: auth.value.split('{token}').join(token) };
}

/** Performs the login at `url` (login.url, or the connection's baseUrl + login.path) and reads the token. */
export async function sessionLogin(
  auth: SessionTokenAuthConfig,
  url: string,
  inputs: AuthInputs,
  timeoutMs: number,
  where: { integration?: string; connection?: string },
): Promise<LoginResult> {
  const context = { ...where, method: auth.login.method, path: new URL(url).pathname };
  const vars = authVars(inputs);
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...fillRecord(auth.login.headers, vars, 'header'),
  };
  const basic = auth.login.basic;
  if (basic) {
    const pair = `${resolveCredential(basic.username, inputs)}:${basic.password === undefined ? '' : resolveCredential(basic.password, inputs)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  let body: string | undefined;
  if (auth.login.body !== undefined) {
    const filled = fillBody(auth.login.body, vars) as Record<string, unknown>;
    if (auth.login.bodyFormat === 'form') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = formBody(filled);
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(filled);
    }
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: auth.login.method,
      headers,
      ...(body !== undefined ? { body } : {}),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError')
      throw new ProviderError('timeout', `the login request did not answer within ${timeoutMs} ms`, context);
    throw new ProviderError('network', `the login request failed (${name || 'no answer'})`, context);
  }
  const text = await response.text();
  if (!response.ok) {
    const s = response.status;
    const refused = s === 400 || s === 401 || s === 403;
    throw new ProviderError(
      refused ? 'auth' : s === 429 ? 'rate-limited' : s >= 500 ? 'server' : 'client',
      refused
        ? `the login request was refused (${s}): fix the connection's login secrets`
        : `the login request failed (${s})`,
      context,
      { status: s },
    );
  }
  let parsed: unknown;
  if (auth.tokenPath !== undefined || auth.expiresInPath !== undefined) {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProviderError('decode', 'the login answer is not JSON', context);
    }
  }
  const token =
    auth.tokenHeader !== undefined
      ? response.headers.get(auth.tokenHeader)
      : valueAtPath(parsed, auth.tokenPath ?? '');
  if (typeof token !== 'string' || token === '')
    throw new ProviderError(
      'decode',
      `the login answer has no token ${auth.tokenHeader !== undefined ? `in header ${auth.tokenHeader}` : `at "${auth.tokenPath}"`}`,
      context,
    );
  const expires = auth.expiresInPath !== undefined ? Number(valueAtPath(parsed, auth.expiresInPath)) : NaN;
  const lifetime = Number.isFinite(expires) && expires > 0 ? expires : auth.lifetimeSeconds;
  return {
    access_token: token,
    token_type: 'bearer',
    ...(lifetime !== undefined ? { expires_in: lifetime } : {}),
  };
}
