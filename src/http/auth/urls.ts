/**
 * Token and authorize URLs may hold `{config.name}` placeholders, like baseUrl and by the same rules
 * (src/http/base-url.ts): a host value is a host name and its field must have a pattern, a path value
 * is one segment. Zendesk's `https://{config.subdomain}.zendesk.com/oauth/tokens` is one such URL; a
 * `format: url` field may start one (`{config.base_url}/v2/auth/token`).
 *
 * A token URL's path may also hold a secret as a whole segment (Microsoft's
 * `https://login.microsoftonline.com/{secrets.tenant_id}/oauth2/v2.0/token`): the URL keeps its marker,
 * revealed only in the request sent to the token endpoint (src/http/path-secrets.ts).
 */
import { z } from 'zod';
import { baseUrlProblem, fillBaseUrl, type UrlFieldSpec } from '../base-url.js';
import { PATH_SECRET, pathSecretProblem } from '../path-secrets.js';

/** An http(s) URL template with `{config.name}` only in its host or path. */
export const urlTemplateSchema = z.string().superRefine((u, ctx) => {
  const authority = u.indexOf('://') + 3;
  const pathStart = u.slice(authority).search(/\//);
  const problem =
    (u.includes('{secrets.')
      ? pathSecretProblem(u, pathStart === -1 ? u.length : authority + pathStart)
      : undefined) ?? baseUrlProblem(u.replace(PATH_SECRET, 'secret'));
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The auth config with its URLs filled from the connection's config. */
export function withConnectionUrls<A extends object>(
  auth: A,
  config: Readonly<Record<string, unknown>>,
  where: string,
  /** The spec's connectionConfig, for a URL that starts with a `format: url` field. */
  fields?: Readonly<Record<string, UrlFieldSpec>>,
): A {
  const out = { ...auth } as Record<string, unknown>;
  for (const key of ['tokenUrl', 'authorizeUrl'] as const) {
    const v = out[key];
    if (typeof v === 'string' && v.includes('{')) out[key] = fillBaseUrl(v, config, where, undefined, fields);
  }
  return out as A;
}
