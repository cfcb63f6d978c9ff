/** The failure type of a subscription the provider no longer has; import-free, so workflows can use it. */
export const SUBSCRIPTION_GONE_TYPE = 'SubscriptionGone';
