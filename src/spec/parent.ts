/**
 * A child resource runs once per parent: a record of another resource (`parent: { resource, params }`)
 * or a combination of listed values (`parent: { values: { strategy: [desktop, mobile] } }`, Airbyte's
 * ListPartitionRouter; a list may be a connection's `{config.urls}`), each as `{parent.<name>}` in its
 * templates. Pure helpers over both forms.
 */

type Scalar = string | number | boolean;
export type ParentItem =
  | { resource: string; params: Record<string, string>; changedOnly?: boolean | undefined }
  | { values: Record<string, Scalar[] | string> };
/** One parent, or a product of several (every combination of one of each). */
export type ParentConfig = ParentItem | { product: ParentItem[] };

const itemsOf = (parent: ParentConfig): ParentItem[] => ('product' in parent ? parent.product : [parent]);

/** The label runs and summaries show for the parent: its resource, or `values`; a product joins them. */
export function parentLabel(parent: ParentConfig): string {
  return itemsOf(parent)
    .map((p) => ('resource' in p ? p.resource : 'values'))
    .join(' × ');
}

/**
 * The parent resource whose changed records alone an incremental run visits (`changedOnly: true` on a
 * single parent resource), or undefined when every parent is visited on every run.
 */
export function changedOnlyParent(parent: ParentConfig | undefined): string | undefined {
  return parent && 'resource' in parent && parent.changedOnly === true ? parent.resource : undefined;
}

/** The resources whose records the runs are made of. */
export function parentResources(parent: ParentConfig): string[] {
  return itemsOf(parent).flatMap((p) => ('resource' in p ? [p.resource] : []));
}

/** Placeholder name → parent field: what `{parent.<name>}` may name. */
export function parentParamsOf(parent: ParentConfig): Record<string, string> {
  return Object.assign(
    {},
    ...itemsOf(parent).map((p) =>
      'resource' in p ? p.params : Object.fromEntries(Object.keys(p.values).map((k) => [k, k])),
    ),
  ) as Record<string, string>;
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

/**
 * Every combination of one entry of each list (in the order given), its params merged and its key the
 * entries' keys as a JSON array: the runs of a `product` parent.
 */
export function combine(
  lists: { key: string; params: Record<string, string> }[][],
): { key: string; params: Record<string, string> }[] {
  let combos: { keys: string[]; params: Record<string, string> }[] = [{ keys: [], params: {} }];
  for (const list of lists)
    combos = combos.flatMap((c) =>
      list.map((e) => ({ keys: [...c.keys, e.key], params: { ...c.params, ...e.params } })),
    );
  return combos.map((c) => ({ key: JSON.stringify(c.keys), params: c.params }));
}
