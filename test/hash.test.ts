/** File hashes for provenance: in 4 MiB pieces, and on a worker thread for large files. */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File, sha256FileAsync } from '../src/io/hash.js';
import { tempDir } from './support/temp.js';

describe('sha256File / sha256FileAsync', () => {
  it('hash a small and a large file (17 MiB, over the worker threshold and several read pieces) as one update would', async () => {
    const dir = tempDir('dtr-hash-');
    const small = join(dir, 'small.bin');
    const large = join(dir, 'large.bin');
    writeFileSync(small, 'hello');
    const bytes = new Uint8Array(17 * 1024 * 1024 + 5);
    for (let i = 0; i < bytes.length; i += 997) bytes[i] = i & 0xff;
    writeFileSync(large, bytes);
    const want = createHash('sha256').update(bytes).digest('hex');
    expect(sha256File(small)).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(await sha256FileAsync(small)).toBe(sha256File(small));
    expect(sha256File(large)).toBe(want);
    expect(await sha256FileAsync(large)).toBe(want);
    await expect(sha256FileAsync(join(dir, 'missing.bin'))).rejects.toThrow(/ENOENT/);
  });
});
