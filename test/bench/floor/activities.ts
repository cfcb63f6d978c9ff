/** The floor workflow's activity: does nothing, so only Temporal's per-activity cost is left. */
export function createFloorActivities() {
  return {
    async noop(): Promise<void> {},
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
