/**
 * JSON text that Postgres's jsonb can hold. jsonb refuses a NUL character and an unpaired surrogate
 * (a truncated emoji, say), which JSON.stringify writes as `\u0000` and `\udXXX` escapes; one such record
 * would fail its whole page's commit on every retry. Only text JSON.stringify wrote is meant here: it
 * writes a surrogate pair as the characters themselves, so any surrogate escape in it is unpaired.
 */

/** A `\u0000` or surrogate escape that is not itself an escaped backslash's text (`\\u0000`). */
const UNSTORABLE_ESCAPE = /(?<=(?:^|[^\\])(?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;

/** What a record holding such text is quarantined with. */
export const UNSTORABLE_REASON =
  'contains a NUL character or an unpaired surrogate, which Postgres cannot store';

/** Whether the JSON text holds a NUL or an unpaired surrogate. */
export function hasUnstorableText(json: string): boolean {
  if (!json.includes('\\u')) return false;
  UNSTORABLE_ESCAPE.lastIndex = 0;
  return UNSTORABLE_ESCAPE.test(json);
}

/** The JSON text with each NUL and unpaired surrogate replaced by U+FFFD (the replacement character). */
export function storableJson(json: string): string {
  return json.includes('\\u') ? json.replace(UNSTORABLE_ESCAPE, '\\ufffd') : json;
}
