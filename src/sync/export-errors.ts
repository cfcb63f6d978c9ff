/**
 * Failures of an export job, each with the Temporal failure type workflows match on. None is retried
 * as such: the workflow resubmits an expired job itself; the others need a person or a new run.
 */
import { EXPORT_FAILURE } from './export-poll.js';

type ExportFailureType = (typeof EXPORT_FAILURE)[keyof typeof EXPORT_FAILURE];

export class ExportError extends Error {
  override name = 'ExportError';
  constructor(
    readonly failureType: ExportFailureType,
    message: string,
  ) {
    super(message);
  }
}

/** The records downloaded are not the records the provider said the job produced (or a page said it holds). */
export class ExportIncompleteError extends ExportError {
  override name = 'ExportIncompleteError';
  constructor(message: string) {
    super(EXPORT_FAILURE.incomplete, message);
  }
}

/** The job or its results are gone at the provider: the workflow submits the job again. */
export class ExportExpiredError extends ExportError {
  override name = 'ExportExpiredError';
  constructor(message: string) {
    super(EXPORT_FAILURE.expired, message);
  }
}

/** The provider refused the job at submit (e.g. GraphQL userErrors): the spec or the query is wrong. */
export class ExportRefusedError extends ExportError {
  override name = 'ExportRefusedError';
  constructor(message: string) {
    super(EXPORT_FAILURE.refused, message);
  }
}
