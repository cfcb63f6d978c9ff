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

/** zod issues as `path: message` lines, in words a spec author can act on. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const where = pathText(issue.path);
    let message = issue.message;
    if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
      message = `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
    } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      message = 'required';
    } else if (issue.code === 'invalid_type') {
      message = issue.message.replace(/^Invalid input: /, '');
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${where ? `${where}.` : ''}${key}: unknown field`);
      continue;
    }
    lines.push(`${where || '(top level)'}: ${message}`);
  }
  return lines;
}
