/**
 * All activities, built from their dependencies so tests can pass real or fake ones.
 * Workflows see only the type: proxyActivities<Activities>().
 */
import { createSyncActivities, type SyncActivityDeps } from './sync.js';

export type ActivityDeps = SyncActivityDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
