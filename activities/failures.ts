import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE_TYPE, ProviderError } from '../src/http/errors.js';
import { ACTIVITY_FAILURE } from './failure-types.js';
import { MissingSecretError } from '../src/http/auth/apply.js';
import { AuthOptionError } from '../src/http/auth/select.js';
import { PathValueError } from '../src/http/path-template.js';
import { OrderKindMismatchError } from '../src/order/order-key.js';
import { PaginationError } from '../src/pagination/paginate.js';
import { SpecError } from '../src/spec/errors.js';
import { ExportError } from '../src/sync/export-errors.js';
import { ConnectionNotFoundError } from '../src/store/connections.js';
import { EncryptionKeyError } from '../src/store/secret-box.js';

/**
 * Turns our typed errors into Temporal failures carrying the retry decision; anything else (a bug, a
 * lost database connection) stays an ordinary error and is retried by the activity's policy.
 */
export function toFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof ProviderError) {
    return ApplicationFailure.create({
      type: error.failureType,
      message: error.message,
      nonRetryable: !error.retryable,
      ...(error.details.retryAfterMs !== undefined ? { nextRetryDelay: error.details.retryAfterMs } : {}),
    });
  }
  if (error instanceof ExportError) {
    return ApplicationFailure.create({ type: error.failureType, message: error.message, nonRetryable: true });
  }
  if (error instanceof SpecError) {
    return ApplicationFailure.create({ type: FAILURE_TYPE.spec, message: error.message, nonRetryable: true });
  }
  if (error instanceof PaginationError) {
    return ApplicationFailure.create({
      type: ACTIVITY_FAILURE.pagination,
      message: error.message,
      nonRetryable: true,
    });
  }
  // Incremental cursor values of different kinds (a number and a timestamp): the data, not a glitch.
  if (error instanceof OrderKindMismatchError) {
    return ApplicationFailure.create({
      type: 'OrderKindMismatch',
      message: error.message,
      nonRetryable: true,
    });
  }
  // Fixing these takes a person (add the connection, set the secret or key): retrying cannot help.
  if (
    error instanceof MissingSecretError ||
    error instanceof AuthOptionError ||
    error instanceof PathValueError ||
    error instanceof ConnectionNotFoundError ||
    error instanceof EncryptionKeyError
  ) {
    return ApplicationFailure.create({
      type: ACTIVITY_FAILURE.configuration,
      message: error.message,
      nonRetryable: true,
    });
  }
  return error;
}
