/** RFC 8288 Link header parsing: `<url>; rel="next"; title="x", <url2>; rel="prev last"`. */

export interface Link {
  url: string;
  rels: string[];
  params: Record<string, string>;
}

/** Every link in the header, in order. URLs are resolved against `base` when given. */
export function parseLinkHeader(header: string | null | undefined, base?: string): Link[] {
  if (!header) return [];
  const links: Link[] = [];
  let i = 0;
  const n = header.length;
  while (i < n) {
    const open = header.indexOf('<', i);
    if (open < 0) break;
    const close = header.indexOf('>', open + 1);
    if (close < 0) break;
    const rawUrl = header.slice(open + 1, close).trim();
    i = close + 1;
    const params: Record<string, string> = {};
    // Parameters run until the next comma that is outside quotes.
    while (i < n) {
      while (i < n && /\s/.test(header[i]!)) i++;
      if (header[i] === ',') {
        i++;
        break;
      }
      if (header[i] !== ';') {
        i++;
        continue;
      }
      i++;
      const eq = /^\s*([^=;,\s]+)\s*(=\s*)?/.exec(header.slice(i));
      if (!eq) break;
      const name = eq[1]!.toLowerCase();
      i += eq[0].length;
      let value = '';
      if (eq[2]) {
        if (header[i] === '"') {
          i++;
          while (i < n && header[i] !== '"') {
            if (header[i] === '\\' && i + 1 < n) i++;
            value += header[i];
            i++;
          }
          i++;
        } else {
          const m = /^[^;,]*/.exec(header.slice(i))!;
          value = m[0].trim();
          i += m[0].length;
        }
      }
      if (!(name in params)) params[name] = value;
    }
    let url = rawUrl;
    if (base) {
      try {
        url = new URL(rawUrl, base).toString();
      } catch {
        continue;
      }
    }
    const rels = (params.rel ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    links.push({ url, rels, params });
  }
  return links;
}

/** The URL of the first link whose rel includes `rel` (case-insensitive). */
export function linkWithRel(
  header: string | null | undefined,
  rel: string,
  base?: string,
): string | undefined {
  return parseLinkHeader(header, base).find((l) => l.rels.includes(rel.toLowerCase()))?.url;
}
