/**
 * What crosses the workflow boundary for a sync: ids, a source description and counts — never records,
 * never secrets. Pure types, shared by workflows, activities and clients.
 */

/** Where a resource's records come from. The seed of the spec-driven source (spec + connection ids). */
export interface ResourceSource {
  /** Absolute URL of the JSON page. */
  url: string;
  /** Dot path to the array of records in the response body; empty means the body itself. */
  recordsPath: string;
  /** Field of each record that identifies it. */
  primaryKey: string;
}

export interface SyncInput {
  integration: string;
  connection: string;
  resource: string;
  source: ResourceSource;
}

export interface PageCounts {
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface SyncResult extends PageCounts {
  pages: number;
}

/** `sync:<integration>:<connection>:<resource>`: one live run per resource of a connection. */
export function syncWorkflowId(input: Pick<SyncInput, 'integration' | 'connection' | 'resource'>): string {
  return `sync:${input.integration}:${input.connection}:${input.resource}`;
}
