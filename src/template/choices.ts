/**
 * Choices inside a template: `{?condition}…{:}…{/}` keeps the first branch when the condition holds and
 * the second (optional) otherwise. Branches are template text themselves (placeholders, further
 * choices), so `https://api{?config.region!="eu"}-{config.region}{/}.example.com` or
 * `{?config.end}{config.end|split:T:0}{:}{now|date}{/}` can be written. A condition reads one name:
 *
 *   {?name}                  the value is set (true, a non-zero number, non-empty text or list)
 *   {?!name}                 it is not set (also when missing)
 *   {?name=="text"}          the value, as text, is the quoted text (JSON string syntax)
 *   {?name!="text"}          it is not (also when missing)
 *   {?name in ["a","b"]}     it is one of the quoted texts; `not in` for none of them
 *
 * Nothing is evaluated: a condition compares one value with texts written in the spec, and the chosen
 * branch is spec text, so a value never becomes template text. A template whose choices leave no text
 * at all has no value (a query parameter that is only a choice is then left out, as Airbyte leaves out
 * a parameter that renders empty or null).
 */
import { TemplateError } from './errors.js';
import { isSet, asText } from './functions.js';

export interface Condition {
  name: string;
  op: 'set' | 'unset' | 'eq' | 'ne' | 'in' | 'not-in';
  texts: string[];
}

export type ChoicePart =
  { text: string } | { condition: Condition; then: ChoicePart[]; otherwise: ChoicePart[] };

/** Where a template's choices could produce more texts than this, it is refused (a spec check). */
export const MAX_ALTERNATIVES = 256;

const NAME = '[a-zA-Z_][\\w.*-]*';
const SET = new RegExp(`^(!?)\\s*(${NAME})$`);
const COMPARE = new RegExp(`^(${NAME})\\s*(==|!=)\\s*("(?:[^"\\\\]|\\\\.)*")$`);
const MEMBER = new RegExp(`^(${NAME})\\s+(in|not\\s+in)\\s*(\\[[\\s\\S]*\\])$`);

/** Whether a template holds choices at all (the fast path skips parsing). */
export function hasChoices(template: string): boolean {
  return template.includes('{?') || template.includes('{:}') || template.includes('{/}');
}

function parseCondition(text: string): Condition {
  const t = text.trim();
  const set = SET.exec(t);
  if (set) return { name: set[2]!, op: set[1] ? 'unset' : 'set', texts: [] };
  const cmp = COMPARE.exec(t);
  if (cmp)
    return { name: cmp[1]!, op: cmp[2] === '==' ? 'eq' : 'ne', texts: [JSON.parse(cmp[3]!) as string] };
  const member = MEMBER.exec(t);
  if (member) {
    let list: unknown;
    try {
      list = JSON.parse(member[3]!);
    } catch {
      list = undefined;
    }
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string'))
      throw new TemplateError(`{?${text}}: "in" takes a list of quoted texts, ["a","b"]`);
    return { name: member[1]!, op: member[2] === 'in' ? 'in' : 'not-in', texts: list };
  }
  throw new TemplateError(
    `{?${text}}: a condition is {?name}, {?!name}, {?name=="text"}, {?name!="text"}, {?name in ["a","b"]} or {?name not in ["a","b"]}`,
  );
}

/** Where the `}` closing a condition is: the first outside a quoted text. */
function conditionEnd(template: string, from: number): number {
  let quoted = false;
  for (let i = from; i < template.length; i++) {
    const c = template[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '}') return i;
  }
  return -1;
}

const parsed = new Map<string, ChoicePart[]>();

/** A template's text and choices; throws TemplateError on a malformed choice. */
export function parseChoices(template: string): ChoicePart[] {
  const cached = parsed.get(template);
  if (cached) return cached;
  let i = 0;
  const level = (depth: number): { parts: ChoicePart[]; end: 'else' | 'close' | 'eof' } => {
    const parts: ChoicePart[] = [];
    let text = '';
    while (i < template.length) {
      if (template.startsWith('{?', i)) {
        if (text) parts.push({ text });
        text = '';
        const close = conditionEnd(template, i + 2);
        if (close < 0) throw new TemplateError(`"${template}": "{?" without its closing "}"`);
        const condition = parseCondition(template.slice(i + 2, close));
        i = close + 1;
        const then = level(depth + 1);
        let otherwise: ChoicePart[] = [];
        if (then.end === 'else') {
          const rest = level(depth + 1);
          if (rest.end === 'else') throw new TemplateError(`"${template}": a choice has one {:}`);
          if (rest.end === 'eof') throw new TemplateError(`"${template}": a choice {?…} needs its {/}`);
          otherwise = rest.parts;
        } else if (then.end === 'eof') throw new TemplateError(`"${template}": a choice {?…} needs its {/}`);
        parts.push({ condition, then: then.parts, otherwise });
        continue;
      }
      const marker = template.startsWith('{:}', i)
        ? 'else'
        : template.startsWith('{/}', i)
          ? 'close'
          : undefined;
      if (marker) {
        if (depth === 0)
          throw new TemplateError(
            `"${template}": ${marker === 'else' ? '{:}' : '{/}'} outside a choice {?…}`,
          );
        if (text) parts.push({ text });
        i += 3;
        return { parts, end: marker };
      }
      text += template[i++];
    }
    if (text) parts.push({ text });
    return { parts, end: 'eof' };
  };
  const parts = level(0).parts;
  parsed.set(template, parts);
  return parts;
}

/** Whether a condition holds for a value (`undefined`: missing). */
export function conditionHolds(c: Condition, v: unknown): boolean {
  const present = v !== undefined && v !== null;
  switch (c.op) {
    case 'set':
      return isSet(v);
    case 'unset':
      return !isSet(v);
    case 'eq':
      return present && asText(v) === c.texts[0];
    case 'ne':
      return !(present && asText(v) === c.texts[0]);
    case 'in':
      return present && c.texts.includes(asText(v));
    case 'not-in':
      return !(present && c.texts.includes(asText(v)));
  }
}

/** The template text the choices give for these values (the spec's text of the chosen branches). */
export function chooseText(parts: readonly ChoicePart[], vars: (name: string) => unknown): string {
  return parts
    .map((p) =>
      'text' in p
        ? p.text
        : chooseText(conditionHolds(p.condition, vars(p.condition.name)) ? p.then : p.otherwise, vars),
    )
    .join('');
}

/** Every text the choices can give (for checks); throws TemplateError beyond MAX_ALTERNATIVES. */
export function alternativeTexts(parts: readonly ChoicePart[]): string[] {
  let out = [''];
  for (const p of parts) {
    const next = 'text' in p ? [p.text] : [...alternativeTexts(p.then), ...alternativeTexts(p.otherwise)];
    out = out.flatMap((a) => next.map((b) => a + b));
    if (out.length > MAX_ALTERNATIVES)
      throw new TemplateError(`its choices give more than ${MAX_ALTERNATIVES} different texts: split it up`);
  }
  return [...new Set(out)];
}

/** Every condition of the choices, nested ones too. */
export function conditionsOf(parts: readonly ChoicePart[]): Condition[] {
  return parts.flatMap((p) =>
    'text' in p ? [] : [p.condition, ...conditionsOf(p.then), ...conditionsOf(p.otherwise)],
  );
}
