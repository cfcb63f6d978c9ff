/**
 * The webhook inbox in Postgres lives in three modules: the receiver's writer (inbox-writer.ts), the
 * dispatcher's queue (dispatch-queue.ts), and what operators see and replay (inbox-queries.ts).
 * This file only forwards the queue to src/temporal/webhook-dispatcher.ts (left untouched by the
 * change that split the inbox): point that import at dispatch-queue.js and delete this file.
 */
export { markDispatched, pendingEvents, type PendingEvent } from './dispatch-queue.js';
