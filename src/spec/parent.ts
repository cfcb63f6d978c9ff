/**
 * A child resource runs once per parent: a record of another resource (`parent: { resource, params }`)
 * or a combination of listed values (`parent: { values: { strategy: [desktop, mobile] } }`, Airbyte's
 * ListPartitionRouter; a list may be a connection's `{config.urls}`), each as `{parent.<name>}` in its
 * templates. Pure helpers over both forms.
 */

type Scalar = string | number | boolean;
export type ParentConfig =
  { resource: string; params: Record<string, string> } | { values: Record<string, Scalar[] | string> };

/** The label runs and summaries show for the parent: its resource, or `values`. */
export function parentLabel(parent: ParentConfig): string {
  return 'resource' in parent ? parent.resource : 'values';
}

/** Placeholder name → parent field: what `{parent.<name>}` may name. */
export function parentParamsOf(parent: ParentConfig): Record<string, string> {
  return 'resource' in parent
    ? parent.params
    : Object.fromEntries(Object.keys(parent.values).map((k) => [k, k]));
}

/**
 * Every combination of the listed values (the cartesian product, in the order written), each with a
 * key that identifies it among runs and stored child records: the values as a JSON array.
 */
export function valueCombinations(
  values: Record<string, Scalar[] | string>,
  config: Readonly<Record<string, unknown>> = {},
): { key: string; params: Record<string, string> }[] {
  let combos: Record<string, string>[] = [{}];
  for (const [name, given] of Object.entries(values)) {
    // `{config.<field>}`: the connection's list (checked on save); anything else gives no runs.
    const field =
      typeof given === 'string' ? /^\{config\.([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(given)?.[1] : undefined;
    const raw = typeof given === 'string' ? (field !== undefined ? config[field] : undefined) : given;
    const list = Array.isArray(raw)
      ? raw.filter((v): v is Scalar => ['string', 'number', 'boolean'].includes(typeof v) && v !== '')
      : [];
    combos = combos.flatMap((c) => list.map((v) => ({ ...c, [name]: String(v) })));
  }
  return combos.map((params) => ({ key: JSON.stringify(Object.values(params)), params }));
}
