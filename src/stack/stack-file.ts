/**
 * `syncwright up` writes where its stack listens to SYNCWRIGHT_HOME/stack.json, so other commands in
 * other terminals (sync, runs, records…) find the embedded Postgres and the dev server without env vars.
 * The file holds addresses only, never secrets.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const stackFileSchema = z.object({
  pid: z.number().int(),
  databaseUrl: z.string(),
  temporalAddress: z.string(),
  namespace: z.string(),
  taskQueue: z.string(),
  uiUrl: z.string().nullable(),
  webhookUrl: z.string().nullable(),
});
export type StackFile = z.infer<typeof stackFileSchema>;

export const stackFilePath = (homeDir: string) => path.join(homeDir, 'stack.json');

export async function writeStackFile(homeDir: string, stack: StackFile): Promise<void> {
  await fs.mkdir(homeDir, { recursive: true });
  await fs.writeFile(stackFilePath(homeDir), `${JSON.stringify(stack, null, 2)}\n`);
}

export async function removeStackFile(homeDir: string): Promise<void> {
  await fs.rm(stackFilePath(homeDir), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running stack's addresses, or undefined when no `syncwright up` is running from this directory. */
export async function readStackFile(homeDir: string): Promise<StackFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(stackFilePath(homeDir), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = stackFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success || !alive(parsed.data.pid)) return undefined;
  return parsed.data;
}
