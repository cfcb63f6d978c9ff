/**
 * A parser for the Jinja subset Airbyte manifests write inside `{{ … }}`: literals, names, attribute and
 * index access, calls (`now_utc()`, `response.get('x', {})`), filters (`| int`), `not`/`and`/`or`,
 * comparisons, `in`, `is [not] none`, arithmetic and `a if b else c`. It only builds a syntax tree; the
 * translator decides which trees have a Syncwright equivalent. Nothing is ever evaluated.
 */

export type Node =
  | { k: 'lit'; value: string | number | boolean | null }
  | { k: 'name'; name: string }
  | { k: 'attr'; obj: Node; name: string }
  | { k: 'index'; obj: Node; index: Node }
  | { k: 'call'; fn: Node; args: Node[]; kwargs: Record<string, Node> }
  | { k: 'filter'; value: Node; name: string; args: Node[] }
  | { k: 'unary'; op: 'not' | '-'; arg: Node }
  | { k: 'bin'; op: string; left: Node; right: Node }
  | { k: 'test'; value: Node; name: string; negated: boolean }
  | { k: 'cond'; test: Node; then: Node; else?: Node | undefined }
  | { k: 'list'; items: Node[] }
  | { k: 'dict'; entries: [Node, Node][] };

/** A template: text, `{{ expression }}` parts and `{% statement %}` parts (never translated). */
export type TemplatePart = { text: string } | { expr: Node; source: string } | { statement: string };

export class JinjaSyntaxError extends Error {
  override name = 'JinjaSyntaxError';
}

type Token =
  { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string };

/** The escapes of a Jinja (Python) string literal; any other backslash stays. */
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  v: '\v',
  a: '\x07',
  '0': '\0',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '\n': '',
};

