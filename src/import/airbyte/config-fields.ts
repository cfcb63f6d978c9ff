/**
 * The connection's settings: Airbyte's `spec.connection_specification` (a JSON schema of the config)
 * becomes Syncwright's `connectionConfig` (plain values, checked on save) and `secrets` (sealed). Only
 * the fields the imported spec uses are declared. A nested field (`config.credentials.api_key`) is
 * flattened to one name (`credentials_api_key`); a value used by auth is always a secret.
 */
import { isObject, type Component, type Json } from './manifest.js';

export interface ConfigFieldOut {
  type: 'string' | 'number' | 'boolean' | 'list';
  required: boolean;
  pattern?: string;
  description?: string;
  format?: 'url';
}

/**
 * How a config value is used: a plain value, a host label in the base URL, a whole URL that starts the
 * base URL, a list of partition values, or a credential.
 */
export type ConfigUse = 'value' | 'host' | 'url' | 'list' | 'secret';

/** Letters, digits and "-" in dot-separated labels: what a host placeholder may hold. */
export const HOST_PATTERN = '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$';

function validRegex(p: string): boolean {
  try {
    new RegExp(p);
    return true;
  } catch {
    return false;
  }
}

interface SchemaHit {
  schema: Component | undefined;
  required: boolean;
}

export class ConfigFields {
  private readonly config = new Map<string, ConfigFieldOut>();
  private readonly secretNames = new Map<string, string>();
  /** Fields that choose an auth option, as they were before they were made to (releaseChoice). */
  private readonly choices = new Map<string, ConfigFieldOut>();
  private readonly plain: Set<string>;
  private readonly sealed = new Set<string>();
  private readonly conflicts = new Set<string>();

  constructor(
    private readonly schema: Component | undefined,
    /** Secret-marked fields some place needs as plain config: never sealed in a path (see seal). */
    plain: readonly string[] = [],
  ) {
    this.plain = new Set(plain);
  }

  /** The JSON schema of a config path, following `properties` and the options of `oneOf`/`anyOf`. */
  private find(path: readonly string[]): SchemaHit {
    let node: Component | undefined = this.schema;
    let required = true;
    for (const key of path) {
      if (!node) return { schema: undefined, required: false };
      const req = Array.isArray(node.required) ? node.required : [];
      const props: Json | undefined = node.properties;
      if (isObject(props) && isObject(props[key])) {
        required &&= req.includes(key);
        node = props[key];
        continue;
      }
      const options = [
        ...(Array.isArray(node.oneOf) ? node.oneOf : []),
        ...(Array.isArray(node.anyOf) ? node.anyOf : []),
      ];
      const hit = options.find(
        (o): o is Component => isObject(o) && isObject(o.properties) && isObject(o.properties[key]),
      );
      if (!hit) return { schema: undefined, required: false };
      required = false;
      node = (hit.properties as Component)[key] as Component;
    }
    return { schema: node, required };
  }

  /** Whether the manifest's config schema marks a field as a secret. */
  isSecret(path: readonly string[]): boolean {
    return this.find(path).schema?.airbyte_secret === true;
  }

  /** Whether a field holds text (or its schema does not say): what a start date needs. */
  isText(path: readonly string[]): boolean {
    const t = this.find(path).schema?.type;
    return t === undefined || t === 'string' || (Array.isArray(t) && t.includes('string'));
  }

  /** The schema's type of a field (a name or a list of names), if it says. */
  typeOf(path: readonly string[]): Json | undefined {
    return this.find(path).schema?.type;
  }

  /** Whether the schema declares a field at all. */
  declared(path: readonly string[]): boolean {
    return this.find(path).schema !== undefined;
  }

  /** The schema's default of a field, if any. */
  defaultOf(path: readonly string[]): Json | undefined {
    return this.find(path).schema?.default;
  }

  /** The Syncwright name of a config path (`credentials.api_key` → `credentials_api_key`). */
  nameOf(path: readonly string[]): string {
    return path
      .join('_')
      .replace(/[^A-Za-z0-9_]/g, '_')
      .replace(/^(\d)/, '_$1');
  }

