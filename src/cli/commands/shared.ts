/** What several commands need: the loaded specs, the secret box, name=value options, a sync's input. */
import { SpecError } from '../../spec/errors.js';
import { loadSpecs } from '../../spec/load.js';
import { changedOnlyParent } from '../../spec/parent.js';
import { lookupResource } from '../../spec/registry.js';
import type { IntegrationSpec } from '../../spec/schema.js';
import type { SecretBox } from '../../store/secret-box.js';
import type { SyncKind, SyncWorkflowInput } from '../../sync/types.js';
import { UsageError, type CliContext } from '../context.js';
import { openSecretBox } from '../keys.js';

export async function specsFor(ctx: CliContext, path?: string): Promise<Map<string, IntegrationSpec>> {
  return loadSpecs(path ?? ctx.config.specsPath, { cacheDir: ctx.config.cacheDir });
}

/** The spec of a loaded integration, or a usage error that lists the loaded ones. */
export function integrationSpec(specs: Map<string, IntegrationSpec>, integration: string): IntegrationSpec {
  const spec = specs.get(integration);
  if (!spec)
    throw new UsageError(
      `unknown integration "${integration}" (known: ${[...specs.keys()].join(', ') || 'none'})`,
    );
  return spec;
}

/** SYNCWRIGHT_ENCRYPTION_KEY; only the local `up` (local = true) may generate a key file. */
export async function secretBox(ctx: CliContext, local = false): Promise<SecretBox> {
  return openSecretBox(ctx, { local });
}

export function pairs(values: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${what} "${v.split('=')[0]}…" must look like name=value`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function syncInput(
  specs: Map<string, IntegrationSpec>,
  integration: string,
  resource: string,
  connection: string,
  kind: SyncKind,
): SyncWorkflowInput {
  try {
    const { spec, resource: res } = lookupResource(specs, integration, resource);
    // A child visiting changed parents only is incremental through its parent.
    if (kind === 'incremental' && !res.incremental && changedOnlyParent(res.parent) === undefined)
      throw new UsageError(
        `--mode incremental: resource ${integration}/${resource} has no incremental section in its spec (sync it with --mode full)`,
      );
    return { integration, connection, resource, kind, retry: spec.retry };
  } catch (error) {
    if (error instanceof SpecError) throw new UsageError(`${integration}: ${error.problems.join('; ')}`);
    throw error;
  }
}
