import net from 'node:net';

/**
 * Rejects with the listen error (EADDRINUSE, EACCES, ...: `code`, `address`, `port`) when PORT on
 * HOST cannot be bound, before the database or the models are opened: a taken port fails the start
 * at once, with one error. Port 0 (any free port) is not checked.
 */
export async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
