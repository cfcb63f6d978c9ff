// The worker bundles this file: every workflow is exported from here.
export { syncResource } from './sync-resource.js';
export { syncChildren } from './sync-children.js';
export { webhookEntity } from './webhook-entity.js';
export { scheduledSync } from './scheduled-sync.js';
export { notifyOperator } from './notify-operator.js';
export { webhookSubscription } from './webhook-subscription.js';
