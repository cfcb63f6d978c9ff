import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';

export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
}

/** `traced`: Temporal's OpenTelemetry client interceptor carries the active trace into workflows. */
export async function connectClient(address: string, namespace: string, traced = false): Promise<Client> {
  return new Client({
    connection: await connectTemporal(address),
    namespace,
    ...(traced ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {}),
  });
}

export async function connectTemporal(address: string): Promise<Connection> {
  try {
    return await Connection.connect({ address, connectTimeout: 5000 });
  } catch (error) {
    throw new TemporalUnreachableError(
      `cannot reach Temporal at ${address}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Check TEMPORAL_ADDRESS, or unset it to use a local dev server',
      { cause: error },
    );
  }
}
