/** A run's incremental bounds (startDate, endDate) resolved from the connection's config and the run's clock. */
import { PathValueError } from '../http/path-template.js';
import { BoundValueError, resolveBound, type DateBound } from '../spec/date-bound.js';
import { resolveStep, StepValueError } from '../spec/step.js';

/**
 * A connection config value that cannot be used as a start date (or a step): a person must fix the
 * connection.
 */
export class StartDateValueError extends PathValueError {
  override name = 'StartDateValueError';
}

/**
 * The incremental section with its startDate and endDate resolved for one run: templates filled from the
 * connection's config and the run's start time (`{now}`), a list's first alternative with a value taken;
 * a bound without a value is left out (no startDate reads from the provider's beginning, no endDate
 * ends at the run). A step taken from config is resolved too.
 */
export function withConnectionStart<
  T extends {
    startDate?: DateBound | undefined;
    endDate?: DateBound | undefined;
    step?: number | string | undefined;
  },
>(
  inc: T | undefined,
  config: Readonly<Record<string, unknown>>,
  where: string,
  nowMs: number = Date.now(),
): (Omit<T, 'startDate' | 'endDate'> & { startDate?: string; endDate?: string }) | undefined {
  if (inc === undefined) return undefined;
  const { startDate, endDate, ...rest } = inc;
  const resolved = (bound: DateBound | undefined, name: string) => {
    try {
      return resolveBound(bound, config, nowMs, `${where}: incremental.${name}`);
    } catch (error) {
      if (error instanceof BoundValueError) throw new StartDateValueError(error.message);
      throw error;
    }
  };
  const start = resolved(startDate, 'startDate');
  const end = resolved(endDate, 'endDate');
  let step: number | string | undefined;
  try {
    step = resolveStep(inc.step, config, where);
  } catch (error) {
    if (error instanceof StepValueError) throw new StartDateValueError(error.message);
    throw error;
  }
  return {
    ...rest,
    ...(step !== undefined ? { step } : {}),
    ...(start !== undefined ? { startDate: start } : {}),
    ...(end !== undefined ? { endDate: end } : {}),
  };
}
