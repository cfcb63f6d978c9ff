/**
 * Token and authorize URLs may hold `{config.name}` placeholders, like baseUrl and by the same rules
 * (src/http/base-url.ts): a host value is a host name and its field must have a pattern, a path value
 * is one segment. Zendesk's `https://{config.subdomain}.zendesk.com/oauth/tokens` is one such URL; a
 * `format: url` field may start one (`{config.base_url}/v2/auth/token`).
 */
import { z } from 'zod';
import { baseUrlProblem, fillBaseUrl, type UrlFieldSpec } from '../base-url.js';

/** An http(s) URL template with `{config.name}` only in its host or path. */
export const urlTemplateSchema = z.string().superRefine((u, ctx) => {
  const problem = baseUrlProblem(u);
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
