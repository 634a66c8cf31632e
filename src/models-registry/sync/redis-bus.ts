import Redis, { type RedisOptions } from 'ioredis';
import { handleReconnectRejections } from '../../infra/messaging/redis';
import type { RegistryBus, RegistryMessage } from './bus';

/**
 * The registry bus on Redis pub/sub. It opens its own subscriber connection so `subscribe`
 * resolves only once Redis has confirmed the SUBSCRIBE (a message published after that is
 * never missed). The channel carries the deployment's key prefix.
 */
export class RedisRegistryBus implements RegistryBus {
  private readonly channel: string;
  private sub: Redis | null = null;
  private ready: Promise<unknown> | null = null;
  private readonly handlers = new Set<(m: RegistryMessage) => void>();

  constructor(
    private readonly publisher: Redis,
    private readonly connect: {
      url: string;
      options?: RedisOptions;
      /** Where the subscriber connection's failures are logged (`RedisConnections.watch`). */
      watch?: (name: string, client: Redis) => void;
    },
    prefix: string,
  ) {
    this.channel = `${prefix}model-registry`;
  }

  async publish(message: RegistryMessage): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify(message));
  }

  async subscribe(handler: (message: RegistryMessage) => void): Promise<() => Promise<void>> {
    if (!this.sub) {
      const sub = handleReconnectRejections(
        new Redis(this.connect.url, {
          ...this.connect.options,
          lazyConnect: true,
          connectionName: 'dermagraph-model-registry',
        }),
      );
      this.connect.watch?.('model registry', sub);
      sub.on('message', (channel: string, text: string) => {
        if (channel !== this.channel) return;
        let msg: RegistryMessage;
        try {
          msg = JSON.parse(text) as RegistryMessage;
        } catch {
          return; // not ours
        }
        for (const h of this.handlers) h(msg);
      });
      this.sub = sub;
      this.ready = sub.connect().then(() => sub.subscribe(this.channel));
    }
    await this.ready;
    this.handlers.add(handler);
    return async () => {
      this.handlers.delete(handler);
      if (this.handlers.size === 0) await this.close();
    };
  }

  /** Closes the subscriber connection (the publisher belongs to the caller). */
  async close(): Promise<void> {
    const sub = this.sub;
    this.sub = null;
    this.ready = null;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
