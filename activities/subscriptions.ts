/**
 * Activities of the webhook subscription workflow: subscribe, renew and unsubscribe at the provider,
 * each sent with the connection's auth and rate limits, and the stored state kept with them.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ProviderError } from '../src/http/errors.js';
import { lookupSpec } from '../src/spec/registry.js';
import type { SubscriptionConfig, SubscriptionRequest } from '../src/spec/webhooks-schema.js';
import type { ConnectionClient, OpenConnectionClient } from '../src/sync/connection-client.js';
import type { EngineDeps } from '../src/sync/deps.js';
import {
  deleteSubscription,
  fillSubscriptionRequest,
  getSubscription,
  usesGeneratedSecret,
  readSubscriptionAnswer,
  recordRenewal,
  saveSubscription,
  SubscriptionAnswerError,
} from '../src/webhooks/subscriptions.js';
import { SUBSCRIPTION_GONE_TYPE as SUBSCRIPTION_GONE } from '../workflows/subscription-failure.js';
import { toFailure } from './failures.js';
import { startNotification } from './notify.js';
import { subscriptionLapsedEvent } from '../src/sync/notifications.js';

export interface SubscriptionTarget {
  integration: string;
  connection: string;
}

export interface SubscriptionState {
  subscriptionId: string;
  /** ISO 8601; null: the subscription does not expire. */
  expiresAt: string | null;
}

export interface SubscriptionActivityDeps extends Pick<EngineDeps, 'db' | 'specs' | 'secretBox'> {
  openClient: OpenConnectionClient;
  /** Whether operator notifications are configured (a lapse starts `notifyOperator`). */
  notify?: boolean;
}

export function createSubscriptionActivities({
  db,
  specs,
  secretBox,
  openClient,
  notify = false,
}: SubscriptionActivityDeps) {
  /**
   * Tells the operator that the stored subscription lapsed, through the durable `notifyOperator`
   * workflow; its id names the subscription, so a retried activity sends nothing twice.
   */
  async function notifyLapse(t: SubscriptionTarget, reason: 'expired' | 'gone'): Promise<void> {
    if (!notify) return;
    const stored = await getSubscription(db, t.integration, t.connection);
    if (!stored) return;
    const ctx = Context.current();
    await startNotification(
      ctx.client,
      ctx.info.taskQueue,
      subscriptionLapsedEvent(stored, reason, new Date()),
    );
  }

  function configOf(integration: string): SubscriptionConfig {
    const config = lookupSpec(specs, integration).webhooks?.subscription;
    if (!config)
      throw ApplicationFailure.nonRetryable(`${integration} declares no webhooks.subscription`, 'SpecError');
    return config;
  }

  async function send(
    t: SubscriptionTarget,
    step: 'subscribe' | 'renew' | 'unsubscribe',
    request: SubscriptionRequest,
    subscriptionId: string | undefined,
    config: SubscriptionConfig,
    secret?: string,
  ): Promise<unknown> {
    const client: ConnectionClient = await openClient(t.integration, t.connection);
    const expiry = new Date(Date.now() + config.lifetimeSeconds * 1000).toISOString();
    const filled = fillSubscriptionRequest(
      request,
      { config: client.config, subscriptionId, expiry, secret },
      `webhooks.subscription.${step}`,
    );
    const ctx = Context.current();
    const response = await client.request({
      url: client.urlFor(filled.path),
      method: filled.method,
      ...(filled.body !== undefined ? { body: filled.body } : {}),
      cost: 1,
      resource: `webhook ${step}`,
      signal: ctx.cancellationSignal,
      onWait: (ms, reason) => ctx.heartbeat({ waitingMs: ms, reason }),
    });
    return response.body;
  }

  const gone = (error: unknown) =>
    error instanceof ProviderError && (error.details.status === 404 || error.details.status === 410);

  const failure = (error: unknown) =>
    error instanceof SubscriptionAnswerError
      ? ApplicationFailure.nonRetryable(error.message, 'SubscriptionAnswer')
      : toFailure(error);

  return {
    /** Creates the subscription and stores its id, expiry and (sealed) secret. */
    async subscribeWebhook(t: SubscriptionTarget): Promise<SubscriptionState> {
      const config = configOf(t.integration);
      // Subscribing over a stored subscription past its expiry: it lapsed (renewed too late).
      const stored = await getSubscription(db, t.integration, t.connection);
      if (stored?.expiresAt && stored.expiresAt.getTime() <= Date.now()) await notifyLapse(t, 'expired');
      try {
        // Made here, in the activity: never in a workflow's history.
        const made = usesGeneratedSecret(config.subscribe)
          ? randomBytes(24).toString('base64url')
          : undefined;
        const body = await send(t, 'subscribe', config.subscribe, undefined, config, made);
        const answer = readSubscriptionAnswer(config, body, true);
        await saveSubscription(db, secretBox, {
          ...t,
          subscriptionId: answer.id!,
          expiresAt: answer.expiresAt,
          secret: answer.secret ?? made,
        });
        return { subscriptionId: answer.id!, expiresAt: answer.expiresAt };
      } catch (error) {
        throw failure(error);
      }
    },

    /** Extends the subscription; SubscriptionGone when the provider no longer has it. */
    async renewWebhookSubscription(
      t: SubscriptionTarget & { subscriptionId: string },
    ): Promise<SubscriptionState> {
      const config = configOf(t.integration);
      if (!config.renew) return { subscriptionId: t.subscriptionId, expiresAt: null };
      try {
        const body = await send(t, 'renew', config.renew, t.subscriptionId, config);
        const answer = readSubscriptionAnswer(config, body, false);
        await recordRenewal(db, t.integration, t.connection, answer.expiresAt);
        return { subscriptionId: t.subscriptionId, expiresAt: answer.expiresAt };
      } catch (error) {
        if (gone(error)) {
          await notifyLapse(t, 'gone');
          throw ApplicationFailure.create({
            type: SUBSCRIPTION_GONE,
            message: `subscription ${t.subscriptionId} of ${t.integration}/${t.connection} is gone at the provider`,
            nonRetryable: true,
          });
        }
        throw failure(error);
      }
    },

    /** Removes the subscription at the provider (already gone is fine) and forgets it. */
    async unsubscribeWebhook(t: SubscriptionTarget & { subscriptionId: string }): Promise<void> {
      const config = configOf(t.integration);
      try {
        if (config.unsubscribe) await send(t, 'unsubscribe', config.unsubscribe, t.subscriptionId, config);
      } catch (error) {
        if (!gone(error)) throw failure(error);
      }
      await deleteSubscription(db, t.integration, t.connection);
    },
  };
}