const OPS = [
  '==',
  '!=',
  '<=',
  '>=',
  '//',
  '**',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
  '|',
  '.',
  ',',
  ':',
  '=',
];
const BRACKETS = '()[]{}';

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1]!;
          // Python keeps an unknown escape as written: `'page=(\d+)'` is a regular expression's `\d`.
          v += Object.hasOwn(ESCAPES, e) ? ESCAPES[e]! : `\\${e}`;
          j += 2;
        } else v += src[j++];
      }
      if (j >= src.length) throw new JinjaSyntaxError(`unterminated string in "${src}"`);
      out.push({ t: 'str', v });
      i = j + 1;
      continue;
    }
    const num = /^\d+(\.\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    if (BRACKETS.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new JinjaSyntaxError(`unexpected "${c}" in "${src}"`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  return out;
}

const COMPARE = new Set(['==', '!=', '<', '>', '<=', '>=']);

/** Parses one Jinja expression (the inside of `{{ … }}`). */
export function parseExpression(src: string): Node {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (v: string, tk = peek()) => tk?.t === 'op' && tk.v === v;
  const isWord = (v: string, tk = peek()) => tk?.t === 'id' && tk.v === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new JinjaSyntaxError(`expected "${v}" in "${src}"`);
    pos++;
  };

  function conditional(): Node {
    const value = or();
    if (isWord('if')) {
      pos++;
      const test = or();
      let otherwise: Node | undefined;
      if (isWord('else')) {
        pos++;
        otherwise = conditional();
      }
      return { k: 'cond', test, then: value, else: otherwise };
    }
    return value;
  }
  function or(): Node {
    let left = and();
    while (isWord('or')) {
      pos++;
      left = { k: 'bin', op: 'or', left, right: and() };
    }
    return left;
  }
  function and(): Node {
    let left = not();
    while (isWord('and')) {
      pos++;
      left = { k: 'bin', op: 'and', left, right: not() };
    }
    return left;
  }
  function not(): Node {
    if (isWord('not')) {
      pos++;
      return { k: 'unary', op: 'not', arg: not() };
    }
    return compare();
  }
  function compare(): Node {
    let left = additive();
    for (;;) {
      const tk = peek();
      if (tk?.t === 'op' && COMPARE.has(tk.v)) {
        pos++;
        left = { k: 'bin', op: tk.v, left, right: additive() };
      } else if (isWord('in')) {
        pos++;
        left = { k: 'bin', op: 'in', left, right: additive() };
      } else if (isWord('not') && isWord('in', tokens[pos + 1])) {
        pos += 2;
        left = { k: 'bin', op: 'not in', left, right: additive() };
      } else if (isWord('is')) {
        pos++;
        let negated = false;
        if (isWord('not')) {
          pos++;
          negated = true;
        }
        const name = peek();
        if (name?.t !== 'id') throw new JinjaSyntaxError(`expected a test name after "is" in "${src}"`);
        pos++;
        left = { k: 'test', value: left, name: name.v.toLowerCase(), negated };
      } else return left;
    }
  }
  function additive(): Node {
    let left = multiplicative();
    while (isOp('+') || isOp('-') || isOp('~')) {
      const op = (peek() as { v: string }).v;
      pos++;
      const right = multiplicative();
      // `'query_' + 'media'`: two literal texts are one (a config key written in pieces).
      left =
        (op === '+' || op === '~') &&
        left.k === 'lit' &&
        right.k === 'lit' &&
        typeof left.value === 'string' &&
        typeof right.value === 'string'
          ? { k: 'lit', value: left.value + right.value }
          : { k: 'bin', op, left, right };
    }
    return left;
  }
  function multiplicative(): Node {
    let left = unary();
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%') || isOp('**')) {
      const op = (peek() as { v: string }).v;
      pos++;
      left = { k: 'bin', op, left, right: unary() };
    }
    return left;
  }
  function unary(): Node {
    if (isOp('-')) {
      pos++;
      return { k: 'unary', op: '-', arg: unary() };
    }
    return filtered();
  }
  function filtered(): Node {
    let value = postfix();
    while (isOp('|')) {
      pos++;
      const name = peek();
      if (name?.t !== 'id') throw new JinjaSyntaxError(`expected a filter name in "${src}"`);
      pos++;
      const args = isOp('(') ? callArgs().args : [];
      value = { k: 'filter', value, name: name.v, args };
    }
    return value;
  }
  function callArgs(): { args: Node[]; kwargs: Record<string, Node> } {
    expect('(');
    const args: Node[] = [];
    const kwargs: Record<string, Node> = {};
    while (!isOp(')')) {
      const tk = peek();
      if (tk?.t === 'id' && tokens[pos + 1]?.t === 'op' && (tokens[pos + 1] as { v: string }).v === '=') {
        pos += 2;
        kwargs[tk.v] = conditional();
      } else args.push(conditional());
      if (!isOp(')')) expect(',');
    }
    pos++;
    return { args, kwargs };
  }
  function postfix(): Node {
    let node = primary();
    for (;;) {
      if (isOp('.')) {
        pos++;
        const name = peek();
        if (name?.t !== 'id' && name?.t !== 'num')
          throw new JinjaSyntaxError(`expected a name after "." in "${src}"`);
        pos++;
        node = { k: 'attr', obj: node, name: String(name.v) };
      } else if (isOp('[')) {
        pos++;
        const index = conditional();
        if (isOp(':')) throw new JinjaSyntaxError(`slices are not supported in "${src}"`);
        expect(']');
        node =
          index.k === 'lit' && typeof index.value === 'string'
            ? { k: 'attr', obj: node, name: index.value }
            : { k: 'index', obj: node, index };
      } else if (isOp('(')) {
        const { args, kwargs } = callArgs();
        node = { k: 'call', fn: node, args, kwargs };
      } else return node;
    }
  }
  function primary(): Node {
    const tk = peek();
    if (!tk) throw new JinjaSyntaxError(`unexpected end of "${src}"`);
    pos++;
    if (tk.t === 'num') return { k: 'lit', value: tk.v };
    if (tk.t === 'str') {
      let v = tk.v;
      // Adjacent string literals concatenate, as in Python.
      while (peek()?.t === 'str') v += (tokens[pos++] as { v: string }).v;
      return { k: 'lit', value: v };
    }
    if (tk.t === 'id') {
      const lower = tk.v.toLowerCase();
      if (lower === 'true') return { k: 'lit', value: true };
      if (lower === 'false') return { k: 'lit', value: false };
      if (lower === 'none' || lower === 'null') return { k: 'lit', value: null };
      return { k: 'name', name: tk.v };
    }
    if (tk.v === '(') {
      const inner = conditional();
      if (isOp(',')) throw new JinjaSyntaxError(`tuples are not supported in "${src}"`);
      expect(')');
      return inner;
    }
    if (tk.v === '[') {
      const items: Node[] = [];
      while (!isOp(']')) {
        items.push(conditional());
        if (!isOp(']')) expect(',');
      }
      pos++;
      return { k: 'list', items };
    }
    if (tk.v === '{') {
      const entries: [Node, Node][] = [];
      while (!isOp('}')) {
        const key = conditional();
        expect(':');
        entries.push([key, conditional()]);
        if (!isOp('}')) expect(',');
      }
      pos++;
      return { k: 'dict', entries };
    }
    throw new JinjaSyntaxError(`unexpected "${tk.v}" in "${src}"`);
  }

  const node = conditional();
  if (pos !== tokens.length) throw new JinjaSyntaxError(`unexpected "${String(peek()?.v)}" in "${src}"`);
  return node;
}

