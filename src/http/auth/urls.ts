/**
 * Token and authorize URLs may hold `{config.name}` placeholders, like baseUrl and by the same rules
 * (src/http/base-url.ts): a host value is a host name and its field must have a pattern, a path value
 * is one segment. Zendesk's `https://{config.subdomain}.zendesk.com/oauth/tokens` is one such URL.
 */
import { z } from 'zod';
import { baseUrlProblem, fillBaseUrl } from '../base-url.js';

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
): A {
  const out = { ...auth } as Record<string, unknown>;
  for (const key of ['tokenUrl', 'authorizeUrl'] as const) {
    const v = out[key];
    if (typeof v === 'string' && v.includes('{')) out[key] = fillBaseUrl(v, config, where);
  }
  return out as A;
}
