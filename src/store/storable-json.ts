/**
 * JSON text that Postgres's jsonb can hold. jsonb refuses a NUL character and an unpaired surrogate
 * (a truncated emoji, say), which JSON.stringify writes as `\u0000` and `\udXXX` escapes; one such record
 * would fail its whole page's commit on every retry. Only text JSON.stringify wrote is meant here: it
 * writes a surrogate pair as the characters themselves, so any surrogate escape in it is unpaired.
 */

/**
 * Escapes left to right, each backslash with the character it escapes: a `\u0000` or surrogate escape
 * is matched only where a backslash starts it (not the text after an escaped backslash, `\\u0000`),
 * in one linear pass (a lookbehind over runs of backslashes was quadratic in their length).
 */
const ESCAPE = /\\(?:u(?:0000|d[89a-f][0-9a-f]{2})|[^])/gi;

const isUnstorable = (escape: string) => escape.length === 6;

/** What a record holding such text is quarantined with. */
export const UNSTORABLE_REASON =
  'contains a NUL character or an unpaired surrogate, which Postgres cannot store';

/** Whether the JSON text holds a NUL or an unpaired surrogate. */
export function hasUnstorableText(json: string): boolean {
  if (!json.includes('\\u')) return false;
  for (const m of json.matchAll(ESCAPE)) if (isUnstorable(m[0])) return true;
  return false;
}

/** The JSON text with each NUL and unpaired surrogate replaced by U+FFFD (the replacement character). */
export function storableJson(json: string): string {
  return json.includes('\\u')
    ? json.replace(ESCAPE, (escape) => (isUnstorable(escape) ? '\\ufffd' : escape))
    : json;
}

/** Whether the text holds a NUL, which no Postgres text (column or parameter) can. */
export const holdsNul = (text: string): boolean => text.includes('\u0000');

/** Text for a text column: a NUL becomes U+FFFD. */
export function storableText(text: string): string {
  return holdsNul(text) ? text.replaceAll('\u0000', '\ufffd') : text;
}
