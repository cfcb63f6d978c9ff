import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { freePort } from '../../src/net.js';
import {
  DEV_SERVER_START_TRIES,
  DevServerExitedError,
  startDevServerOnFreePorts,
} from '../../src/temporal/dev-server.js';
import { testDevServerOptions, testTemporalCli } from '../helpers/dev-server.js';

describe('a dev server on free ports', () => {
  it('chooses other ports when the ones it was given are taken before it binds them', async () => {
    const cli = await testTemporalCli();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-ports-'));
    // Another process's listener on the port the first choice gives.
    // It hangs up on whoever connects (the start-up check's probe of the port reaches it).
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    const chosen: number[] = [];
    const retried: string[] = [];
    const server = await startDevServerOnFreePorts(
      testDevServerOptions(cli, dir),
      async () => {
        const port = chosen.length === 0 ? taken : await freePort();
        chosen.push(port);
        return { port };
      },
      (error) => retried.push(error.message),
    );
    try {
      assert.equal(chosen.length, 2);
      assert.equal(server.address, `127.0.0.1:${chosen[1]}`);
      assert.equal(retried.length, 1);
      // What the server said about the taken port is in the error, not lost with its pipes.
      assert.match(retried[0]!, /exited during start-up/);
      assert.match(retried[0]!, new RegExp(`${taken}|address already in use`), retried[0]);
      const connection = await Connection.connect({ address: server.address });
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      await connection.close();
    } finally {
      await server.stop();
      squatter.close();
    }
  });

  it('gives up after its tries with the last output when the server cannot start at all', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-ports-'));
    const bin = path.join(dir, 'temporal');
    // A CLI that reports its failure on stdout, as the real one logs in JSON, and exits at once.
    await fs.writeFile(
      bin,
      '#!/bin/sh\necho \'{"level":"fatal","msg":"cannot open the database"}\'\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    let tries = 0;
    await assert.rejects(
      startDevServerOnFreePorts(
        testDevServerOptions({ kind: 'binary', path: bin, source: 'TEMPORAL_CLI' }, dir),
        async () => {
          tries++;
          return { port: await freePort() };
        },
      ),
      (error: unknown) =>
        error instanceof DevServerExitedError &&
        /code 1/.test(error.message) &&
        /cannot open the database/.test(error.message),
    );
    assert.equal(tries, DEV_SERVER_START_TRIES);
  });
});
