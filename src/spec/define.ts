import { SpecError, formatIssues } from './errors.js';
import { integrationSpecSchema, type IntegrationSpec, type IntegrationSpecInput } from './schema.js';

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

/** Validates a spec object; throws a SpecError listing every problem. */
export function parseSpec(input: unknown, source: string): IntegrationSpec {
  const parsed = integrationSpecSchema.safeParse(input);
  if (!parsed.success) throw new SpecError(source, formatIssues(parsed.error.issues));
  return Object.freeze(parsed.data);
}
