/**
 * Incremental windows: the range a run reads, from the high-water mark (less lookback) or the spec's
 * startDate, up to the spec's endDate or else now minus a lag, optionally sliced into steps that each
 * commit their own checkpoint.
 * Pure: the caller passes now. Bounds are ISO UTC strings so they checkpoint as they are shown.
 */
import { parsePatternTime } from '../template/parse-time.js';

export interface Window {
  start: string;
  end: string;
  /** The upper bound of the whole run, fixed when its first window was made (a resumed run keeps it). */
  until: string;
}

export interface WindowConfig {
  format: 'iso' | 'unix' | 'unix-ms';
  lookbackSeconds: number;
  startDate?: string | undefined;
  /** Where the range ends instead of the time of the run (resolved for the run: ISO text). */
  endDate?: string | undefined;
  step?: number | string | undefined;
  lagSeconds: number;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function stepMs(step: number | string): number {
  if (typeof step === 'number') return step * 1000;
  const unit = step.slice(-1) as keyof typeof UNIT_MS;
  return Number(step.slice(0, -1)) * UNIT_MS[unit];
}

/** A high-water mark as milliseconds: ISO text, or a number in the incremental `format`'s unit. */
export function cursorMs(value: string, format: WindowConfig['format']): number {
  const parsed = Date.parse(value);
  if (!Number.isNaN(parsed) && !/^\d+(\.\d+)?$/.test(value.trim())) return parsed;
  const n = Number(value);
  return format === 'unix' ? n * 1000 : format === 'unix-ms' ? n : n > 1e11 ? n : n * 1000;
}

/** A record's cursor value as milliseconds: read by cursorFormat when there is one (NaN when it does not match). */
export function recordCursorMs(
  value: string,
  inc: { format: WindowConfig['format']; cursorFormat?: string | undefined },
): number {
  if (inc.cursorFormat === undefined) return cursorMs(value, inc.format);
  return parsePatternTime(value, inc.cursorFormat) ?? Number.NaN;
}

/**
 * The high-water mark a record's cursor value stands for: the value itself, or with a cursorFormat its
 * time as ISO text (so marks compare as times); null when it does not match the pattern.
 */
export function highWaterOf(
  value: string,
  inc: { format: WindowConfig['format']; cursorFormat?: string | undefined },
): string | null {
  if (inc.cursorFormat === undefined) return value;
  const ms = parsePatternTime(value, inc.cursorFormat);
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** Where a run starts reading: the high-water mark less lookback, else startDate, else nothing. */
export function sinceOf(config: WindowConfig, highWater: string | null): string | null {
  if (highWater !== null)
    return new Date(cursorMs(highWater, config.format) - config.lookbackSeconds * 1000).toISOString();
  return config.startDate ? new Date(Date.parse(config.startDate)).toISOString() : null;
}

/** Whether the spec asks for windows (a start date, steps or a lag), rather than an open-ended since. */
export function usesWindows(config: WindowConfig): boolean {
  return (
    config.step !== undefined ||
    config.startDate !== undefined ||
    config.endDate !== undefined ||
    config.lagSeconds > 0
  );
}

function windowFrom(startMs: number, untilMs: number, step: WindowConfig['step']): Window {
  const endMs = step === undefined ? untilMs : Math.min(startMs + stepMs(step), untilMs);
  return {
    start: new Date(startMs).toISOString(),
    end: new Date(Math.max(endMs, startMs)).toISOString(),
    until: new Date(untilMs).toISOString(),
  };
}

/**
 * The run's upper bound: endDate when the spec gives one (it may lie ahead of now, as a provider's
 * scheduled items do), capped at now minus the lag when there is a lag; else now minus the lag.
 */
export function untilOf(config: WindowConfig, nowMs: number): number {
  const lagged = nowMs - config.lagSeconds * 1000;
  if (config.endDate === undefined) return lagged;
  const endMs = Date.parse(config.endDate);
  return config.lagSeconds > 0 ? Math.min(endMs, lagged) : endMs;
}

/**
 * The run's first window, or null when there is no start (a first full run without startDate). The
 * start may lie past the run's upper bound (an endDate behind the high-water mark): see `isPastEnd`.
 */
export function firstWindow(config: WindowConfig, since: string | null, nowMs: number): Window | null {
  if (since === null) return null;
  return windowFrom(Date.parse(since), untilOf(config, nowMs), config.step);
}

/** Whether a window starts after the run's upper bound: there is nothing to read. */
export function isPastEnd(w: Window): boolean {
  return Date.parse(w.start) > Date.parse(w.until);
}

/** The window after `w`, or null when `w` reached the run's upper bound. */
export function nextWindow(config: WindowConfig, w: Window): Window | null {
  const endMs = Date.parse(w.end);
  const untilMs = Date.parse(w.until);
  if (endMs >= untilMs) return null;
  return windowFrom(endMs, untilMs, config.step);
}
