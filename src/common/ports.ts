import net from 'node:net';

/** A loopback port the kernel has free right now, for a server this process, a bench or a test
 * starts itself (the embedded PostgreSQL, PgBouncer, a replica). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
