import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageBus } from '../../daemon/bus/index.js';

const sockets: Socket[] = [];
let bus: MessageBus | undefined;
afterEach(async () => {
  await bus?.stop({ drain: false });
  for (const s of sockets.splice(0)) s.close();
});

function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

describe('the delivery loop yields to I/O', () => {
  it('serves a UDP datagram and a timer while 1,000,000 messages drain', async () => {
    const N = 1_000_000;
    bus = new MessageBus({ maxQueueSize: N });
    let delivered = 0;
    bus.subscribe('flood', () => {
      delivered++;
    });
    for (let i = 0; i < N; i++) bus.publish({ type: 'flood', from: 'test', payload: i });

    const receiver = await bound();
    const sender = await bound();
    const datagram = new Promise<number>((resolve) => receiver.once('message', () => resolve(delivered)));
    const timer = new Promise<number>((resolve) => setTimeout(() => resolve(delivered), 0));
    const drained = new Promise<void>((resolve) => {
      const check = (): void => {
        if (delivered === N) resolve();
        else setImmediate(check);
      };
      setImmediate(check);
    });

    await bus.start();
    sender.send('ping', receiver.address().port, '127.0.0.1');
    const [atDatagram, atTimer] = await Promise.all([datagram, timer]);
    await drained;
    // Both callbacks ran while the drain was still far from done.
    expect(atTimer).toBeLessThan(N / 2);
    expect(atDatagram).toBeLessThan(N / 2);
    expect(delivered).toBe(N);
  });
});
