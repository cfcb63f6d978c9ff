/**
 * What the engine runs on: the database, the loaded specs, the secret box, the process environment
 * and a logger. Activities, connection clients and the webhook receiver take this bag (or a Pick of it).
 */
import type { Logger } from '../log.js';
import type { SpecRegistry } from '../spec/registry.js';
import type { Db } from '../store/db.js';
import type { SecretBox } from '../store/secret-box.js';

export interface EngineDeps {
  db: Db;
  specs: SpecRegistry;
  /** Undefined when no key is configured: connections with stored secrets then fail with a clear error. */
  secretBox: SecretBox | undefined;
  /** For `{ env: NAME }` secret references: the worker's environment, passed in at start-up. */
  env: Readonly<Record<string, string | undefined>>;
  log?: Logger | undefined;
}
