import { Readable } from 'node:stream';
import { ImageRejectedError } from '../src';
import { readLimited } from '../src/object-store';

describe('readLimited', () => {
  it('reads a stream within the limit', async () => {
    const stream = Readable.from([Buffer.from('abc'), Buffer.from('def')]);
    expect((await readLimited(stream, 6)).toString()).toBe('abcdef');
  });

  it('stops and destroys the stream once it passes the limit', async () => {
    let chunksRead = 0;
    const stream = Readable.from(
      (function* () {
        for (;;) {
          chunksRead++;
          yield Buffer.alloc(1024);
        }
      })(),
    );

    await expect(readLimited(stream, 4096)).rejects.toThrow(ImageRejectedError);
    expect(stream.destroyed).toBe(true);
    expect(chunksRead).toBeLessThan(10);
  });
});
