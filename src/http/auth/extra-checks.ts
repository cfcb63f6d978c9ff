/**
 * Cross-field checks of the auth parts that send more than one credential or send one to a host of
 * their own: `extra` headers and query parameters, OAuth2 `tokenParams`, and a session login `url`.
 * Each problem is a zod issue with its path under `auth`.
 */
import type { z } from 'zod';
import { RESERVED_TOKEN_PARAMS, type AuthConfig } from './schema.js';
import { baseUrlProblem } from '../base-url.js';

export interface ExtraCheckScope {
  /** Template problems of a value (src/spec/template-checks.ts), for {secrets.x} and {config.x}. */
  problems(value: unknown): string[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why a login URL cannot be used: a literal https URL (http only on this machine), or one built from
 * the connection's config by baseUrl's rules (src/http/base-url.ts: a host label whose field has a
 * pattern, or a leading `format: url` field), so the login secrets go only to the host the connection's
 * own config names, never to one a provider's answer names.
 */
export function loginUrlProblem(url: string): string | undefined {
  if (/\{config\.[^{}]*\}/.test(url)) {
    const problem = baseUrlProblem(url);
    if (problem)
      return /only \{config\.name\} placeholders/.test(problem)
        ? 'a login URL is written out in full, or built from {config.name} placeholders in its host or path only (a connection must not choose where its login secrets go otherwise)'
        : `a login URL built from config: ${problem}`;
    if (!/^(https:\/\/|\{config\.)/.test(url))
      return 'must be an https URL (http only on this machine: 127.0.0.1, localhost, [::1])';
    return undefined;
  }
  if (/[{}]|%7[bd]/i.test(url))
    return 'a login URL is written out in full: no placeholders (a connection must not choose where its login secrets go)';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be an https URL';
  }
  if (u.username || u.password) return 'must not carry user info';
  if (u.hash) return 'must not have a fragment';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return undefined;
  return 'must be an https URL (http only on this machine: 127.0.0.1, localhost, [::1])';
}

/** The header and query names the auth itself sends, which an extra may not replace. */
function ownNames(auth: AuthConfig): { headers: string[]; query: string[] } {
  switch (auth.type) {
    case 'api-key':
      return auth.in === 'header'
        ? { headers: [auth.name.toLowerCase()], query: [] }
        : { headers: [], query: [auth.name] };
    case 'custom-headers':
      return { headers: Object.keys(auth.headers).map((h) => h.toLowerCase()), query: [] };
    case 'session-token':
      return { headers: [auth.header.toLowerCase()], query: [] };
    case 'none':
      return { headers: [], query: [] };
    default:
      return { headers: ['authorization'], query: [] };
  }
}

/** `at`: where the auth is (a resource's own auth is at resources.<name>.auth). */
export function checkAuthExtras(
  auth: AuthConfig,
  ctx: z.RefinementCtx,
  scope: ExtraCheckScope,
  at: (string | number)[] = ['auth'],
): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path: [...at, ...path], message });
  const extra = 'extra' in auth ? auth.extra : undefined;
  if (extra) {
    const own = ownNames(auth);
    for (const [part, values, taken] of [
      ['headers', extra.headers, own.headers],
      ['query', extra.query, own.query],
    ] as const) {
      for (const [name, template] of Object.entries(values)) {
        const key = part === 'headers' ? name.toLowerCase() : name;
        if (taken.includes(key))
          issue(['extra', part, name], `"${name}" is what the ${auth.type} auth itself sends`);
        for (const message of scope.problems(template)) issue(['extra', part, name], message);
      }
    }
  }
  if ('tokenParams' in auth) {
    for (const [name, template] of Object.entries(auth.tokenParams)) {
      if ((RESERVED_TOKEN_PARAMS as readonly string[]).includes(name))
        issue(['tokenParams', name], `"${name}" is set by the token request itself`);
      if (name === 'scope' && auth.type === 'oauth2-client-credentials' && auth.scopes.length)
        issue(['tokenParams', name], 'give the scope either in scopes or in tokenParams, not both');
      for (const message of scope.problems(template)) issue(['tokenParams', name], message);
    }
  }
  if (auth.type === 'session-token') {
    const { path, url } = auth.login;
    if ((path === undefined) === (url === undefined))
      issue(['login', 'path'], 'give one of path (under baseUrl) or url (a login host of its own)');
    if (url !== undefined) {
      const problem = loginUrlProblem(url);
      if (problem) issue(['login', 'url'], problem);
    }
  }
}
