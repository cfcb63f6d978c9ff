/**
 * All activities, built from their dependencies so tests can pass real or fake ones.
 * Workflows see only the type: proxyActivities<Activities>().
 */
import type { EngineDeps } from '../src/sync/deps.js';
import type { OpenPageSource } from '../src/sync/page-source.js';
import { createConnectionClients } from '../src/sync/connection-client.js';
import { createSpecPageSources } from '../src/sync/spec-page-source.js';
import { createSyncActivities } from './sync.js';
import { createExportActivities } from './export.js';
import { createSubscriptionActivities } from './subscriptions.js';
import { createWebhookActivities } from './webhooks.js';
import { createNotifyActivities } from './notify.js';
import type { NotifyTarget } from '../src/sync/notifications.js';

export interface ActivityDeps extends EngineDeps {
  /** Defaults to the spec-driven page sources; tests may pass their own. */
  openPageSource?: OpenPageSource;
  /** Where operator notifications go (SYNCWRIGHT_NOTIFY_URL/SECRET); none are sent without it. */
  notify?: NotifyTarget | undefined;
}

export function createActivities(deps: ActivityDeps) {
  // One client per connection (OAuth2 token cache) for syncs and webhook refetches alike.
  const openClient = createConnectionClients(deps);
  const openPageSource = deps.openPageSource ?? createSpecPageSources(deps, openClient);
  return {
    ...createSyncActivities({ db: deps.db, specs: deps.specs, openPageSource, notify: Boolean(deps.notify) }),
    ...createExportActivities({ db: deps.db, specs: deps.specs, openClient }),
    ...createNotifyActivities(deps.notify),
    ...createWebhookActivities({ db: deps.db, specs: deps.specs, openClient }),
    ...createSubscriptionActivities({
      db: deps.db,
      specs: deps.specs,
      secretBox: deps.secretBox,
      openClient,
      notify: Boolean(deps.notify),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
