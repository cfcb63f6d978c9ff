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

export const SEARCH_ATTRIBUTES = [SyncIntegration, SyncConnection, SyncResource, SyncKind] as const;
