/** Loopback TCP for tests: a free port, and a "peer" that accepts and drops every connection (a test can take it down and bring it back on the same port). */
import net from 'node:net';

/** A port free now on 127.0.0.1 (1883 and the other standard ports are taken by the machine's own services). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function listener(port = 0): Promise<net.Server> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  return srv;
}
export const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;
export const close = (s: net.Server): Promise<void> => new Promise<void>((r) => s.close(() => r()));
