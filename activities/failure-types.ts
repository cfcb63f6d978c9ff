/**
 * Every Temporal failure `type` our activities raise, and which of them retrying cannot help. Workflows
 * import this module for their retry policies' `nonRetryableErrorTypes`, so it imports nothing but
 * src/http/errors.ts and src/sync/export-poll.ts, themselves import-free (no Node built-ins reach the workflow sandbox).
 */
import { ERROR_KINDS, FAILURE_TYPE, RETRYABLE } from '../src/http/errors.js';
import { EXPORT_FAILURE } from '../src/sync/export-poll.js';

/** Failures raised by the activities themselves rather than by a provider call. */
export const ACTIVITY_FAILURE = {
  /** The spec's pagination cannot go on (a cursor that repeats, a page past the limit). */
  pagination: 'PaginationError',
  /** A missing connection, secret or encryption key, or a bad path value: a person must fix it. */
  configuration: 'ConfigurationError',
  /** The run row the workflow drives does not exist. */
  runNotFound: 'RunNotFound',
} as const;

/**
 * Failure types that end an activity at its first attempt: the provider kinds that are not retryable
 * and every activity failure. Derived, so a new kind or failure cannot be left out of a workflow's list.
 */
export const NON_RETRYABLE_TYPES: readonly string[] = [
  ...ERROR_KINDS.filter((kind) => !RETRYABLE[kind]).map((kind) => FAILURE_TYPE[kind]),
  ...Object.values(ACTIVITY_FAILURE),
  ...Object.values(EXPORT_FAILURE),
];
