/**
 * Lets plain Node import TypeScript files (spec modules, migrations) when this code runs from the CLI's
 * JavaScript build (dist/, where this module is a .js chunk): tsx's loader is registered once, on
 * first need, so only the commands that import TypeScript pay for it. From the TypeScript sources a
 * loader is already active and nothing happens. Call it before the import: Node remembers a failed one.
 */
let registered: Promise<void> | undefined;

export function ensureTypeScriptLoader(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return Promise.resolve();
  registered ??= import('tsx/esm/api').then(({ register }) => void register());
  return registered;
}
