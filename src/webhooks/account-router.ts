/**
 * Routing webhooks by the provider's account (webhooks.route): one URL for every tenant of an app.
 * The signature is checked with the app's secrets (environment variables, the same for all tenants)
 * before the body is trusted; the account id in the delivery then picks the connection whose
 * `connection add --account` matches. Lookups are remembered briefly; an unknown account is never
 * remembered, since its events are kept (unrouted.ts) until a connection claims it.
 */
import { resolveSecret } from '../http/auth/apply.js';
import type { IntegrationSpec } from '../spec/schema.js';
import { connectionForAccount } from '../store/connections.js';
import type { DbOrTx } from '../store/db.js';
import { TtlCache } from './ttl-cache.js';

const ACCOUNT_CACHE_ENTRIES = 100_000;

export class AccountRouter {
  private readonly connections = new TtlCache<Promise<string | undefined>>(ACCOUNT_CACHE_ENTRIES);
  private readonly secrets = new Map<string, string[]>();

  constructor(
    private readonly db: DbOrTx,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly ttlMs: number,
  ) {}

  /** The app's webhook secrets (the environment does not change while the receiver runs). */
  appSecrets(spec: IntegrationSpec): string[] {
    let out = this.secrets.get(spec.id);
    if (!out) {
      out = [];
      for (const ref of spec.webhooks!.signature.secrets) {
        try {
          out.push(
            resolveSecret(ref, { secrets: {}, config: {}, env: this.env, where: `integration ${spec.id}` }),
          );
        } catch {
          // A rotation slot left empty: the others still verify.
        }
      }
      this.secrets.set(spec.id, out);
    }
    return out;
  }

  /** The connection for `account`, or undefined when none has it (yet). */
  connectionFor(integration: string, account: string): Promise<string | undefined> {
    const key = `${integration}\u0000${account}`;
    const cached = this.connections.get(key);
    if (cached) return cached;
    const lookup = connectionForAccount(this.db, integration, account);
    this.connections.set(key, lookup, this.ttlMs);
    lookup.then(
      (id) => {
        if (id === undefined) this.connections.delete(key);
      },
      () => this.connections.delete(key),
    );
    return lookup;
  }
}
