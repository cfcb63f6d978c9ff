import type { z } from 'zod';

/** A spec that cannot be used; `problems` lists every mistake as `path: message`. */
export class SpecError extends Error {
  override name = 'SpecError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
    );
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

const SECRET_FIELDS = new Set([
  'token',
  'value',
  'username',
  'password',
  'clientId',
  'clientSecret',
  'refreshToken',
]);
const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/** What a union (a value of one of several shapes) expects at `path`, in the spec's own words. */
function unionExpectation(
  path: readonly PropertyKey[],
  branches: readonly (readonly z.core.$ZodIssue[])[],
): string {
  const last = path.at(-1);
  const parent = path.at(-2);
  if (last === 'primaryKey') return 'a field name or a list of field names';
  if ((path[0] === 'auth' && typeof last === 'string' && SECRET_FIELDS.has(last)) || parent === 'secrets')
    return 'the name of a declared secret, or { env: NAME } for an environment variable';
  if (path[0] === 'webhooks' && (last === 'eventId' || last === 'eventType' || last === 'order'))
    return '{ header: name }, { path: "dot.path" } or a template like "{header.x-github-event}.{body.action?}"';
  if (parent === 'fields') return 'a source path, or a rule { from, type, const, default, format }';
  if (parent === 'query') return 'a string, a number or true/false';
  const kinds = new Set<string>();
  for (const branch of branches)
    for (const i of branch)
      if (i.path.length === 0 && i.code === 'invalid_type')
        kinds.add(ARTICLE[i.expected] ?? String(i.expected));
  return kinds.size ? [...kinds].join(' or ') : 'a value of another shape';
}

/** `resources.<name>.parent`, or one item of its `product`. */
function isParentPath(path: readonly PropertyKey[]): boolean {
  return (
    path[0] === 'resources' &&
    (path.at(-1) === 'parent' || (path.at(-3) === 'parent' && path.at(-2) === 'product'))
  );
}

/**
 * The one branch of a union of objects whose fields all fit (no unknown field, none missing, nothing
 * wrong with the value as a whole), when exactly one does: the shape the author meant.
 */
function fittingBranch(
  branches: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | undefined {
  const fits = branches.filter(
    (b) =>
      b.length > 0 &&
      b.every(
        (i) =>
          i.path.length > 0 &&
          i.code !== 'unrecognized_keys' &&
          !(i.code === 'invalid_type' && /received undefined/.test(i.message)),
      ),
  );
  return fits.length === 1 ? fits[0] : undefined;
}

/** zod issues as `path: message` lines, in words a spec author can act on. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const where = pathText(issue.path);
    let message = issue.message;
    if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
      message = `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
    } else if (issue.code === 'invalid_union' && isParentPath(issue.path) && fittingBranch(issue.errors)) {
      // A parent whose fields name its form (resource and params): that form's own problems are the
      // author's (`parent.changedOnly: expected boolean`), not "expected a value of another shape".
      const prefix = issue.path;
      lines.push(
        ...formatIssues(fittingBranch(issue.errors)!.map((i) => ({ ...i, path: [...prefix, ...i.path] }))),
      );
      continue;
    } else if (issue.code === 'invalid_union') {
      const missing =
        issue.errors.length > 0 &&
        issue.errors.every((b) => b.some((i) => i.path.length === 0 && /received undefined/.test(i.message)));
      const expected = unionExpectation(issue.path, issue.errors);
      message = missing ? `required: ${expected}` : `expected ${expected}`;
    } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      message = 'required';
    } else if (issue.code === 'invalid_type') {
      message = issue.message.replace(/^Invalid input: /, '');
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${where ? `${where}.` : ''}${key}: unknown field`);
      continue;
    }
    // Never a bare "Invalid input": say at least which check failed.
    if (/^Invalid input$/i.test(message)) message = `not accepted here (${issue.code.replaceAll('_', ' ')})`;
    lines.push(`${where || '(top level)'}: ${message}`);
  }
  return lines;
}
