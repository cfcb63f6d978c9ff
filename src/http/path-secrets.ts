/**
 * Secrets in URL paths: `/v3/a/{secrets.account_id}/calls.json` (CallRail's account id), a token URL
 * `https://login.example.com/{secrets.tenant_id}/oauth2/token`. Such a secret is sealed like any other,
 * and its value exists in one string only: the URL handed to the socket, for an origin that gets the
 * connection's credentials.
 *
 * Everywhere else — checkpoints, cursors, errors, logs, spans, Temporal payloads — the URL carries the
 * secret's marker instead, the placeholder as a URL writes it (`%7Bsecrets.account_id%7D`): the transport
 * reveals markers as it sends, seals a provider-given URL (a next link) before it is stored, and scrubs
 * every form of the value from the errors it raises (a provider may quote the path in its answer).
 */
import { PathValueError } from './path-template.js';

/** `{secrets.<name>}` as a whole path segment. */
export const PATH_SECRET = /\{secrets\.([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The marker a URL carries in place of the secret: the placeholder, percent-encoded by the URL parser. */
export function secretMarker(name: string): string {
  return encodeURIComponent(`{secrets.${name}}`);
}

/** Names of the secrets a path or URL template places. */
export function pathSecretNames(template: string): string[] {
  return [...template.matchAll(PATH_SECRET)].map((m) => m[1]!);
}

/**
 * Why a template's `{secrets.…}` placeholders cannot be used, or undefined: each must be a whole path
 * segment without filters (`/a/{secrets.id}/b`), in the path (`from` is where the path starts).
 */
export function pathSecretProblem(template: string, from = 0): string | undefined {
  for (const m of template.matchAll(/\{secrets\.[^{}]*\}/g)) {
    const whole = /^\{secrets\.[A-Za-z_][A-Za-z0-9_]*\}$/.test(m[0]);
    const end = m.index + m[0].length;
    const before = template[m.index - 1];
    const after = template[end];
    if (!whole)
      return `${m[0]}: a secret in a path is {secrets.<name>} alone, without filters (it is sent as one segment)`;
    if (m.index <= from || before !== '/' || (after !== undefined && after !== '/'))
      return `${m[0]} must be a whole path segment (/accounts/${m[0]}/calls): a secret is never part of a host, a query or a longer segment`;
  }
  return undefined;
}

export interface PathSecrets {
  /** Whether any secret is placed in a path (else every method is the identity). */
  readonly any: boolean;
  /** The URL as sent: each marker segment becomes its secret's encoded value. */
  reveal: (url: string) => string;
  /** A provider-given URL with each segment that is a secret's value replaced by its marker. */
  seal: (url: URL) => URL;
  /** Text with every form of the secrets' values (as given, percent-encoded) replaced by "[redacted]". */
  scrub: (text: string) => string;
}

export const NO_PATH_SECRETS: PathSecrets = {
  any: false,
  reveal: (url) => url,
  seal: (url) => url,
  scrub: (text) => text,
};

/** A value as one encoded segment, refused without quoting it (it is a secret). */
function secretSegment(name: string, value: string, where: string): string {
  const forms = [value];
  try {
    forms.push(decodeURIComponent(value));
  } catch {
    // not percent-encoded
  }
  if (value === '' || forms.some((f) => f.split(/[\\/]/).some((p) => p === '.' || p === '..')))
    throw new PathValueError(
      `${where}: secret "${name}" cannot be a path segment (it is empty or a server could read it as "." or "..")`,
    );
  return encodeURIComponent(value);
}

/** Markers compare whatever case the hex digits of their escapes come in. */
function normal(segment: string): string {
  return segment.replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase());
}

/**
 * The path secrets of a connection: `values` maps each secret name placed in a path to its value
 * (from the connection's sealed secrets); `where` names the connection in errors.
 */
export function createPathSecrets(values: Readonly<Record<string, string>>, where: string): PathSecrets {
  const entries = Object.entries(values);
  if (entries.length === 0) return NO_PATH_SECRETS;
  const byMarker = new Map<string, string>();
  const byValue = new Map<string, string>();
  const forms = new Set<string>();
  for (const [name, value] of entries) {
    const encoded = secretSegment(name, value, where);
    byMarker.set(normal(secretMarker(name)), encoded);
    byValue.set(normal(encoded), secretMarker(name));
    for (const f of [value, encoded, encodeURI(value), encoded.toLowerCase()]) if (f !== '') forms.add(f);
  }
  // Longest first, so a value that contains another is scrubbed whole.
  const scrubbed = [...forms].sort((a, b) => b.length - a.length);
  const mapSegments = (url: URL, to: (segment: string) => string | undefined): URL => {
    const segments = url.pathname.split('/');
    let changed = false;
    const out = segments.map((s) => {
      const t = to(normal(s));
      if (t === undefined) return s;
      changed = true;
      return t;
    });
    if (!changed) return url;
    const copy = new URL(url);
    copy.pathname = out.join('/');
    return copy;
  };
  return {
    any: true,
    reveal: (url) => mapSegments(new URL(url), (s) => byMarker.get(s)).toString(),
    seal: (url) => mapSegments(url, (s) => byValue.get(s)),
    scrub: (text) => {
      let out = text;
      for (const f of scrubbed) if (out.includes(f)) out = out.split(f).join('[redacted]');
      return out;
    },
  };
}
