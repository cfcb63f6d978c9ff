/**
 * Instance URLs: a provider whose OAuth token response names the host a connection's API lives on
 * (Salesforce's `instance_url`, e.g. https://acme.my.salesforce.com). The spec writes
 * `baseUrl: "{instanceUrl}/services/data/v63.0"` and says which hosts an instance may be on
 * (`auth.instanceUrl.hosts: ["*.my.salesforce.com"]`): a token response naming any other host fails
 * the run before a credential is sent there. A `*` is exactly one DNS label; `:*` allows any port.
 * Plain http only for a loopback host (simulators, tests).
 */
import { z } from 'zod';

/** `*.my.salesforce.com`, `login.example.com`, `127.0.0.1:*`, `localhost:8443`. */
const HOST_PATTERN =
  /^(?:\*|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.(?:\*|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?))*(?::(?:\*|\d{1,5}))?$/;

/** Hosts a URL may be on; at least one, and none that is only wildcards. */
export const hostPatternsSchema = z
  .array(
    z
      .string()
      .regex(HOST_PATTERN, 'expected a host pattern such as "*.my.salesforce.com" (* is one label)')
      .refine((h) => /[a-z0-9]/.test(h.replace(/:.*$/, '').replace(/\*/g, '')), {
        message: 'a host pattern must name at least one label of its own, e.g. "*.my.salesforce.com"',
      }),
  )
  .min(1);

export const instanceUrlSchema = z.strictObject({
  /** The token response field holding the instance URL (default Salesforce's `instance_url`). */
  field: z.string().min(1).default('instance_url'),
  /** Hosts an instance may be on. */
  hosts: hostPatternsSchema,
});
export type InstanceUrlConfig = z.infer<typeof instanceUrlSchema>;

export const INSTANCE_PLACEHOLDER = '{instanceUrl}';

export class InstanceUrlError extends Error {
  override name = 'InstanceUrlError';
}

/** Hosts plain http may go to: a simulator or a local provider on this machine. */
export const LOOPBACK: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a host and port match a pattern of `hostPatternSchema` (`*` is one DNS label, `:*` any port). */
export function hostMatches(pattern: string, hostname: string, port: string): boolean {
  const [hostPart, portPart] = pattern.split(':') as [string, string | undefined];
  if (portPart === undefined ? port !== '' : portPart !== '*' && portPart !== port) return false;
  const want = hostPart.split('.');
  const got = hostname.split('.');
  return (
    want.length === got.length &&
    want.every((label, i) => (label === '*' ? /^[a-z0-9-]+$/.test(got[i]!) : label === got[i]))
  );
}

/**
 * The origin of an instance URL from a token response, if it is one the spec allows; otherwise an
 * InstanceUrlError that names the refused origin (never more of the value).
 */
export function instanceOrigin(value: unknown, config: InstanceUrlConfig): string {
  if (typeof value !== 'string' || value === '')
    throw new InstanceUrlError(
      `the token response has no ${config.field}, which this spec's baseUrl needs ({instanceUrl})`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InstanceUrlError(`the token response's ${config.field} is not a URL`);
  }
  const hostname = url.hostname.toLowerCase();
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(hostname));
  if (!secure || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search)
    throw new InstanceUrlError(
      `refused the token response's ${config.field} ${url.origin}: an instance URL is an https origin only`,
    );
  if (!config.hosts.some((p) => hostMatches(p, hostname, url.port)))
    throw new InstanceUrlError(
      `refused the token response's ${config.field} ${url.origin}: its host is not one the spec allows (${config.hosts.join(', ')})`,
    );
  return url.origin;
}
