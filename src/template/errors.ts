/** A template that cannot be read or filled (a malformed choice, an unknown filter, a filter's failure). */
export class TemplateError extends Error {
  override name = 'TemplateError';
}
