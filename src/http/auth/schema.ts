import { z } from 'zod';

/**
 * A secret is never written in a spec: it is the name of a secret the connection supplies, or
 * `{ env: NAME }` for one read from the worker's environment.
 */
export const secretRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name') }),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

export const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('bearer'), token: secretRefSchema }),
  z.strictObject({
    type: z.literal('api-key'),
    in: z.enum(['header', 'query']),
    name: z.string().min(1),
    value: secretRefSchema,
    /** Header value prefix, e.g. "Token ". */
    prefix: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('basic'), username: secretRefSchema, password: secretRefSchema }),
  z.strictObject({
    type: z.literal('oauth2-client-credentials'),
    tokenUrl: z.url({ protocol: /^https?$/ }),
    clientId: secretRefSchema,
    clientSecret: secretRefSchema,
    scopes: z.array(z.string()).default([]),
    audience: z.string().optional(),
    /** How the client authenticates at the token endpoint (default: HTTP basic). */
    clientAuth: z.enum(['basic', 'post']).default('basic'),
  }),
  z.strictObject({
    type: z.literal('oauth2-refresh-token'),
    tokenUrl: z.url({ protocol: /^https?$/ }),
    clientId: secretRefSchema,
    clientSecret: secretRefSchema,
    /** The first refresh token; rotated ones are stored (encrypted) and used from then on. */
    refreshToken: secretRefSchema,
    clientAuth: z.enum(['basic', 'post']).default('basic'),
  }),
  z.strictObject({
    type: z.literal('custom-headers'),
    /** Header name → template with {secrets.name} and {config.name}. */
    headers: z.record(z.string().min(1), z.string()),
  }),
]);
export type AuthConfig = z.infer<typeof authSchema>;
