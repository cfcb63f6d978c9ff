/** Receiver and dispatcher together: what `syncwright webhooks serve`, `up` and the demo run. */
import type { Client } from '@temporalio/client';
import type { EngineDeps } from '../sync/deps.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { startWebhookReceiver, webhookPath, type RunningReceiver } from '../webhooks/receiver.js';

export interface WebhookServiceOptions extends EngineDeps {
  /** Connects to Temporal; may fail (the dispatcher retries), so the receiver runs through outages. */
  connect: () => Promise<Client>;
  taskQueue: string;
  host?: string;
  port?: number;
}

export interface WebhookService {
  readonly receiver: RunningReceiver;
  readonly dispatcher: WebhookDispatcher;
  /** POST URLs per integration (append the connection id). */
  readonly routes: { integration: string; url: string }[];
  close(): Promise<void>;
}

export async function startWebhookService(options: WebhookServiceOptions): Promise<WebhookService> {
  const dispatcher = new WebhookDispatcher({
    db: options.db,
    connect: options.connect,
    taskQueue: options.taskQueue,
    log: options.log,
  });
  const receiver = await startWebhookReceiver({
    db: options.db,
    specs: options.specs,
    secretBox: options.secretBox,
    env: options.env,
    log: options.log,
    onAccepted: () => dispatcher.nudge(),
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  dispatcher.start();
  const routes = [...options.specs.values()]
    .filter((s) => s.webhooks)
    .map((s) => ({ integration: s.id, url: `${receiver.url}${webhookPath(s)}/<connection>` }));
  return {
    receiver,
    dispatcher,
    routes,
    close: async () => {
      await receiver.close();
      await dispatcher.stop();
    },
  };
}
