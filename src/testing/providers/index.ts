/**
 * The catalog's provider simulators: one real HTTP server per provider of integrations/, answering in
 * that provider's documented shapes (pagination, incremental filter, errors, rate-limit headers) over a
 * small generated dataset. `fail('rate-limit' | 'fatal')` makes the next request answer the provider's
 * documented rate limit or fatal error.
 */
export {
  catalogItems,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
} from './kit.js';
export { startStripeSimulator } from './stripe.js';
export { startGitHubRestSimulator } from './github-rest.js';
export { startGitHubGraphqlSimulator } from './github-graphql.js';
export { startNotionSimulator, NOTION_DATA_SOURCE } from './notion.js';
export { startHubSpotSimulator } from './hubspot.js';
export { startZendeskSimulator } from './zendesk.js';
export { startJiraSimulator, JIRA_PROJECT } from './jira.js';
export { startSlackSimulator, SLACK_CHANNEL, slackTs } from './slack.js';
export { startSalesforceSimulator, SALESFORCE_CLIENT, SALESFORCE_VERSION } from './salesforce.js';
export {
  startSalesforceBulkSimulator,
  SALESFORCE_BULK_TOKEN,
  SALESFORCE_BULK_VERSION,
  type SalesforceBulkSimulator,
  type SalesforceBulkOptions,
} from './salesforce-bulk.js';
export {
  startShopifyBulkSimulator,
  SHOPIFY_BULK_TOKEN,
  SHOPIFY_BULK_VERSION,
  type ShopifyBulkSimulator,
  type ShopifyBulkOptions,
} from './shopify-bulk.js';
export type { BulkFaults } from './bulk-kit.js';
