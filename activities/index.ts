/**
 * All activities, built from their dependencies so tests can pass real or fake ones.
 * Workflows see only the type: proxyActivities<Activities>().
 */
import { createSyncPage, type SyncPageDeps } from './sync-page.js';

export type ActivityDeps = SyncPageDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    syncPage: createSyncPage(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
