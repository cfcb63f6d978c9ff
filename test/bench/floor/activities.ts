/** The floor workflow's activity: does nothing, so only Temporal's per-activity cost is left. */
export function createFloorActivities() {
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- an activity returns a promise
    async noop(): Promise<void> {},
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
