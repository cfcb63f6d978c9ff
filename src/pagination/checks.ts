/** Checks of a pagination section that zod's shapes cannot say; each names the path of the bad input. */
import type { PaginationConfig, StopRule } from './schema.js';

export type Report = (path: (string | number)[], message: string) => void;

const TESTS = ['equals', 'equalsPath', 'absent', 'lacks'] as const;

/** Capture groups of a pattern, or the reason it is not a regular expression. */
function groupsOf(pattern: string): number | string {
  try {
    // An alternative that matches the empty text shows how many groups the pattern has.
    return new RegExp(`${pattern}|`).exec('')!.length - 1;
  } catch (error) {
    return (error as Error).message;
  }
}

function checkStopRule(rule: StopRule, report: (field: string, message: string) => void): void {
  const sources = [rule.path, rule.header].filter((v) => v !== undefined).length;
  if (sources !== 1)
    report('path', sources === 0 ? 'give path (a body value) or header' : 'give path or header, not both');
  const tests = TESTS.filter((t) => t in rule && rule[t] !== undefined);
  if (tests.length !== 1)
    report(
      'equals',
      tests.length === 0
        ? 'give one test: equals, equalsPath, absent or lacks'
        : `give one test, not ${tests.join(' and ')}`,
    );
  if (rule.header !== undefined && rule.equalsPath !== undefined)
    report('equalsPath', 'a header is compared with equals, absent or lacks');
  if (
    rule.header !== undefined &&
    'equals' in rule &&
    typeof rule.equals !== 'string' &&
    rule.equals !== undefined
  )
    report('equals', 'a header is text: compare it with a string');
}

export function checkPagination(p: PaginationConfig, report: Report): void {
  (p.stopWhen ?? []).forEach((rule, i) =>
    checkStopRule(rule, (field, message) => report(['stopWhen', i, field], message)),
  );
  if (p.type === 'cursor' && p.cursorPattern !== undefined) {
    const groups = groupsOf(p.cursorPattern);
    if (typeof groups === 'string') report(['cursorPattern'], `not a regular expression: ${groups}`);
    else if (groups < 1) report(['cursorPattern'], 'needs a capture group: the cursor is what it captures');
  }
  if (p.type === 'next-url') {
    const given = [p.nextUrlPath, p.nextUrlRecordPath, p.nextUrlHeader].filter((v) => v !== undefined).length;
    if (given !== 1)
      report(
        ['nextUrlPath'],
        given === 0
          ? 'required when type is "next-url" (or give nextUrlRecordPath or nextUrlHeader)'
          : 'give one of nextUrlPath, nextUrlRecordPath or nextUrlHeader',
      );
  }
}
