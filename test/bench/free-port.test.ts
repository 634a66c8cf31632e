import net from 'node:net';
import { ephemeralRange, freePort, portPool } from '../../bench/free-port';

describe('freePort: ports the kernel does not hand out on its own', () => {
  it('reads ip_local_port_range, and falls back to Linux’s default on anything else', () => {
    expect(ephemeralRange('32768\t60999\n')).toEqual([32768, 60999]);
    expect(ephemeralRange('1024 65000')).toEqual([1024, 65000]);
    expect(ephemeralRange('')).toEqual([32768, 60999]);
    expect(ephemeralRange('garbage')).toEqual([32768, 60999]);
  });

  it('draws below the ephemeral range, above it when that starts too low, and from it only when nothing else is left', () => {
    expect(portPool([32768, 60999])).toEqual([10000, 32767]);
    expect(portPool([1024, 50000])).toEqual([50001, 65535]);
    expect(portPool([1024, 65000])).toEqual([1024, 65000]);
  });

  it('gives a bindable port outside the range that listen(0) draws from', async () => {
    const [low, high] = ephemeralRange();
    const [from, to] = portPool([low, high]);
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(from);
    expect(port).toBeLessThanOrEqual(to);
    // Outside the ephemeral range wherever the host leaves room for a pool (Linux's default does).
    if (from !== low || to !== high) expect(port < low || port > high).toBe(true);
    const kernel = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const srv = net.createServer();
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
        const p = (srv.address() as net.AddressInfo).port;
        await new Promise<void>((r) => srv.close(() => r()));
        return p;
      }),
    );
    expect(kernel).not.toContain(port);
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => (srv.once('error', reject), srv.listen(port, '127.0.0.1', resolve)));
    await new Promise<void>((r) => srv.close(() => r()));
  });
});
