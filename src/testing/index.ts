/**
 * `syncwright/testing`: the public testing kit for integration authors — a real stack for the specs
 * under test, the provider simulator, an OAuth2 server, and webhook signers for every supported scheme.
 */
export { createTestStack, type TestStack, type TestStackOptions } from './test-stack.js';
export {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
  type SimFault,
  type SimPagination,
  type SimRecord,
  type SimulatorOptions,
} from './simulator.js';
export {
  postWebhook,
  signWebhook,
  verifySignature,
  type SignatureConfig,
  type WebhookDelivery,
} from './webhooks.js';
export {
  startOAuthServer,
  type AuthorizeRequest,
  type OAuthServer,
  type OAuthServerOptions,
} from './oauth-server.js';
export {
  catalogItems,
  JIRA_PROJECT,
  NOTION_DATA_SOURCE,
  SALESFORCE_CLIENT,
  SALESFORCE_VERSION,
  SLACK_CHANNEL,
  slackTs,
  startGitHubGraphqlSimulator,
  startGitHubRestSimulator,
  startHubSpotSimulator,
  startJiraSimulator,
  startNotionSimulator,
  startSalesforceSimulator,
  startSlackSimulator,
  startStripeSimulator,
  startZendeskSimulator,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  startSalesforceBulkSimulator,
  SALESFORCE_BULK_TOKEN,
  SALESFORCE_BULK_VERSION,
  startShopifyBulkSimulator,
  SHOPIFY_BULK_TOKEN,
  SHOPIFY_BULK_VERSION,
  type SalesforceBulkSimulator,
  type SalesforceBulkOptions,
  type ShopifyBulkSimulator,
  type ShopifyBulkOptions,
  type BulkFaults,
} from './providers/index.js';
export { defineIntegration } from '../spec/define.js';
export { loadSpec, loadSpecs } from '../spec/load.js';
export {
  startSubscriptionSimulator,
  type SimSubscription,
  type SubscriptionSimulator,
} from './subscription-simulator.js';
