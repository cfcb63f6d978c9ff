/** `syncwright schedules create | list | pause | unpause | delete`. */
import type { SyncKind } from '../../sync/types.js';
import { createSyncSchedule, listSyncSchedules } from '../../temporal/sync-client.js';
import { openTemporal, UsageError, type CliContext } from '../context.js';
import { linesOr, print, scheduleLine } from '../output.js';
import { specsFor, syncInput } from './shared.js';

export async function scheduleCreateCommand(
  ctx: CliContext,
  integration: string,
  resource: string,
  opts: {
    connection: string;
    mode: SyncKind;
    every?: string;
    cron?: string;
    paused?: boolean;
    specs?: string;
  },
): Promise<void> {
  if (!opts.every === !opts.cron)
    throw new UsageError('give exactly one of --every <interval> or --cron <expression>');
  const specs = await specsFor(ctx, opts.specs);
  const input = syncInput(specs, integration, resource, opts.connection, opts.mode);
  const { client, taskQueue } = await openTemporal(ctx);
  const handle = await createSyncSchedule(
    client,
    input,
    {
      ...(opts.every ? { every: opts.every } : {}),
      ...(opts.cron ? { cron: opts.cron } : {}),
      paused: Boolean(opts.paused),
    },
    { taskQueue },
  );
  ctx.out(`schedule ${handle.scheduleId} created`);
}

export async function scheduleListCommand(ctx: CliContext): Promise<void> {
  const { client } = await openTemporal(ctx);
  const list = await listSyncSchedules(client);
  print(ctx, list, () => linesOr(list, scheduleLine, 'no schedules'));
}

export async function scheduleActionCommand(
  ctx: CliContext,
  action: 'pause' | 'unpause' | 'delete',
  id: string,
): Promise<void> {
  const { client } = await openTemporal(ctx);
  const handle = client.schedule.getHandle(id);
  if (action === 'pause') await handle.pause('paused from the CLI');
  else if (action === 'unpause') await handle.unpause('unpaused from the CLI');
  else await handle.delete();
  ctx.out(`schedule ${id} ${action === 'delete' ? 'deleted' : `${action}d`}`);
}
