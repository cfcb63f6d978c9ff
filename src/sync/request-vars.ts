/**
 * What request templates of a resource can name (`{cursor}`, `{since}`, `{window.start}`, `{config.x}`,
 * `{parent.x}`, an export's `{job.id}`), and the high-water mark as a query parameter expects it.
 */
import type { PaginationState } from '../pagination/paginate.js';
import type { TemplateVars } from '../http/request-template.js';
import type { Window } from './windows.js';

/** A high-water mark as the incremental `param` expects it. */
export function sinceParam(iso: string, format: 'iso' | 'unix' | 'unix-ms'): string {
  const ms = Date.parse(iso);
  if (format === 'unix') return String(Math.floor(ms / 1000));
  if (format === 'unix-ms') return String(ms);
  return iso;
}

/** What request templates can use for this page. */
export function templateVars(
  state: PaginationState,
  window: Window | null,
  since: string | null,
  config: Readonly<Record<string, unknown>>,
  parent: Readonly<Record<string, string>>,
  job?: { id: string },
): TemplateVars {
  const paging = state.vars ?? {};
  return (name) => {
    switch (name) {
      case 'cursor':
        return paging.cursor;
      case 'page':
        return paging.page;
      case 'offset':
        return paging.offset;
      case 'limit':
        return paging.limit;
      case 'since':
        return window ? window.start : (since ?? undefined);
      case 'window.start':
        return window?.start;
      case 'window.end':
        return window?.end;
      case 'job.id':
        return job?.id;
    }
    if (name.startsWith('config.')) {
      const v = config[name.slice('config.'.length)];
      // A list stays a list, for `join:`; it is placed as JSON text like any object.
      if (v === undefined || v === null) return undefined;
      return typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v;
    }
    if (name.startsWith('parent.')) return parent[name.slice('parent.'.length)];
    return undefined;
  };
}