/** Splits a template string into text, `{{ expression }}` and `{% statement %}` parts. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < text.length) {
    const expr = text.indexOf('{{', i);
    const stmt = text.indexOf('{%', i);
    const next = [expr, stmt].filter((n) => n >= 0).sort((a, b) => a - b)[0];
    if (next === undefined) {
      parts.push({ text: text.slice(i) });
      break;
    }
    if (next > i) parts.push({ text: text.slice(i, next) });
    const isExpr = next === expr;
    const close = text.indexOf(isExpr ? '}}' : '%}', next + 2);
    if (close < 0) throw new JinjaSyntaxError(`unclosed "${isExpr ? '{{' : '{%'}" in "${text}"`);
    const inner = text
      .slice(next + 2, close)
      .replace(/^-|-$/g, '')
      .trim();
    parts.push(isExpr ? { expr: parseExpression(inner), source: inner } : { statement: inner });
    i = close + 2;
  }
  return parts;
}

/** Whether a value holds any Jinja at all. */
export function isInterpolated(value: unknown): boolean {
  return typeof value === 'string' && (value.includes('{{') || value.includes('{%'));
}

/**
 * The access path of an expression such as `response['data']['next']`, `response.get('next', {})` or
 * `config.credentials.api_key`: its root name and the keys below it; undefined for anything else.
 * `.get(key, default)` counts as plain access (a missing value is absent either way in a path).
 */
export function accessPath(node: Node): { root: string; path: string[] } | undefined {
  if (node.k === 'name') return { root: node.name, path: [] };
  if (node.k === 'attr') {
    const inner = accessPath(node.obj);
    return inner && { root: inner.root, path: [...inner.path, node.name] };
  }
  if (node.k === 'index' && node.index.k === 'lit' && typeof node.index.value === 'number') {
    const inner = accessPath(node.obj);
    return inner && { root: inner.root, path: [...inner.path, String(node.index.value)] };
  }
  if (
    node.k === 'call' &&
    node.fn.k === 'attr' &&
    node.fn.name === 'get' &&
    node.args[0]?.k === 'lit' &&
    typeof node.args[0].value === 'string'
  ) {
    const inner = accessPath(node.fn.obj);
    return inner && { root: inner.root, path: [...inner.path, node.args[0].value] };
  }
  return undefined;
}

/** The expression as (roughly) written, for reports. */
export function show(node: Node): string {
  switch (node.k) {
    case 'lit':
      return typeof node.value === 'string' ? `'${node.value}'` : String(node.value);
    case 'name':
      return node.name;
    case 'attr':
      return `${show(node.obj)}.${node.name}`;
    case 'index':
      return `${show(node.obj)}[${show(node.index)}]`;
    case 'call':
      return `${show(node.fn)}(${[...node.args.map(show), ...Object.entries(node.kwargs).map(([k, v]) => `${k}=${show(v)}`)].join(', ')})`;
    case 'filter':
      return `${show(node.value)} | ${node.name}${node.args.length ? `(${node.args.map(show).join(', ')})` : ''}`;
    case 'unary':
      return `${node.op === 'not' ? 'not ' : '-'}${show(node.arg)}`;
    case 'bin':
      return `${show(node.left)} ${node.op} ${show(node.right)}`;
    case 'test':
      return `${show(node.value)} is ${node.negated ? 'not ' : ''}${node.name}`;
    case 'cond':
      return `${show(node.then)} if ${show(node.test)}${node.else ? ` else ${show(node.else)}` : ''}`;
    case 'list':
      return `[${node.items.map(show).join(', ')}]`;
    case 'dict':
      return `{${node.entries.map(([k, v]) => `${show(k)}: ${show(v)}`).join(', ')}}`;
  }
}