  /** Declares a config field (or secret) for a use and returns its Syncwright name. */
  use(path: readonly string[], use: ConfigUse): string {
    const name = this.nameOf(path);
    const { schema, required } = this.find(path);
    const description =
      typeof schema?.title === 'string'
        ? schema.title
        : typeof schema?.description === 'string'
          ? schema.description.split('\n')[0]!.slice(0, 200)
          : undefined;
    if (use === 'secret') {
      this.secretNames.set(name, description ?? name);
      return name;
    }
    const t = schema?.type;
    const types = Array.isArray(t) ? t : [t];
    const type =
      types.includes('integer') || types.includes('number')
        ? 'number'
        : types.includes('boolean')
          ? 'boolean'
          : 'string';
    const existing = this.config.get(name);
    const field: ConfigFieldOut = existing ?? { type, required };
    if (description && !field.description) field.description = description;
    if (
      !field.pattern &&
      typeof schema?.pattern === 'string' &&
      validRegex(schema.pattern) &&
      type === 'string'
    )
      field.pattern = schema.pattern;
    if (use === 'list') field.type = 'list';
    if (use === 'url') {
      field.type = 'string';
      field.format = 'url';
    }
    if (use === 'host') {
      field.type = 'string';
      // A host placeholder must be constrained (Syncwright refuses one without a pattern).
      if (!field.pattern) field.pattern = HOST_PATTERN;
    }
    this.config.set(name, field);
    return name;
  }

  /**
   * What is declared now; the function it returns forgets whatever was declared since (an auth option
   * that does not translate declares nothing a connection would then have to supply).
   */
  checkpoint(): () => void {
    const config = new Map([...this.config].map(([k, v]) => [k, { ...v }]));
    const secretNames = new Map(this.secretNames);
    return () => {
      this.config.clear();
      for (const [k, v] of config) this.config.set(k, v);
      this.secretNames.clear();
      for (const [k, v] of secretNames) this.secretNames.set(k, v);
    };
  }

  /**
   * A field that chooses between options (a SelectiveAuthenticator's): required, with the choices in
   * its description, as Airbyte fails a config without it.
   */
  requireChoice(name: string, choices: readonly string[]): void {
    const field = this.config.get(name);
    if (!field) return;
    if (!this.choices.has(name)) this.choices.set(name, { ...field });
    field.required = true;
    const said = `auth option: ${choices.join(' or ')}`;
    if (!field.description?.startsWith(said))
      field.description = `${said}${field.description ? ` (${field.description})` : ''}`;
  }

  /** A choosing field whose choice is not imported after all: as it was before requireChoice. */
  releaseChoice(name: string): void {
    const before = this.choices.get(name);
    if (before) this.config.set(name, before);
    this.choices.delete(name);
  }

  /** Whether a name is declared as a plain config field (and would be stored unsealed). */
  hasValue(name: string): boolean {
    // A secret-marked field sealed in a path (or token URL) is a secret, unless kept plain somewhere.
    return this.config.has(name) && (!this.secretNames.has(name) || this.plain.has(name));
  }

  /**
   * A secret-marked field that some place can only use as plain config (inside a longer path segment)
   * stays declared as config there too, even where others seal it.
   */
  keepPlain(path: readonly string[]): void {
    this.plain.add(this.nameOf(path));
  }

  /**
   * Seals a secret-marked field placed as a whole path segment (`{secrets.name}`), unless some place
   * needs it as plain config; returns its name, or undefined when it stays plain.
   */
  seal(path: readonly string[]): string | undefined {
    const name = this.nameOf(path);
    if (this.plain.has(name)) return undefined;
    this.sealed.add(name);
    return this.use(path, 'secret');
  }

  /** A place needs a field as plain config: if it was sealed, the import runs again with it plain. */
  neededPlain(path: readonly string[]): void {
    const name = this.nameOf(path);
    if (this.sealed.has(name)) this.conflicts.add(name);
  }

  /** Sealed fields that some place needed plain (the import is then run again with them plain). */
  plainNeeded(): string[] {
    return [...this.conflicts];
  }

  connectionConfig(): Record<string, ConfigFieldOut> {
    return Object.fromEntries(
      [...this.config].filter(([k]) => !this.secretNames.has(k) || this.plain.has(k)),
    );
  }

  secrets(): Record<string, string> {
    return Object.fromEntries(this.secretNames);
  }
}
