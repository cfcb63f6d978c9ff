/** Dev-server settings for tests: history limits low enough that continue-as-new paths really run. */
export const TEST_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'limit.historyCount.suggestContinueAsNew': 200,
};
