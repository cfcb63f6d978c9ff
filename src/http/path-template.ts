/**
 * Filling `{placeholder}`s of a path template. Every value becomes exactly one path segment: it is
 * percent-encoded (so "/", "?", "#" and "%" cannot change the URL's shape), and values that a URL parser
 * or a server would read as a dot segment or an empty segment are refused, since `/projects/{p}/items`
 * with p = ".." would otherwise reach `/items`.
 */
import {
  fillEach,
  TemplateError,
  textOf,
  type FillOptions,
  type TemplateVars,
} from '../template/template.js';

export class PathValueError extends Error {
  override name = 'PathValueError';
}

/** Decodes percent-escapes repeatedly (servers and proxies may decode more than once). */
function decodedForms(value: string): string[] {
  const forms = [value];
  let current = value;
  for (let i = 0; i < 4 && current.includes('%'); i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break;
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}

/** A value as one encoded path segment; `where` names the placeholder for the error. */
export function pathSegment(value: string, where: string): string {
  if (value === '') throw new PathValueError(`${where} is empty: a path placeholder needs a value`);
  for (const form of decodedForms(value)) {
    // A server that decodes "%2F" (or treats "\\" as "/") before routing sees these pieces as segments.
    if (form.split(/[\\/]/).some((piece) => piece === '.' || piece === '..')) {
      throw new PathValueError(
        `${where} is ${JSON.stringify(value.slice(0, 80))}, which a server could read as a dot segment ("." or ".."): refused`,
      );
    }
  }
  return encodeURIComponent(value);
}

/**
 * Replaces each `{name|filters}` with its value as one encoded path segment. `lookup` returns undefined
 * for a name it does not know; that is an error naming the placeholder. Filters are the template
 * language's (`{window.start|date}`); whatever they give is still exactly one segment.
 */
export function fillPathTemplate(
  template: string,
  lookup: TemplateVars,
  where: string,
  options: FillOptions = {},
): string {
  try {
    return fillEach(
      template,
      lookup,
      (value, p) => {
        if (value === undefined || value === null)
          throw new PathValueError(`${where}: path placeholder {${p.name}} has no value`);
        return pathSegment(textOf(value), `${where}: the value of {${p.name}}`);
      },
      options,
    );
  } catch (error) {
    if (error instanceof TemplateError) throw new PathValueError(`${where}: ${error.message}`);
    throw error;
  }
}
