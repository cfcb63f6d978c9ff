#!/usr/bin/env node
/** The `syncwright` command. */
import { Command, Option } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { createDb } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { resolvePostgres } from '../stack/postgres.js';
import { resolveTemporalCli } from '../temporal/cli-binary.js';
import { runDemo } from './demo.js';
import { ShutdownScope } from './shutdown.js';

const program = new Command('syncwright')
  .description('Keep a Postgres copy of a provider API in sync with durable Temporal workflows.')
  .option('--verbose', 'print stack traces and debug logs')
  .showHelpAfterError();

function setup() {
  const config = loadConfig();
  const verbose = Boolean(program.opts<{ verbose?: boolean }>().verbose);
  const log = createLogger(verbose ? 'debug' : process.env.LOG_LEVEL ? config.logLevel : 'warn');
  // The SDK's own logs (worker state changes, bundling) only when asked for.
  Runtime.install({ logger: new DefaultLogger(verbose ? 'DEBUG' : 'WARN') });
  const scope = new ShutdownScope((name, error) => log.error({ err: error }, `stopping ${name} failed`));
  scope.handleSignals();
  return { config, log, scope };
}

program
  .command('demo')
  .description('start the local stack, sync a simulated provider through a real workflow, print the result')
  .option(
    '--keep',
    'stay up for inspection in the Temporal UI until Ctrl-C',
    process.env.SYNCWRIGHT_KEEP === '1',
  )
  .addOption(
    new Option('--records <n>', 'records in the simulated provider').default(25).argParser(positiveInt),
  )
  .action(async (opts: { keep: boolean; records: number }) => {
    const { config, log, scope } = setup();
    try {
      await runDemo(config, log, scope, opts, (line) => console.log(line));
    } finally {
      await scope.close();
    }
  });

program
  .command('migrate')
  .description('apply database migrations (DATABASE_URL, or the embedded Postgres)')
  .action(async () => {
    const { config, log, scope } = setup();
    try {
      const postgres = await resolvePostgres(config, log);
      scope.add('postgres', () => postgres.stop());
      const db = createDb(postgres.url);
      scope.add('db', () => db.destroy());
      const results = await migrateToLatest(db);
      console.log(
        results.length ? results.map((r) => `applied ${r.migrationName}`).join('\n') : 'schema is up to date',
      );
    } finally {
      await scope.close();
    }
  });

program
  .command('temporal-cli')
  .description('print the temporal CLI used for the local dev server, building it with Go if needed')
  .action(async () => {
    const { config, log } = setup();
    const cli = await resolveTemporalCli({
      cliPath: config.temporal.cliPath,
      cacheDir: config.cacheDir,
      log,
    });
    console.log(
      cli.kind === 'binary'
        ? `${cli.path} (${cli.source})`
        : 'none: the Temporal SDK will download its dev server',
    );
  });

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got "${value}"`);
  return n;
}

program.parseAsync().then(
  () => process.exit(0),
  (error: unknown) => {
    const verbose = Boolean(program.opts<{ verbose?: boolean }>().verbose);
    const message = error instanceof Error ? error.message : String(error);
    console.error(`syncwright: ${message}`);
    if (verbose && error instanceof Error) console.error(error.stack);
    process.exit(1);
  },
);
