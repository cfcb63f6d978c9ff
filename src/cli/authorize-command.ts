/**
 * The `connection authorize` command's arguments; its work (an OAuth2 flow, the database) is in
 * authorize.ts, imported only when the command runs.
 */
import { Option, type Command } from 'commander';
import type { AuthorizeOptions } from './authorize.js';
import type { CliContext } from './context.js';

/** The default callback port: the redirect URI to register is http://127.0.0.1:8976/callback. */
export const DEFAULT_CALLBACK_PORT = 8976;
const DEFAULT_TIMEOUT_S = 300;

/** Adds `connection authorize` to the `connection` command. */
export function registerAuthorizeCommand(
  connection: Command,
  action: (
    fn: (
      ctx: CliContext,
      specs: string | undefined,
      integration: string,
      opts: AuthorizeOptions,
    ) => Promise<void>,
  ) => (...args: [string, AuthorizeOptions]) => Promise<void>,
): void {
  const port = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`expected a port number, got "${v}"`);
    return n;
  };
  const seconds = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive number of seconds, got "${v}"`);
    return n;
  };
  const collect = (value: string, previous: string[]) => [...previous, value];
  connection
    .command('authorize <integration>')
    .description(
      'authorize a connection in the browser (OAuth2 authorization code with PKCE); prints the URL to open and stores the tokens encrypted',
    )
    .requiredOption('--id <id>', 'connection id')
    .option('--config <name=value>', 'a connection config field (repeatable)', collect, [])
    .option('--secret <name=value>', 'a secret, e.g. the client id and secret (repeatable)', collect, [])
    .addOption(
      new Option('--port <n>', 'callback port on 127.0.0.1; 0 for any free port')
        .default(DEFAULT_CALLBACK_PORT)
        .argParser(port),
    )
    .option('--no-browser', 'only print the authorize URL')
    .addOption(
      new Option('--timeout <seconds>', 'how long to wait for the answer')
        .default(DEFAULT_TIMEOUT_S)
        .argParser(seconds),
    )
    .action(
      action((ctx, specs, integration, opts: AuthorizeOptions & { timeout?: number }) =>
        import('./authorize.js').then((m) =>
          m.connectionAuthorizeCommand(ctx, integration, {
            ...opts,
            timeoutSeconds: opts.timeout ?? DEFAULT_TIMEOUT_S,
            ...(specs ? { specs } : {}),
          }),
        ),
      ),
    );
}
