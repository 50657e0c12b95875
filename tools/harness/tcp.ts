/** A TCP listener that accepts and drops every connection: a "peer" a test can take down and bring back on the same port. */
import net from 'node:net';

export async function listener(port = 0): Promise<net.Server> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  return srv;
}
export const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;
export const close = (s: net.Server): Promise<void> => new Promise<void>((r) => s.close(() => r()));
