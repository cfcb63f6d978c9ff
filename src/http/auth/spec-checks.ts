/**
 * Cross-field checks of the OAuth2 authorization-code and JWT-bearer auth types, run by the spec
 * schema's own cross-field pass: every problem is a zod issue with its path under `auth`.
 */
import type { z } from 'zod';
import { RESERVED_AUTHORIZE_PARAMS, type AuthConfig } from './schema.js';

type CheckSecret = (ref: unknown, path: (string | number)[]) => void;

/**
 * A public client sends no secret, a confidential one must; the flow's own parameters are its own.
 * The spec's cross-field pass also runs on specs with problems of their own: a part too malformed to
 * check (already reported by its schema) is skipped here, so the pass goes on to the rest.
 */
export function checkOAuthFlowAuth(
  auth: AuthConfig,
  connectionConfig: Readonly<Record<string, unknown>>,
  ctx: z.RefinementCtx,
  checkSecret: CheckSecret,
  /** Where the auth is: `['auth']`, or an option's `['auth', 'options', name]`. */
  at: (string | number)[] = ['auth'],
): void {
  try {
    check(auth, connectionConfig, ctx, checkSecret, at);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
}

function check(
  auth: AuthConfig,
  connectionConfig: Readonly<Record<string, unknown>>,
  ctx: z.RefinementCtx,
  checkSecret: CheckSecret,
  at: (string | number)[],
): void {
  const issue = (path: string[], message: string) =>
    ctx.addIssue({ code: 'custom', path: [...at, ...path], message });
  if (auth.type === 'oauth2-jwt-bearer') {
    checkSecret(auth.privateKey, [...at, 'privateKey']);
    checkSecret(auth.issuer, [...at, 'issuer']);
    if (auth.subject !== undefined) checkSecret(auth.subject, [...at, 'subject']);
    if (auth.keyId !== undefined) checkSecret(auth.keyId, [...at, 'keyId']);
  }
  if (auth.type !== 'oauth2-authorization-code') return;
  checkSecret(auth.clientId, [...at, 'clientId']);
  if (auth.clientSecret !== undefined) checkSecret(auth.clientSecret, [...at, 'clientSecret']);
  if (auth.clientAuth === 'none' && auth.clientSecret !== undefined)
    issue(
      ['clientSecret'],
      'a public client (clientAuth: none) sends no secret: remove clientSecret or use basic/post',
    );
  if ((auth.clientAuth === 'basic' || auth.clientAuth === 'post') && auth.clientSecret === undefined)
    issue(
      ['clientAuth'],
      `"${auth.clientAuth}" sends a client secret: give clientSecret, or use "none" (public client)`,
    );
  for (const name of Object.keys(auth.authorizeParams))
    if ((RESERVED_AUTHORIZE_PARAMS as readonly string[]).includes(name))
      issue(['authorizeParams', name], `"${name}" is set by the authorization flow itself`);
  for (const [field, configField] of Object.entries(auth.tokenResponseFields))
    if (!(configField in connectionConfig))
      issue(
        ['tokenResponseFields', field],
        `config field "${configField}" is not declared in connectionConfig (declared: ${Object.keys(connectionConfig).join(', ') || 'none'})`,
      );
}
