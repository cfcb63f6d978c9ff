import { SpecError, formatIssues } from './errors.js';
import {
  baseUrlSchema,
  integrationSpecSchema,
  type IntegrationSpec,
  type IntegrationSpecInput,
} from './schema.js';

/**
 * Specs parsed in this process. Parsing is not idempotent (defaults and transforms change the shape, e.g.
 * a rate limit's `per` becomes `intervalMs`), so a parsed spec is never parsed again. Shared through a
 * global symbol: a spec module may load its own copy of this file (another path or loader).
 */
const parsedSpecs: WeakSet<object> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('syncwright.parsedSpecs')
] ??= new WeakSet<object>()) as WeakSet<object>;

const parsed = (spec: IntegrationSpec): IntegrationSpec => {
  const frozen = Object.freeze(spec);
  parsedSpecs.add(frozen);
  return frozen;
};

/**
 * Declares an integration in TypeScript, validated like a JSON or YAML spec; TypeScript specs may add a
 * `map` function per resource.
 *
 * @example
 * export default defineIntegration({
 *   id: 'tracker',
 *   baseUrl: 'https://api.tracker.example',
 *   secrets: { token: 'API token' },
 *   auth: { type: 'bearer', token: 'token' },
 *   resources: { issues: { request: { path: '/issues' }, recordsPath: 'data', primaryKey: 'id' } },
 * });
 */
export function defineIntegration(spec: IntegrationSpecInput, source = 'defineIntegration'): IntegrationSpec {
  return parseSpec(spec, source);
}

/** Validates a spec object (a spec parsed already is returned as it is); throws a SpecError listing every problem. */
export function parseSpec(input: unknown, source: string): IntegrationSpec {
  if (typeof input === 'object' && input !== null && parsedSpecs.has(input)) return input as IntegrationSpec;
  const result = integrationSpecSchema.safeParse(input);
  if (!result.success) throw new SpecError(source, formatIssues(result.error.issues));
  return parsed(result.data);
}

/** A parsed spec pointed at another base URL (a simulator, a sandbox): only the URL is validated. */
export function withBaseUrl(spec: IntegrationSpec, baseUrl: string, source = spec.id): IntegrationSpec {
  const url = baseUrlSchema.safeParse(baseUrl);
  if (!url.success)
    throw new SpecError(
      source,
      formatIssues(url.error.issues).map((p) => p.replace(/^\(top level\)/, 'baseUrl')),
    );
  return parsed({ ...spec, baseUrl: url.data });
}
