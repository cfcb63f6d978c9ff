/**
 * What an import could not carry over. Every issue names the manifest path of the component, what it
 * is, and what its loss means for the imported stream:
 *   data         — the stream would miss or misreport records or fields (or is left out entirely)
 *   incremental  — full syncs stay exact, but incremental behaviour is lost (the stream re-reads all)
 *   differs      — imported with a difference that loses nothing (extra fields kept, a setting approximated)
 *   note         — not imported and without effect on the data (e.g. a schema, a rate-limit policy)
 */
export type Effect = 'data' | 'incremental' | 'differs' | 'note';

export interface ImportIssue {
  /** Dot path in the manifest, e.g. `definitions.streams.users.retriever.paginator.pagination_strategy`. */
  path: string;
  /** The component's type (or field) that was not translated. */
  component: string;
  effect: Effect;
  message: string;
  /** The stream the issue belongs to, when it belongs to one. */
  stream?: string | undefined;
}

/** Effects that make `import airbyte` exit non-zero: a stream would lose data or incremental behaviour. */
export const BLOCKING: ReadonlySet<Effect> = new Set(['data', 'incremental']);

/** Whether an import carried everything over that affects what is synced. */
export function importedFully(issues: readonly ImportIssue[]): boolean {
  return !issues.some((i) => i.effect !== 'note');
}

/** Collects issues as the translators find them. */
export class Report {
  readonly issues: ImportIssue[] = [];
  add(path: string, component: string, effect: Effect, message: string, stream?: string): void {
    if (this.issues.some((i) => i.path === path && i.message === message && i.stream === stream)) return;
    this.issues.push({ path, component, effect, message, ...(stream !== undefined ? { stream } : {}) });
  }
}

/** The report as lines for a terminal, grouped by effect, most serious first. */
export function formatReport(issues: readonly ImportIssue[]): string[] {
  const order: Effect[] = ['data', 'incremental', 'differs', 'note'];
  const titles: Record<Effect, string> = {
    data: 'would lose data',
    incremental: 'would lose incremental behaviour',
    differs: 'imported with a difference',
    note: 'not imported (no effect on the data)',
  };
  const lines: string[] = [];
  for (const effect of order) {
    const group = issues.filter((i) => i.effect === effect);
    if (group.length === 0) continue;
    lines.push(`${titles[effect]} (${group.length}):`);
    for (const i of group) {
      const stream = i.stream !== undefined && !i.path.includes(i.stream) ? ` (stream ${i.stream})` : '';
      lines.push(`  ${i.path}${stream}: ${i.component}: ${i.message}`);
    }
  }
  return lines;
}
