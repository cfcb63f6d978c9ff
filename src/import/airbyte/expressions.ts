/**
 * Airbyte interpolation (`{{ config['x'] }}`, `{{ stream_partition.id }}`, `{{ next_page_token['next_page_token'] }}`,
 * `{{ format_datetime(stream_interval.start_time, '%s') }}`) as Syncwright request templates (`{config.x}`,
 * `{parent.id}`, `{cursor}`, `{window.start|unix}`). Each Jinja expression must mean one value Syncwright
 * knows; anything else (conditionals, arithmetic, functions without an equivalent) is refused with the
 * reason, and the caller reports the component as untranslated.
 */
import type { ConfigFields, ConfigUse } from './config-fields.js';
import { formatFilter } from './datetime.js';
import { accessPath, parseTemplate, show, type Node } from './jinja.js';
import { isObject, type Component, type Json } from './manifest.js';
import { DEFAULT_CONSTRUCTS, type Constructs } from './target.js';

/** What the values of a request can refer to, for one stream. */
export interface Scope {
  config: ConfigFields;
  parameters: Component;
  /** The Syncwright name `next_page_token` stands for with this stream's pagination. */
  pageToken?: 'cursor' | 'page' | 'offset' | undefined;
  /** Partition field → its value: a placeholder (`parent.project_id`) or a constant (a one-value list). */
  partition: Record<string, { placeholder: string; parentKey?: string } | { literal: string }>;
  /**
   * Parent fields read below a partition value (`stream_partition.respondent.uuid`): param name →
   * parent path, added to the parent's params. Only for a stream with one parent.
   */
  nestedParams?: Record<string, string> | undefined;
  /**
   * Every key the stream's slices carry, when all are known (its partition fields and its
   * DatetimeBasedCursor's window keys): a key outside them is never set, and Airbyte renders
   * `{{ stream_partition.x }}` of it as empty text.
   */
  sliceKeys?: ReadonlySet<string> | undefined;
  /** The stream has no cursor: its state is always empty (`stream_state.x` renders as ""). */
  stateless?: boolean | undefined;
  /**
   * Values rendered as empty text because nothing sets them, each with why (for the caller's report):
   * a slice key no router or cursor sets, a state value of a stream without a cursor.
   */
  unsetSlices?: Map<string, string> | undefined;
  /** The constructs the target grammar has (default: today's). */
  constructs?: Constructs | undefined;
  /** Computed fields may read the record (`{record.x}`). */
  record?: boolean | undefined;
  /** Secret config values may be used as plain config (path segments such as account ids). */
  secretsAsConfig?: boolean | undefined;
  /** The incremental window, when the stream has one. */
  window?:
    | {
        /** Slice keys that mean the window's start and end (`start_time`, or a partition_field_start). */
        startKeys: string[];
        endKeys: string[];
        /** The filter of the cursor's datetime_format (`unix`, `yyyy-MM-dd`), or none for ISO. */
        filter?: string | undefined;
        /** The cursor field, for `stream_state[cursor_field]`. */
        cursorField: string;
        /** Whether the requests place a window (start and end) or only an open-ended start. */
        ranged: boolean;
      }
    | undefined;
}

export type Translation = { ok: true; text: string } | { ok: false; reason: string };

/**
 * One expression's value: a placeholder with filters, literal text (`unset`: a slice value nothing sets),
 * or template text built of several (a concatenation, a choice `{?…}…{:}…{/}`).
 */
type Value =
  | { placeholder: string; filters: string[] }
  | { literal: string; unset?: true }
  | { template: string }
  | { fail: string };

const fail = (reason: string): Value => ({ fail: reason });

