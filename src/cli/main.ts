#!/usr/bin/env node
/**
 * The `syncwright` command. Every command has --help; failures print one line and exit non-zero.
 * A command's module is imported when it runs: `--help` or `validate` then never loads the Temporal SDK,
 * pg or kysely (each costs 0.1–0.6 s of start-up).
 */
import { Command, Option } from 'commander';
import { registerAuthorizeCommand } from './authorize-command.js';
import { createContext, UsageError, type CliContext } from './context.js';

const connections = () => import('./commands/connections.js');
const schedules = () => import('./commands/schedules.js');
const stack = () => import('./commands/stack.js');
const sync = () => import('./commands/sync.js');
const webhookCommands = () => import('./commands/webhooks.js');

const program = new Command('syncwright')
  .description('Keep a Postgres copy of a provider API in sync with durable Temporal workflows.')
  .option('--verbose', 'print stack traces and debug logs')
  .option('--json', 'machine-readable output')
  .option('--specs <file|dir>', 'spec file or directory (default: ./integrations or SYNCWRIGHT_SPECS)')
  // Wrong arguments get one line; `--help` shows the usage.
  .configureOutput({ outputError: (text, write) => write(`syncwright: ${text.replace(/^error: /, '')}`) });

/** Runs a command with a context whose resources are closed when it ends. */
function action<A extends unknown[]>(
  fn: (ctx: CliContext, specs: string | undefined, ...args: A) => Promise<void>,
) {
  return async (...args: A) => {
    const global = program.opts<{ verbose?: boolean; json?: boolean; specs?: string }>();
    const ctx = createContext(global);
    try {
      await fn(ctx, global.specs, ...args);
    } finally {
      await ctx.scope.close();
    }
  };
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got "${value}"`);
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];
const modeOption = () =>
  new Option('--mode <mode>', 'full or incremental').choices(['full', 'incremental']).default('full');

program
  .command('demo')
  .description(
    'start the local stack and a simulated provider, sync it through real workflows, print the result',
  )
  .option(
    '--keep',
    'stay up for inspection in the Temporal UI until Ctrl-C',
    process.env.SYNCWRIGHT_KEEP === '1',
  )
  .addOption(
    new Option('--records <n>', 'issues in the simulated provider').default(2000).argParser(positiveInt),
  )
  .action(
    action((ctx, _specs, opts: { keep: boolean; records: number }) =>
      import('./demo.js').then((m) => m.runDemo(ctx, opts)),
    ),
  );

program
  .command('up')
  .description(
    'start Postgres, the Temporal dev server, a worker and the webhook receiver in the foreground; Ctrl-C stops everything',
  )
  .action(action((ctx, specs) => stack().then((m) => m.upCommand(ctx, { ...(specs ? { specs } : {}) }))));

program
  .command('worker')
  .description('run a worker for the specs against DATABASE_URL/TEMPORAL_ADDRESS (or a running `up`)')
  .action(action((ctx, specs) => stack().then((m) => m.workerCommand(ctx, { ...(specs ? { specs } : {}) }))));

const webhooks = program.command('webhooks').description('the webhook receiver');
webhooks
  .command('serve')
  .description(
    'receive webhooks (SYNCWRIGHT_WEBHOOK_HOST/PORT) into the inbox and hand them to Temporal; keeps accepting while Temporal is down',
  )
  .action(
    action((ctx, specs) =>
      webhookCommands().then((m) => m.webhooksServeCommand(ctx, { ...(specs ? { specs } : {}) })),
    ),
  );

const unrouted = webhooks
  .command('unrouted')
  .description('events for accounts no connection has yet (webhooks.route), oldest first')
  .option('--integration <id>')
  .option('--account <id>')
  .addOption(new Option('--limit <n>').default(100).argParser(positiveInt))
  .action(
    action((ctx, _s, opts: { integration?: string; account?: string; limit: number }) =>
      webhookCommands().then((m) => m.unroutedCommand(ctx, opts)),
    ),
  );
unrouted
  .command('replay <integration> <account>')
  .description(
    "move an account's waiting events into a connection's inbox: the connection with that account, or --connection",
  )
  .option('--connection <id>', 'the connection to deliver them to')
  .action(
    action((ctx, _s, integration: string, account: string, opts: { connection?: string }) =>
      webhookCommands().then((m) => m.unroutedReplayCommand(ctx, integration, account, opts)),
    ),
  );
webhooks
  .command('reconcile <integration> <connection> [resources...]')
  .description(
    'start the incremental syncs that reconcile webhooks now: of the resources named, or of webhooks.reconcile',
  )
  .action(
    action((ctx, specs, integration: string, connection: string, resources: string[]) =>
      webhookCommands().then((m) =>
        m.webhooksReconcileCommand(ctx, integration, connection, resources, { ...(specs ? { specs } : {}) }),
      ),
    ),
  );
webhooks
  .command('gaps')
  .description('skipped delivery sequence numbers found (webhooks.sequence), newest first')
  .option('--integration <id>')
  .option('--connection <id>')
  .option('--pending', 'only those whose reconciliation has not been started')
  .addOption(new Option('--limit <n>').default(50).argParser(positiveInt))
  .action(
    action((ctx, _s, opts: { integration?: string; connection?: string; pending?: boolean; limit: number }) =>
      webhookCommands().then((m) => m.gapsCommand(ctx, opts)),
    ),
  );

const EVENT_STATUSES = ['received', 'dispatched', 'processed', 'failed', 'ignored'] as const;
const events = program
  .command('events')
  .description('webhook events in the inbox, newest first')
  .addOption(new Option('--status <status>').choices(EVENT_STATUSES))
  .option('--integration <id>')
  .option('--connection <id>')
  .addOption(new Option('--limit <n>').default(50).argParser(positiveInt))
  .action(
    action(
      (
        ctx,
        _s,
        opts: {
          status?: (typeof EVENT_STATUSES)[number];
          integration?: string;
          connection?: string;
          limit: number;
        },
      ) => webhookCommands().then((m) => m.eventsCommand(ctx, opts)),
    ),
  );
events
  .command('replay <id>')
  .description('queue a failed event again (it is applied unless a newer event of its entity was)')
  .action(action((ctx, _s, id: string) => webhookCommands().then((m) => m.eventsReplayCommand(ctx, id))));

program
  .command('migrate')
  .description('apply database migrations (DATABASE_URL, or the embedded Postgres)')
  .action(
    action(async (ctx) => {
      const [{ resolvePostgres }, { createDb }, { migrateToLatest }] = await Promise.all([
        import('../stack/postgres.js'),
        import('../store/db.js'),
        import('../store/migrate.js'),
      ]);
      const postgres = await resolvePostgres(ctx.config, ctx.log);
      ctx.scope.add('postgres', () => postgres.stop());
      const db = createDb(postgres.url);
      ctx.scope.add('db', () => db.destroy());
      const results = await migrateToLatest(db);
      ctx.out(
        results.length ? results.map((r) => `applied ${r.migrationName}`).join('\n') : 'schema is up to date',
      );
    }),
  );

program
  .command('validate [spec...]')
  .description('check spec files; every problem is printed as path: message')
  .action(
    action((ctx, _specs, files: string[]) =>
      import('./commands/validate.js').then((m) => m.validateCommand(ctx, files)),
    ),
  );

program
  .command('import')
  .description("translate another tool's connector definition into a spec")
  .command('airbyte <manifest>')
  .description(
    'translate an Airbyte declarative manifest (manifest.yaml) into a spec; reports what it could not translate and exits 1 when a stream would lose data or incremental behaviour',
  )
  .option('--out <file>', 'write the spec here (default: stdout, with the report on stderr)')
  .option('--id <id>', 'the integration id (default: from the file or its folder, source-x → x)')
  .action(
    action((ctx, _s, manifest: string, opts: { out?: string; id?: string }) =>
      import('./commands/import.js').then((m) => m.importAirbyteCommand(ctx, manifest, opts)),
    ),
  );

const connection = program
  .command('connection')
  .description("manage connections (a tenant's config and secrets)");
connection
  .command('add <integration>')
  .description('add or replace a connection; secrets are stored encrypted')
  .requiredOption('--id <id>', 'connection id')
  .option('--config <name=value>', 'a connection config field (repeatable)', collect, [])
  .option('--secret <name=value>', 'a secret (repeatable)', collect, [])
  .option(
    '--account <id>',
    "the provider's id of this tenant (installation, account, team): routes webhooks sent to one URL",
  )
  .action(
    action(
      (
        ctx,
        specs,
        integration: string,
        opts: { id: string; config: string[]; secret: string[]; account?: string },
      ) =>
        connections().then((m) =>
          m.connectionAddCommand(ctx, integration, { ...opts, ...(specs ? { specs } : {}) }),
        ),
    ),
  );
registerAuthorizeCommand(connection, action);
connection
  .command('list')
  .option('--integration <id>')
  .action(
    action((ctx, _s, opts: { integration?: string }) =>
      connections().then((m) => m.connectionListCommand(ctx, opts)),
    ),
  );
connection
  .command('remove <integration> <id>')
  .action(
    action((ctx, _s, integration: string, id: string) =>
      connections().then((m) => m.connectionRemoveCommand(ctx, integration, id)),
    ),
  );

program
  .command('keys')
  .description('encryption keys of sealed secrets')
  .command('rotate')
  .description(
    're-seal every secret under SYNCWRIGHT_ENCRYPTION_KEY, opening them with it or a key in SYNCWRIGHT_ENCRYPTION_KEYS_OLD',
  )
  .action(action((ctx) => import('./keys.js').then((m) => m.keysRotateCommand(ctx))));

program
  .command('sync <integration> <resource>')
  .description('start a sync run; --wait shows progress and a summary')
  .requiredOption('--connection <id>', 'connection id')
  .addOption(modeOption())
  .option('--wait', 'wait for the run and print a summary')
  .action(
    action(
      (
        ctx,
        specs,
        integration: string,
        resource: string,
        opts: { connection: string; mode: 'full' | 'incremental'; wait?: boolean },
      ) =>
        sync().then((m) =>
          m.syncCommand(ctx, integration, resource, { ...opts, ...(specs ? { specs } : {}) }),
        ),
    ),
  );

const schedule = program
  .command('schedule')
  .description('scheduled syncs (Temporal Schedules; overlapping runs are skipped)');
schedule
  .command('create <integration> <resource>')
  .requiredOption('--connection <id>', 'connection id')
  .addOption(modeOption())
  .option('--every <interval>', 'e.g. 15m, 1h')
  .option('--cron <expression>', 'e.g. "0 * * * *"')
  .option('--paused', 'create it paused')
  .action(
    action(
      (
        ctx,
        specs,
        integration: string,
        resource: string,
        opts: {
          connection: string;
          mode: 'full' | 'incremental';
          every?: string;
          cron?: string;
          paused?: boolean;
        },
      ) =>
        schedules().then((m) =>
          m.scheduleCreateCommand(ctx, integration, resource, { ...opts, ...(specs ? { specs } : {}) }),
        ),
    ),
  );
schedule.command('list').action(action((ctx) => schedules().then((m) => m.scheduleListCommand(ctx))));
for (const verb of ['pause', 'unpause', 'delete'] as const) {
  schedule
    .command(`${verb} <schedule-id>`)
    .action(action((ctx, _s, id: string) => schedules().then((m) => m.scheduleActionCommand(ctx, verb, id))));
}

program
  .command('status')
  .description(
    "one screen: connections, each resource's last successful sync, failing runs, next scheduled runs, the webhook inbox, rate budgets",
  )
  .option('--stale <age>', 'exit 1 when a resource has no successful sync within <age> (90s, 15m, 1h, 2d)')
  .option('--watch [seconds]', 'redraw every 2 s (or every <seconds>) until Ctrl-C')
  .action(
    action((ctx, specs, opts: { stale?: string; watch?: boolean | string }) =>
      import('./commands/status.js').then((m) =>
        m.statusCommand(ctx, { ...opts, ...(specs ? { specs } : {}) }),
      ),
    ),
  );

program
  .command('runs')
  .description('recent sync runs')
  .option('--integration <id>')
  .addOption(new Option('--status <status>').choices(['running', 'completed', 'failed', 'cancelled']))
  .addOption(new Option('--limit <n>').default(20).argParser(positiveInt))
  .action(
    action(
      (
        ctx,
        _s,
        opts: {
          integration?: string;
          status?: 'running' | 'completed' | 'failed' | 'cancelled';
          limit: number;
        },
      ) => sync().then((m) => m.runsCommand(ctx, opts)),
    ),
  );

program
  .command('run <workflow-id>')
  .description('one sync workflow: status, progress or result')
  .action(action((ctx, _s, id: string) => sync().then((m) => m.runCommand(ctx, id))));

program
  .command('records <integration> <resource>')
  .description(
    'stored records of a resource, by key (numeric keys in numeric order); says on stderr when more are stored than shown',
  )
  .requiredOption('--connection <id>', 'connection id')
  .addOption(new Option('--limit <n>', 'show at most n records').default(20).argParser(positiveInt))
  .option('--all', 'show every record (no limit)')
  .option('--include-deleted', 'also show records deleted at the provider (marked deleted)')
  .action(
    action(
      (
        ctx,
        _s,
        integration: string,
        resource: string,
        opts: { connection: string; limit: number; all?: boolean; includeDeleted?: boolean },
      ) => sync().then((m) => m.recordsCommand(ctx, integration, resource, opts)),
    ),
  );

program
  .command('temporal-cli')
  .description(
    'print the temporal CLI used for the local dev server, building it with Go if needed (--json: the path alone)',
  )
  .action(
    action(async (ctx) => {
      const { resolveTemporalCli } = await import('../temporal/cli-binary.js');
      const cli = await resolveTemporalCli({
        cliPath: ctx.config.temporal.cliPath,
        cacheDir: ctx.config.cacheDir,
        log: ctx.log,
      });
      if (ctx.json) {
        // The path alone, for $(syncwright temporal-cli --json); without one, a failure on stderr.
        if (cli.kind !== 'binary')
          throw new UsageError('no temporal CLI: the Temporal SDK will download its dev server');
        ctx.out(cli.path);
        return;
      }
      ctx.out(
        cli.kind === 'binary'
          ? `${cli.path} (${cli.source})`
          : 'none: the Temporal SDK will download its dev server',
      );
    }),
  );

/**
 * Ends the process once stdout and stderr have handed everything to the OS: `process.exit` right after
 * a large write cuts what a pipe has not read yet (at 64 KiB). The write callbacks run in order, after
 * every earlier write is flushed.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

program.parseAsync().then(
  () => exitWhenFlushed(0),
  (error: unknown) => {
    const verbose = Boolean(program.opts<{ verbose?: boolean }>().verbose);
    const message = error instanceof Error ? error.message : String(error);
    console.error(`syncwright: ${message}`);
    if (verbose && error instanceof Error) console.error(error.stack);
    exitWhenFlushed(1);
  },
);
