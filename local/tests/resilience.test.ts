import type { Stack } from '../src';
import { startTestStack } from '../../tests/support/stack';

describe('frontend while the backend dies and comes back', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { BACKEND_TIMEOUT_MS: '1000' },
    });
  }, 60_000);
  afterAll(() => stack?.stop());

  it('answers 503 quickly while the backend is down, then recovers without a restart', async () => {
    const frontend = stack.url('frontend');
    const frontendPid = stack.services.get('frontend')!.pid;
    const backend = stack.services.get('backend')!;
    expect((await fetch(`${frontend}/api/products`)).status).toBe(200);

    await backend.stop();
    const started = Date.now();
    const down = await fetch(`${frontend}/api/products`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ error: 'backend is unavailable' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect((await fetch(`${frontend}/readyz`)).status).toBe(503);

    await backend.start();
    expect((await fetch(`${frontend}/api/products`)).status).toBe(200);
    expect((await fetch(`${frontend}/readyz`)).status).toBe(200);
    expect(stack.services.get('frontend')!.pid).toBe(frontendPid);
    expect(stack.services.get('frontend')!.running).toBe(true);
  }, 60_000);
});
