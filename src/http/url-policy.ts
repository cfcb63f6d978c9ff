/**
 * Where a connection's requests may go. A provider's answers are untrusted: next links, next URLs and
 * redirects are checked here before anything is sent, so credentials reach only the spec's `baseUrl`
 * (its origin, under its path) and the origins the spec allows by name — those without credentials
 * unless the spec says so.
 */

/** An origin a spec allows besides its baseUrl's, e.g. a CDN serving export files. */
export interface AllowedOrigin {
  origin: string;
  /** Send the connection's credentials there too (default: no). */
  credentials: boolean;
}

/** What a request to a URL may carry. */
export type UrlAccess = 'credentials' | 'anonymous';

export class UntrustedUrlError extends Error {
  override name = 'UntrustedUrlError';
  constructor(
    message: string,
    /** The origin that was refused (never a full URL: its query may hold secrets). */
    readonly origin: string,
  ) {
    super(message);
  }
}

export interface UrlPolicy {
  /** The access a URL gets, or an UntrustedUrlError naming the refused origin. `what` says where it came from. */
  check(url: URL, what: string): UrlAccess;
  readonly baseOrigin: string;
}

/** The baseUrl's path without a trailing slash: '' when the base is the origin's root. */
function pathPrefix(base: URL): string {
  return base.pathname.replace(/\/+$/, '');
}

export function createUrlPolicy(baseUrl: string, allowed: readonly AllowedOrigin[] = []): UrlPolicy {
  const base = new URL(baseUrl);
  const prefix = pathPrefix(base);
  const others = new Map(allowed.map((a) => [new URL(a.origin).origin, a.credentials] as const));
  return {
    baseOrigin: base.origin,
    check(url: URL, what: string): UrlAccess {
      if (url.username || url.password) {
        throw new UntrustedUrlError(
          `refused ${what} to ${url.origin}: it carries user info in the URL`,
          url.origin,
        );
      }
      if (url.origin === base.origin) {
        // The URL parser has already removed dot segments, so a prefix check cannot be walked around.
        if (prefix === '' || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`))
          return 'credentials';
        throw new UntrustedUrlError(
          `refused ${what} to ${url.origin}${url.pathname}: it is outside the spec's baseUrl path ${prefix}`,
          url.origin,
        );
      }
      const credentials = others.get(url.origin);
      if (credentials === undefined) {
        throw new UntrustedUrlError(
          `refused ${what} to ${url.origin}: only the spec's baseUrl origin (${base.origin})` +
            `${others.size ? ` and allowedOrigins (${[...others.keys()].join(', ')})` : ''} may be called;` +
            ` add the origin to allowedOrigins in the spec if the provider really serves from there`,
          url.origin,
        );
      }
      return credentials ? 'credentials' : 'anonymous';
    },
  };
}