function literalText(v: Json | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A config value as a placeholder; `use` says whether it must be a secret. */
function configValue(path: string[], scope: Scope, use: ConfigUse): Value {
  if (path.length === 0) return fail('the whole config object has no single value');
  // A secret-marked field already placed in a path is plain config (reported there): so it is here too.
  if (
    use !== 'secret' &&
    scope.config.isSecret(path) &&
    !scope.secretsAsConfig &&
    !scope.config.hasValue(scope.config.nameOf(path))
  ) {
    scope.config.neededPlain(path);
    return fail(
      `config.${path.join('.')} is a secret: only an authenticator may send it (Syncwright stores plain config unsealed)`,
    );
  }
  const name = scope.config.use(path, use);
  return { placeholder: use === 'secret' ? `secrets.${name}` : `config.${name}`, filters: [] };
}

function windowValue(key: string, scope: Scope): Value | undefined {
  const w = scope.window;
  if (!w) return undefined;
  const filters = w.filter ? [w.filter] : [];
  if (w.startKeys.includes(key)) return { placeholder: w.ranged ? 'window.start' : 'since', filters };
  if (w.endKeys.includes(key))
    return w.ranged
      ? { placeholder: 'window.end', filters }
      : fail(`the window's end is placed only when the start is placed too`);
  return undefined;
}

function accessValue(node: Node, scope: Scope, use: ConfigUse): Value {
  const access = accessPath(node);
  if (!access) return fail(`"${show(node)}" has no Syncwright equivalent`);
  const { root, path } = access;
  switch (root) {
    case 'config':
      return configValue(path, scope, use);
    case 'parameters': {
      let v: Json | undefined = scope.parameters;
      for (const k of path) v = isObject(v) ? v[k] : undefined;
      const text = literalText(v);
      if (text !== undefined) return { literal: text };
      // In a request (where the caller notes it), an unset parameter renders as "", as in Jinja.
      if (scope.unsetSlices && path.length > 0) {
        scope.unsetSlices.set(show(node), "is not set in the stream's $parameters");
        return { literal: '', unset: true };
      }
      return fail(`parameters.${path.join('.')} is not set`);
    }
    case 'stream_partition':
    case 'stream_slice':
    case 'stream_interval': {
      const key = path[0];
      // Airbyte's three names are aliases of one slice: `stream_interval.unit_id` is a partition value.
      const nested = key !== undefined ? scope.partition[key] : undefined;
      if (path.length > 1 && nested && 'parentKey' in nested && nested.parentKey && scope.nestedParams) {
        // A field inside the parent's value: one more param, read at that path of the parent record.
        const name = path.join('.');
        scope.nestedParams[name] = [nested.parentKey, ...path.slice(1)].join('.');
        return { placeholder: `parent.${name}`, filters: [] };
      }
      if (key === undefined || path.length > 2) return fail(`"${show(node)}" is not a partition value`);
      const part = path.length === 1 ? scope.partition[key] : undefined;
      if (part) return 'literal' in part ? part : { placeholder: part.placeholder, filters: [] };
      const w = windowValue(key, scope);
      if (w) return w;
      if (key === 'extra_fields')
        return fail('parent fields copied into the slice (extra_fields) have no equivalent yet');
      // A key no slice of this stream sets (a manifest slip): Jinja renders the undefined value as "".
      const known = scope.sliceKeys;
      if (path.length === 1 && known && !known.has(key) && key !== 'parent_slice') {
        scope.unsetSlices?.set(show(node), "is never set in this stream's slices");
        return { literal: '', unset: true };
      }
      return fail(`"${show(node)}" is not a partition or window value of this stream`);
    }
    case 'stream_state': {
      const w = scope.window;
      if (w && path.length === 1 && path[0] === w.cursorField)
        return { placeholder: 'since', filters: w.filter ? [w.filter] : [] };
      if (scope.stateless && path.length > 0) {
        scope.unsetSlices?.set(show(node), 'reads the state of a stream without a cursor, which is empty');
        return { literal: '', unset: true };
      }
      return fail(`"${show(node)}": only the cursor field of the stream's state has an equivalent`);
    }
    case 'record':
      if (scope.record && path.length > 0) return { placeholder: `record.${path.join('.')}`, filters: [] };
      return fail(`"${show(node)}": the record is not available here`);
    case 'next_page_token': {
      if (path.length !== 1 || path[0] !== 'next_page_token' || !scope.pageToken)
        return fail(`"${show(node)}" has no equivalent with this stream's pagination`);
      return { placeholder: scope.pageToken, filters: [] };
    }
    default:
      return fail(`"${root}" is not available in Syncwright request templates`);
  }
}

/** Filters that leave the value as Syncwright sends it anyway (text, numbers kept as typed). */
const TRANSPARENT_FILTERS = new Set(['string', 'int', 'float', 'trim', 'urlencode']);
const NOW_FUNCTIONS = new Set([
  'now_utc',
  'today_utc',
  'now_local',
  'today_with_timezone',
  'day_delta',
  'timestamp',
]);

/** A value with a literal default as a `default:` filter; `required` refuses when there is no filter. */
function withDefault(v: Value, fallback: Node | undefined, scope: Scope, required = false): Value {
  // An undefined slice value takes the default, as Jinja's `default` gives it.
  if ('unset' in v && fallback?.k === 'lit' && fallback.value !== null && typeof fallback.value !== 'object')
    return { literal: String(fallback.value) };
  if ('template' in v && fallback !== undefined)
    return fail('a default of a composed value has no equivalent');
  if (!('placeholder' in v) || fallback === undefined) return v;
  if (fallback.k !== 'lit' || fallback.value === null || typeof fallback.value === 'object') return v;
  const text = String(fallback.value);
  if ((scope.constructs ?? DEFAULT_CONSTRUCTS).timeFunctions && !/[|{}]/.test(text))
    return { placeholder: v.placeholder, filters: [...v.filters, `default:${text}`] };
  return required ? fail("a default value has no equivalent in today's templates") : v;
}

/** One Jinja expression as Syncwright template text (a placeholder, a choice…), or why it has none. */
export function expressionText(
  node: Node,
  scope: Scope,
  use: ConfigUse = 'value',
): { text: string } | { fail: string } {
  return templateText(expressionValue(node, scope, use));
}

/** One Jinja expression as a Syncwright value. */
export function expressionValue(node: Node, scope: Scope, use: ConfigUse = 'value'): Value {
  if (node.k === 'lit') return { literal: literalText(node.value) ?? '' };
  if (node.k === 'filter') {
    if (node.name === 'default' || node.name === 'd')
      return withDefault(expressionValue(node.value, scope, use), node.args[0], scope, true);
    if (node.name === 'hash') return hashValue(node, scope, use);
    if (!TRANSPARENT_FILTERS.has(node.name)) return fail(`the "${node.name}" filter has no equivalent`);
    return expressionValue(node.value, scope, use);
  }
  if (node.k === 'call') {
    const fn = node.fn.k === 'name' ? node.fn.name : node.fn.k === 'attr' ? node.fn.name : '';
    if (fn === 'format_datetime' || fn === 'strftime') {
      const target = fn === 'strftime' && node.fn.k === 'attr' ? node.fn.obj : node.args[0];
      const fmt = fn === 'strftime' ? node.args[0] : node.args[1];
      if (!target || fmt?.k !== 'lit' || typeof fmt.value !== 'string')
        return fail(`${fn} needs a literal format`);
      const filter = formatFilter(fmt.value);
      if (!filter) return fail(`the date format "${fmt.value}" has no equivalent`);
      const inner = expressionValue(target, scope, use);
      if (!('placeholder' in inner)) return 'fail' in inner ? inner : fail(`${fn} of a literal`);
      // The value is already a time: its own format filter is replaced by the requested one.
      const kept = inner.filters.filter((f) => /^(plus|minus|default):/.test(f));
      return { placeholder: inner.placeholder, filters: [...kept, filter] };
    }
    if (fn === 'join' && node.fn.k === 'attr' && node.fn.obj.k === 'lit') return joinValue(node, scope);
    if (fn === 'timestamp' && node.args.length === 1 && textFilters(scope)) {
      // `timestamp(config.start_date)`: unix seconds of a time.
      const inner = expressionValue(node.args[0]!, scope, use);
      return 'placeholder' in inner
        ? { placeholder: inner.placeholder, filters: [...inner.filters, 'unix'] }
        : inner;
    }
    if (fn === 'replace' && node.fn.k === 'attr') return replaceValue(node, scope, use);
    if (fn === 'str' || fn === 'int') {
      const arg = node.args[0];
      return arg ? expressionValue(arg, scope, use) : fail(`${fn}() without an argument`);
    }
    if (fn === 'get' && node.fn.k === 'attr') {
      // `config.get('x', 'd')`: the value when set, else the default (a `default:` filter where the
      // grammar has it; without, a missing value leaves the parameter out).
      const v = accessValue(node, scope, use);
      return withDefault(v, node.args[1], scope);
    }
    if (NOW_FUNCTIONS.has(fn)) {
      const c = scope.constructs ?? DEFAULT_CONSTRUCTS;
      if (c.timeFunctions && (fn === 'now_utc' || fn === 'today_utc'))
        return { placeholder: 'now', filters: fn === 'today_utc' ? ['date'] : [] };
      const days = node.args[0];
      if (c.timeFunctions && fn === 'day_delta' && days) {
        const n =
          days.k === 'lit'
            ? days.value
            : days.k === 'unary' && days.arg.k === 'lit'
              ? -Number(days.arg.value)
              : undefined;
        // `day_delta(-1, format='%Y-%m-%d')` formats the time; without a format it is ISO.
        const fmt = node.kwargs.format;
        const formatted =
          fmt === undefined
            ? []
            : fmt.k === 'lit' && typeof fmt.value === 'string'
              ? [formatFilter(fmt.value)]
              : [undefined];
        if (formatted[0] === undefined && fmt !== undefined)
          return fail(`day_delta's format "${show(fmt)}" has no equivalent`);
        if (typeof n === 'number' && Number.isInteger(n))
          return {
            placeholder: 'now',
            filters: [`${n < 0 ? 'minus' : 'plus'}:P${Math.abs(n)}D`, ...(formatted as string[])],
          };
      }
      return fail(`${fn}() (the current time) has no equivalent in today's request templates`);
    }
    return fail(`the function ${fn || show(node.fn)}() has no equivalent`);
  }
  if (node.k === 'index') {
    const piece = splitPiece(node, scope, use);
    if (piece) return piece;
  }
  if (node.k === 'name' || node.k === 'attr' || node.k === 'index') return accessValue(node, scope, use);
  // `timestamp(config.start_date) * 1000`: unix milliseconds.
  if (
    node.k === 'bin' &&
    node.op === '*' &&
    node.right.k === 'lit' &&
    node.right.value === 1000 &&
    node.left.k === 'call' &&
    node.left.fn.k === 'name' &&
    node.left.fn.name === 'timestamp'
  ) {
    const inner = expressionValue(node.left, scope, use);
    if ('placeholder' in inner && inner.filters.at(-1) === 'unix')
      // Whole seconds (timestamp() is an int), then read back as milliseconds.
      return { placeholder: inner.placeholder, filters: [...inner.filters, 'unix-ms'] };
  }
  // `now_utc() - duration('P30D')`: time arithmetic.
  if (
    node.k === 'bin' &&
    (node.op === '-' || node.op === '+') &&
    (scope.constructs ?? DEFAULT_CONSTRUCTS).timeFunctions
  ) {
    const d = node.right;
    if (
      d.k === 'call' &&
      d.fn.k === 'name' &&
      d.fn.name === 'duration' &&
      d.args[0]?.k === 'lit' &&
      typeof d.args[0].value === 'string'
    ) {
      const left = expressionValue(node.left, scope, use);
      if ('placeholder' in left)
        return {
          placeholder: left.placeholder,
          filters: [...left.filters, `${node.op === '-' ? 'minus' : 'plus'}:${d.args[0].value}`],
        };
    }
  }
  // `'uid=' ~ config.uid`, `'-' + config.region`: text joined into template text.
  if (node.k === 'bin' && (node.op === '~' || node.op === '+') && textFilters(scope)) {
    const joined = concatValue(node, scope, use);
    if (joined) return joined;
  }
  // `config.team_id or stream_partition.team_id`: a fallback to another value (Python's `or`).
  if (node.k === 'bin' && node.op === 'or' && node.right.k !== 'lit' && textFilters(scope)) {
    const left = expressionValue(node.left, scope, use);
    const right = expressionValue(node.right, scope, use);
    if ('placeholder' in left && 'placeholder' in right && right.filters.length === 0)
      return { placeholder: left.placeholder, filters: [...left.filters, `or:${right.placeholder}`] };
    if ('fail' in left) return left;
    if ('fail' in right) return right;
    return fail(`"${show(node)}": the fallback must be one value without conversions`);
  }
  // `'a' if config.x == 'live' else 'b'`, or a test on a manifest parameter decided here.
  if (node.k === 'cond') {
    const chosen = conditionValue(node, scope, use);
    if (chosen) return chosen;
  }
  // `config.x or 'DAY'`: a default.
  if (
    node.k === 'bin' &&
    node.op === 'or' &&
    node.right.k === 'lit' &&
    (scope.constructs ?? DEFAULT_CONSTRUCTS).timeFunctions
  ) {
    const text = literalText(node.right.value) ?? '';
    const left = expressionValue(node.left, scope, use);
    if ('placeholder' in left && !/[|{}]/.test(text))
      return { placeholder: left.placeholder, filters: [...left.filters, `default:${text}`] };
  }
  // `stream_interval.start_time if stream_interval else config.start_date`: the window's value; a first
  // run without one leaves the parameter out.
  if (
    node.k === 'cond' &&
    node.test.k === 'name' &&
    ['stream_interval', 'stream_slice', 'next_page_token'].includes(node.test.name)
  )
    return expressionValue(node.then, scope, use);
  return fail(`"${show(node)}" has no Syncwright equivalent`);
}

/** Whether the grammar has the text filters (split, or, hash, join…): they came with the time functions. */
function textFilters(scope: Scope): boolean {
  return (scope.constructs ?? DEFAULT_CONSTRUCTS).timeFunctions;
}

/** A literal fit to be a filter argument: no placeholder or filter syntax inside. */
const ARG_TEXT = /^[^|{}]*$/;
/** A literal fit to be a choice of `if:`/`eq:` (which separate their texts with ":"). */
const CHOICE_TEXT = /^[^|{}:]*$/;

/** `','.join(config.symbols)`: the list's items joined; an empty list leaves the value out, as Airbyte does. */
function joinValue(node: Extract<Node, { k: 'call' }>, scope: Scope): Value {
  const sep = node.fn.k === 'attr' && node.fn.obj.k === 'lit' ? node.fn.obj.value : undefined;
  const arg = node.args[0];
  if (typeof sep !== 'string' || !ARG_TEXT.test(sep) || !arg || node.args.length !== 1 || !textFilters(scope))
    return fail(`"${show(node)}": join() has no equivalent here`);
  const inner = expressionValue(arg, scope, accessPath(arg)?.root === 'config' ? 'list' : 'value');
  if (!('placeholder' in inner)) return 'fail' in inner ? inner : fail(`"${show(node)}" joins a literal`);
  return { placeholder: inner.placeholder, filters: [...inner.filters, `join:${sep}`, 'nonempty'] };
}

/** `x.split('::')[1]`: one piece of a text; undefined when the node is no such expression. */
function splitPiece(node: Extract<Node, { k: 'index' }>, scope: Scope, use: ConfigUse): Value | undefined {
  const call = node.obj;
  if (call.k !== 'call' || call.fn.k !== 'attr' || call.fn.name !== 'split') return undefined;
  const sep = call.args[0];
  const index =
    node.index.k === 'lit'
      ? node.index.value
      : node.index.k === 'unary' && node.index.op === '-' && node.index.arg.k === 'lit'
        ? -Number(node.index.arg.value)
        : undefined;
  if (
    sep?.k !== 'lit' ||
    typeof sep.value !== 'string' ||
    sep.value === '' ||
    !ARG_TEXT.test(sep.value) ||
    call.args.length !== 1 ||
    typeof index !== 'number' ||
    !Number.isInteger(index) ||
    !textFilters(scope)
  )
    return fail(
      `"${show(node)}": only a split at a literal separator, then a literal index, has an equivalent`,
    );
  const inner = expressionValue(call.fn.obj, scope, use);
  if (!('placeholder' in inner)) return 'fail' in inner ? inner : fail(`"${show(node)}" splits a literal`);
  return { placeholder: inner.placeholder, filters: [...inner.filters, `split:${sep.value}:${index}`] };
}

/** `record.email | hash('md5')`: the hex digest (a salt has no equivalent). */
function hashValue(node: Extract<Node, { k: 'filter' }>, scope: Scope, use: ConfigUse): Value {
  const algorithm =
    node.args[0] === undefined ? 'md5' : node.args[0].k === 'lit' ? node.args[0].value : undefined;
  if (
    node.args.length > 1 ||
    typeof algorithm !== 'string' ||
    !['md5', 'sha1', 'sha256', 'sha512'].includes(algorithm) ||
    !textFilters(scope)
  )
    return fail(`"${show(node)}": only hash with md5, sha1, sha256 or sha512 and no salt has an equivalent`);
  const inner = expressionValue(node.value, scope, use);
  if (!('placeholder' in inner)) return 'fail' in inner ? inner : fail(`"${show(node)}" hashes a literal`);
  return { placeholder: inner.placeholder, filters: [...inner.filters, `hash:${algorithm}`] };
}

/** A test decided by the manifest alone (`parameters.name == 'web'`): true or false; undefined otherwise. */
function staticTest(test: Node, scope: Scope): boolean | undefined {
  if (test.k === 'unary' && test.op === 'not') {
    const inner = staticTest(test.arg, scope);
    return inner === undefined ? undefined : !inner;
  }
  if (test.k !== 'bin' || (test.op !== '==' && test.op !== '!=')) return undefined;
  const known = (n: Node): { v: Json } | undefined => {
    if (n.k === 'lit') return { v: n.value };
    const p = accessPath(n);
    if (p?.root !== 'parameters' || p.path.length === 0) return undefined;
    let v: Json | undefined = scope.parameters;
    for (const k of p.path) v = isObject(v) ? v[k] : undefined;
    return v === undefined ? undefined : { v };
  };
  const a = known(test.left);
  const b = known(test.right);
  if (!a || !b || (test.left.k === 'lit' && test.right.k === 'lit')) return undefined;
  const equal = JSON.stringify(a.v) === JSON.stringify(b.v);
  return test.op === '==' ? equal : !equal;
}

/**
 * `a if test else b`: a test on manifest parameters picks its branch here; a test on one config value
 * between two literal texts is an `if:`/`eq:` choice. Undefined when the condition is neither.
 */
function conditionValue(node: Extract<Node, { k: 'cond' }>, scope: Scope, use: ConfigUse): Value | undefined {
  const decided = staticTest(node.test, scope);
  if (decided !== undefined) {
    const branch = decided ? node.then : node.else;
    return branch ? expressionValue(branch, scope, use) : { literal: '' };
  }
  if (!textFilters(scope)) return undefined;
  const otherwise = node.else ?? { k: 'lit' as const, value: '' };
  // Two literal texts by one config value: an `if:`/`eq:` filter. In a host, a choice of template text
  // (each text it can give is checked as a host when the spec is).
  if (node.then.k !== 'lit' || otherwise.k !== 'lit' || use === 'host')
    return choiceSection(node, scope, use);
  const texts = [literalText(node.then.value) ?? '', literalText(otherwise.value) ?? ''];
  if (!texts.every((t) => CHOICE_TEXT.test(t))) return choiceSection(node, scope, use);
  // `'x' if not config.flag else 'y'`: the texts the other way round.
  const negated = node.test.k === 'unary' && node.test.op === 'not';
  const choice = choiceOn(
    node.test.k === 'unary' && node.test.op === 'not' ? node.test.arg : node.test,
    scope,
  );
  if (!choice) return choiceSection(node, scope, use);
  const [a, b] = (negated ? [texts[1], texts[0]] : texts) as [string, string];
  return { placeholder: `config.${scope.config.use(choice.field, use)}`, filters: [choice.filter(a, b)] };
}

/** A choice's condition: one value (its template name) tested against literal texts. */
interface ChoiceCondition {
  name: string;
  op: 'set' | 'unset' | '==' | '!=' | 'in' | 'not in';
  texts: string[];
}

const NEGATED: Record<ChoiceCondition['op'], ChoiceCondition['op']> = {
  set: 'unset',
  unset: 'set',
  '==': '!=',
  '!=': '==',
  in: 'not in',
  'not in': 'in',
};

/** A condition as a choice's head: `{?config.x}`, `{?!config.x}`, `{?config.x=="v"}`, `{?config.x in ["a"]}`. */
function conditionText(c: ChoiceCondition): string {
  if (c.op === 'set' || c.op === 'unset') return `{?${c.op === 'unset' ? '!' : ''}${c.name}}`;
  if (c.op === '==' || c.op === '!=') return `{?${c.name}${c.op}${JSON.stringify(c.texts[0])}}`;
  return `{?${c.name} ${c.op} ${JSON.stringify(c.texts)}}`;
}

/** The template name a condition reads: a value without conversions (config, parent, cursor…). */
function conditionName(node: Node, scope: Scope): string | undefined {
  const v = expressionValue(node, scope, 'value');
  return 'placeholder' in v && v.filters.length === 0 ? v.placeholder : undefined;
}

/** A comparable literal: text or a number (as Python writes it); undefined otherwise. */
function comparedText(node: Node): string | undefined {
  if (node.k !== 'lit') return undefined;
  return typeof node.value === 'string' || typeof node.value === 'number' ? String(node.value) : undefined;
}

/** `config.x`, `not config.x`, `config.x == 'v'`, `config.x in ['a', 'b']` as a choice's condition. */
function choiceCondition(test: Node, scope: Scope, use: ConfigUse = 'value'): ChoiceCondition | undefined {
  if (test.k === 'unary' && test.op === 'not') {
    const inner = choiceCondition(test.arg, scope, use);
    return inner && { ...inner, op: NEGATED[inner.op] };
  }
  if (test.k === 'bin' && (test.op === '==' || test.op === '!=')) {
    const [side, lit] = test.left.k === 'lit' ? [test.right, test.left] : [test.left, test.right];
    const text = comparedText(lit);
    const name = text === undefined ? undefined : conditionName(side, scope);
    return name === undefined || text === undefined ? undefined : { name, op: test.op, texts: [text] };
  }
  if (test.k === 'bin' && (test.op === 'in' || test.op === 'not in') && test.right.k === 'list') {
    const texts = test.right.items.map(comparedText);
    const name = conditionName(test.left, scope);
    if (name === undefined || texts.length === 0 || texts.some((t) => t === undefined)) return undefined;
    return { name, op: test.op, texts: texts as string[] };
  }
  if (test.k === 'lit' || test.k === 'bin' || test.k === 'unary') return undefined;
  const name = conditionName(test, scope);
  if (name !== undefined) return { name, op: 'set', texts: [] };
  // A host chosen by whether a secret is set (a paid plan's API key): only its presence is read.
  const access = accessPath(test);
  if (
    use === 'host' &&
    access?.root === 'config' &&
    access.path.length > 0 &&
    scope.config.isSecret(access.path)
  )
    return { name: `secrets.${scope.config.use(access.path, 'secret')}`, op: 'set', texts: [] };
  return undefined;
}

/** A test as a choice's head (`{?config.x=="v"}`), or undefined when it is no such condition. */
export function choiceHead(test: Node, scope: Scope, use: ConfigUse = 'value'): string | undefined {
  const c = choiceCondition(test, scope, use);
  return c && conditionText(c);
}

/** A value as template text to place in a choice's branch or a concatenation; a literal stays literal. */
function templateText(v: Value): { text: string } | { fail: string } {
  if ('fail' in v) return v;
  if ('literal' in v)
    return /[{}]/.test(v.literal)
      ? { fail: `the text "${v.literal}" would read as template syntax` }
      : { text: v.literal };
  return { text: 'template' in v ? v.template : placeholderText(v) };
}

/**
 * `a if test else b` whose branches are any values (placeholders, composed text, literals; `None` is no
 * text, so a parameter that is only the choice is left out): a choice `{?test}a{:}b{/}`.
 */
function choiceSection(node: Extract<Node, { k: 'cond' }>, scope: Scope, use: ConfigUse): Value | undefined {
  const condition = choiceCondition(node.test, scope, use);
  if (!condition) return undefined;
  const branch = (n: Node | undefined) =>
    n === undefined || (n.k === 'lit' && n.value === null)
      ? { text: '' }
      : templateText(expressionValue(n, scope, use));
  const then = branch(node.then);
  if ('fail' in then) return then;
  const otherwise = branch(node.else);
  if ('fail' in otherwise) return otherwise;
  return {
    template: `${conditionText(condition)}${then.text}${otherwise.text ? `{:}${otherwise.text}` : ''}{/}`,
  };
}

/** `'uid=' ~ config.uid`, `'-' + config.region`: pieces joined as template text; undefined when not text. */
function concatValue(node: Extract<Node, { k: 'bin' }>, scope: Scope, use: ConfigUse): Value | undefined {
  const pieces: Node[] = [];
  const flatten = (n: Node) => {
    if (n.k === 'bin' && n.op === node.op) {
      flatten(n.left);
      pieces.push(n.right);
    } else pieces.push(n);
  };
  flatten(node);
  // Python's `+` joins text only when a piece is text; otherwise it is arithmetic.
  if (node.op === '+' && !pieces.some((p) => p.k === 'lit' && typeof p.value === 'string')) return undefined;
  let text = '';
  let composed = false;
  for (const p of pieces) {
    const v = expressionValue(p, scope, use);
    const t = templateText(v);
    if ('fail' in t) return fail(t.fail);
    composed ||= !('literal' in v);
    text += t.text;
  }
  return composed ? { template: text } : { literal: text };
}

/** `config.country.replace('global', '')`: every occurrence of a literal text replaced. */
function replaceValue(node: Extract<Node, { k: 'call' }>, scope: Scope, use: ConfigUse): Value {
  const [from, to] = node.args;
  if (
    node.fn.k !== 'attr' ||
    node.args.length !== 2 ||
    from?.k !== 'lit' ||
    typeof from.value !== 'string' ||
    !/^[^:|{}]+$/.test(from.value) ||
    to?.k !== 'lit' ||
    typeof to.value !== 'string' ||
    !/^[^:|{}]*$/.test(to.value) ||
    !textFilters(scope)
  )
    return fail(
      `"${show(node)}": only a replace of one literal text (without ":") by another has an equivalent`,
    );
  const inner = expressionValue(node.fn.obj, scope, use);
  if (!('placeholder' in inner))
    return 'fail' in inner ? inner : fail(`"${show(node)}" replaces in a literal`);
  // Replaced by nothing, the text may be empty: then it is left out, as Airbyte leaves out empty values.
  const filters = [
    ...inner.filters,
    `replace:${from.value}:${to.value}`,
    ...(to.value === '' ? ['nonempty'] : []),
  ];
  return { placeholder: inner.placeholder, filters };
}

/** Text a choice filter can carry as one of its literal texts. */
const COMPARED_TEXT = /^[^:|{}]+$/;

/** A condition on one config value as a choice filter's head (`eq:<value>` or `if`), then-first. */
export function choiceOn(
  test: Node,
  scope: Scope,
): { field: string[]; filter: (a: string, b: string) => string } | undefined {
  const configPath = (n: Node) => {
    const a = accessPath(n);
    return a?.root === 'config' && a.path.length > 0 && !scope.config.isSecret(a.path) ? a.path : undefined;
  };
  const plain = configPath(test);
  if (plain) return { field: plain, filter: (a, b) => `if:${a}:${b}` };
  if (test.k !== 'bin' || (test.op !== '==' && test.op !== '!=')) return undefined;
  const [side, lit] = test.left.k === 'lit' ? [test.right, test.left] : [test.left, test.right];
  const field = configPath(side);
  if (!field || lit.k !== 'lit' || lit.value === null) return undefined;
  const value = String(lit.value);
  if (!COMPARED_TEXT.test(value)) return undefined;
  return {
    field,
    filter: test.op === '==' ? (a, b) => `eq:${value}:${a}:${b}` : (a, b) => `eq:${value}:${b}:${a}`,
  };
}

function placeholderText(v: { placeholder: string; filters: string[] }): string {
  return `{${[v.placeholder, ...v.filters].join('|')}}`;
}

/**
 * A manifest string (text with `{{ … }}`) as a Syncwright template. `use: 'secret'` maps config to
 * `{secrets.name}` (auth headers); `'host'` declares config fields as host labels (base URLs).
 */
export function translateTemplate(value: string, scope: Scope, use: ConfigUse = 'value'): Translation {
  let parts;
  try {
    // Jinja drops one newline at the end of a template (a YAML block scalar's).
    parts = parseTemplate(value.replace(/\r?\n$/, ''));
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  let text = '';
  for (const part of parts) {
    if ('statement' in part)
      return { ok: false, reason: `the statement {% ${part.statement} %} has no equivalent` };
    if ('text' in part) {
      if (/\{[A-Za-z_][\w.-]*(\|[^{}|]+)*\}|\{[?:/]/.test(part.text))
        return { ok: false, reason: `the text "${part.text}" would read as a Syncwright placeholder` };
      text += part.text;
      continue;
    }
    const v = expressionValue(part.expr, scope, use);
    if ('fail' in v) return { ok: false, reason: v.fail };
    text += 'literal' in v ? v.literal : 'template' in v ? v.template : placeholderText(v);
  }
  return { ok: true, text };
}

/** The single placeholder a string is (`"{{ config.x }}"` → `config.x`), or undefined. */
export function wholePlaceholder(template: string): string | undefined {
  return /^\{([A-Za-z_][\w.-]*)\}$/.exec(template)?.[1];
}

/** Translates every string in a JSON value (a body, a parameter map); the first failure is returned. */
export function translateValue(
  value: Json,
  scope: Scope,
): { ok: true; value: Json } | { ok: false; reason: string; at: string } {
  const walk = (v: Json, at: string): Json => {
    if (typeof v === 'string') {
      const t = translateTemplate(v, scope);
      if (!t.ok) throw Object.assign(new Error(t.reason), { at });
      return t.text;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}.${i}`));
    if (isObject(v))
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, at ? `${at}.${k}` : k)]));
    return v;
  };
  try {
    return { ok: true, value: walk(value, '') };
  } catch (error) {
    const e = error as Error & { at?: string };
    return { ok: false, reason: e.message, at: e.at ?? '' };
  }
}
