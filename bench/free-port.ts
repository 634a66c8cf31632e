import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * Ports for a child that must be told its port before it binds (nginx, redis-server, postgres, uvicorn).
 *
 * Asking the kernel for one (`listen(0)`) and closing it is racy here: the kernel hands out the same
 * ephemeral range to every `PORT=0` server and every outgoing connection, so between the close and the
 * child's bind an api process started in the meantime could take that port, and whatever then answered
 * on it was not the child (seen in CI: nginx's port answered by an api process). So the port is drawn
 * at random from below the ephemeral range, where the kernel assigns nothing on its own, and is
 * checked free by binding it.
 */

/** Linux's ephemeral range (ip_local_port_range), 32768-60999 where it cannot be read. */
export function ephemeralRange(text = readProc()): [number, number] {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [32768, 60999];
}

function readProc(): string | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    return undefined;
  }
}

/** The ports drawn from: 10000 up to the start of the ephemeral range (or above its end, if it starts low). */
export function portPool([low, high]: [number, number]): [number, number] {
  if (low - 10000 >= 1000) return [10000, low - 1];
  if (65535 - high >= 1000) return [high + 1, 65535];
  return [low, high]; // a range covering everything: no safe pool, draw from it all
}

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** A port free now on 127.0.0.1 that the kernel will not hand to a `listen(0)` or an outgoing connection. */
export async function freePort(): Promise<number> {
  const [low, high] = portPool(ephemeralRange());
  for (let tries = 0; tries < 50; tries++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found in ${low}-${high}`);
}
