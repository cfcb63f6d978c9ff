/**
 * Custom search attributes that make sync runs findable in the Temporal UI and by `syncwright runs`.
 * Pure definitions: imported by workflows, clients and the dev-server bootstrap alike.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SyncIntegration = defineSearchAttributeKey('SyncIntegration', SearchAttributeType.KEYWORD);
export const SyncConnection = defineSearchAttributeKey('SyncConnection', SearchAttributeType.KEYWORD);
export const SyncResource = defineSearchAttributeKey('SyncResource', SearchAttributeType.KEYWORD);
/** full, incremental or webhook. */
export const SyncKind = defineSearchAttributeKey('SyncKind', SearchAttributeType.KEYWORD);

/**
 * What a run waits on right now, if anything: `provider` plus the kind (`rate-limit`, `concurrency`,
 * `retry-after`), or `paused`. `SyncWaiting = "provider"` lists every run waiting on a provider.
 */
export const SyncWaiting = defineSearchAttributeKey('SyncWaiting', SearchAttributeType.KEYWORD_LIST);

export const SEARCH_ATTRIBUTES = [
  SyncIntegration,
  SyncConnection,
  SyncResource,
  SyncKind,
  SyncWaiting,
] as const;
