/**
 * Cross-field checks of an export resource (export-schema.ts): what a bulk export cannot combine with,
 * and the placeholders of its step templates. Each problem names its spec path.
 */
import type { z } from 'zod';
import type { ExportRequest, ExportSpec } from './export-schema.js';
import { templateProblems, type TemplateScope } from './template-checks.js';

interface ExportResourceLike {
  recordsPath: string;
  single: boolean | 'auto';
  decoder?: unknown;
  pagination: { type: string };
  parent?: unknown;
  incremental?: { param?: string | undefined; clientSide?: boolean; step?: unknown } | undefined;
}

export function checkExport(
  spec: { connectionConfig: Record<string, unknown> },
  name: string,
  resource: ExportResourceLike,
  exp: ExportSpec,
  ctx: z.RefinementCtx,
): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path: ['resources', name, ...path], message });
  if (resource.pagination.type !== 'none')
    issue(
      ['pagination'],
      'an export is read from its result files: leave pagination out (see export.results)',
    );
  if (resource.decoder !== undefined)
    issue(['decoder'], 'an export decodes its files as export.download says: leave decoder out');
  if (resource.recordsPath !== '')
    issue(['recordsPath'], 'an export file is the records themselves: leave recordsPath out');
  if (resource.single) issue(['single'], 'an export is a list of records: leave single out');
  if (resource.parent !== undefined) issue(['parent'], 'an export resource cannot be a child resource yet');
  const inc = resource.incremental;
  if (inc?.step !== undefined)
    issue(['incremental', 'step'], 'an export job covers the whole range at once: remove step');

  const scope = (job: boolean): TemplateScope => ({
    connectionConfig: spec.connectionConfig,
    incremental: inc !== undefined,
    job,
  });
  const times = { used: false };
  const checkRequest = (path: (string | number)[], req: ExportRequest, job: boolean) => {
    if (req.graphql && req.body !== undefined) issue([...path, 'graphql'], 'give body or graphql, not both');
    const s = scope(job);
    for (const p of templateProblems(req.path, { ...s, bareIsConfig: true }, times))
      issue([...path, 'path'], p);
    const places: [string, unknown][] = [
      ['query', req.query],
      ['headers', req.headers],
      ['body', req.body],
    ];
    if (req.graphql) places.push(['graphql', req.graphql.variables]);
    for (const [where, value] of places)
      for (const p of templateProblems(value, s, times))
        issue([...path, where, ...(where === 'graphql' ? ['variables'] : [])], p);
  };
  checkRequest(['export', 'submit', 'request'], exp.submit.request, false);
  const submitUsesWindow = times.used;
  checkRequest(['export', 'status', 'request'], exp.status.request, true);
  if (exp.results.pages)
    checkRequest(['export', 'results', 'pages', 'request'], exp.results.pages.request, true);
  if (exp.cancel) checkRequest(['export', 'cancel', 'request'], exp.cancel.request, true);
  if (inc && inc.param === undefined && !submitUsesWindow && !inc.clientSide)
    issue(
      ['incremental', 'param'],
      'required: the query parameter of the high-water mark in the submit request, unless the submit request uses {since} or {window.start}, or clientSide: true',
    );
  const { interval } = exp.status;
  if (interval.minSeconds > interval.maxSeconds)
    issue(['export', 'status', 'interval', 'minSeconds'], 'must not be more than maxSeconds');
  const seen = new Map<string, string>();
  for (const [ours, names] of Object.entries(exp.status.states))
    for (const n of names) {
      const other = seen.get(n);
      if (other !== undefined)
        issue(
          ['export', 'status', 'states', ours],
          `"${n}" is also a ${other} state: a state maps to one of ours`,
        );
      seen.set(n, ours);
    }
}
