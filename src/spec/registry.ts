/**
 * The loaded specs, by integration id: the one place a run, a webhook or a CLI command turns an
 * integration (and resource) name into its spec, with an error that lists what is loaded.
 */
import { SpecError } from './errors.js';
import type { IntegrationSpec, ResourceSpec } from './schema.js';

export type SpecRegistry = ReadonlyMap<string, IntegrationSpec>;

export function lookupSpec(specs: SpecRegistry, integration: string): IntegrationSpec {
  const spec = specs.get(integration);
  if (!spec) {
    throw new SpecError(integration, [
      `unknown integration (loaded: ${[...specs.keys()].join(', ') || 'none'})`,
    ]);
  }
  return spec;
}

export function lookupResource(
  specs: SpecRegistry,
  integration: string,
  resource: string,
): { spec: IntegrationSpec; resource: ResourceSpec } {
  const spec = lookupSpec(specs, integration);
  const res = spec.resources[resource];
  if (!res) {
    throw new SpecError(integration, [
      `unknown resource "${resource}" (resources: ${Object.keys(spec.resources).join(', ')})`,
    ]);
  }
  return { spec, resource: res };
}
