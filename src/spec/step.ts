/**
 * `incremental.step`: a window length ("7d", "12h", "30m" or seconds), or one whose number comes from
 * the connection's config with a default for when it has none (`{config.batch_days|default:31}d`).
 * Pure: the forms, and the length for one connection.
 */

/** A fixed length, or a length whose number is a config field's. */
export const STEP_TEXT = /^(?:\d+|\{config\.[A-Za-z_][A-Za-z0-9_]*(?:\|default:[1-9]\d*)?\})[smhd]$/;

/** The config field, default and unit of a step taken from config. */
export const CONFIG_STEP = /^\{config\.([A-Za-z_][A-Za-z0-9_]*)(?:\|default:([1-9]\d*))?\}([smhd])$/;

/** A config value that cannot be a step: a person must fix the connection. */
export class StepValueError extends Error {
  override name = 'StepValueError';
}

/**
 * A step for one connection: a fixed step as it is; a config step as "<n><unit>" from the config value
 * (a positive whole number, or its text), else the default. The value is never quoted in errors.
 */
export function resolveStep(
  step: number | string | undefined,
  config: Readonly<Record<string, unknown>>,
  where: string,
): number | string | undefined {
  if (typeof step !== 'string') return step;
  const m = CONFIG_STEP.exec(step);
  if (!m) return step;
  const [, field, fallback, unit] = m;
  const value = config[field!];
  if (value === undefined || value === null || value === '') {
    if (fallback === undefined)
      throw new StepValueError(`${where}: incremental.step: config "${field}" has no value and no default`);
    return `${fallback}${unit}`;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n <= 0)
    throw new StepValueError(`${where}: incremental.step: config "${field}" is not a positive whole number`);
  return `${n}${unit}`;
}
