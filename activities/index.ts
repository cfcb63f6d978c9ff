/**
 * All activities, built from their dependencies so tests can pass real or fake ones.
 * Workflows see only the type: proxyActivities<Activities>().
 */
import type { Logger } from '../src/log.js';
import type { IntegrationSpec } from '../src/spec/schema.js';
import type { Db } from '../src/store/db.js';
import type { SecretBox } from '../src/store/secret-box.js';
import type { OpenPageSource } from '../src/sync/page-source.js';
import { createSpecPageSources } from '../src/sync/spec-page-source.js';
import { createSyncActivities } from './sync.js';

export interface ActivityDeps {
  db: Db;
  specs: ReadonlyMap<string, IntegrationSpec>;
  secretBox: SecretBox | undefined;
  /** For `{ env: NAME }` secret references: the worker's environment, passed in by the entry point. */
  env: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  /** Defaults to the spec-driven page sources; tests may pass their own. */
  openPageSource?: OpenPageSource;
}

export function createActivities(deps: ActivityDeps) {
  const openPageSource = deps.openPageSource ?? createSpecPageSources(deps);
  return {
    ...createSyncActivities({ db: deps.db, specs: deps.specs, openPageSource }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
