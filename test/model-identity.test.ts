/** modelIdentity / fileIdentity: what makes two model folders the same model for caches and resumes. */
import { closeSync, cpSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RewardModel } from '../src/index.js';
import { fileIdentity, FULL_HASH_LIMIT, modelIdentity, sha256File } from '../src/advanced.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

async function identityOf(
  dir: string,
  options: { maxLength?: number; head?: string | null } = {},
): Promise<ReturnType<typeof modelIdentity>> {
  const m = await RewardModel.load({ dir, ...options });
  try {
    return modelIdentity(m);
  } finally {
    await m.dispose();
  }
}

describe('modelIdentity', () => {
  it('is a content hash: a copy elsewhere is the same model; the head, maxLength, template or weights change it', async () => {
    const dir = tempDir();
    writeFixtureModel(join(dir, 'a'));
    cpSync(join(dir, 'a'), join(dir, 'copy'), { recursive: true });
    const a = await identityOf(join(dir, 'a'));
    expect(a.rewards).toMatch(/^[0-9a-f]{64}$/);
    expect(a.parts.files).toEqual({
      'model.onnx': sha256File(join(dir, 'a/model.onnx')),
      'tokenizer.json': sha256File(join(dir, 'a/tokenizer.json')),
      'tokenizer_config.json': sha256File(join(dir, 'a/tokenizer_config.json')),
    });
    expect(await identityOf(join(dir, 'copy'))).toEqual(a);

    const shorter = await identityOf(join(dir, 'a'), { maxLength: 128 });
    expect(shorter.backbone).not.toBe(a.backbone);
    const noHead = await identityOf(join(dir, 'a'), { head: null });
    expect(noHead.backbone).toBe(a.backbone);
    expect(noHead.rewards).not.toBe(a.rewards);
    expect(noHead.parts.head).toBeNull();

    writeFixtureModel(join(dir, 'seed8'), { seed: 8 });
    expect((await identityOf(join(dir, 'seed8'))).backbone).not.toBe(a.backbone);
    const config = JSON.parse(readFileSync(join(dir, 'copy/dtr.json'), 'utf8'));
    config.chatTemplate =
      config.chatTemplate ??
      JSON.parse(readFileSync(join(dir, 'copy/tokenizer_config.json'), 'utf8')).chat_template.replace(
        "message['content'] | trim",
        "message['content']",
      );
    writeFileSync(join(dir, 'copy/dtr.json'), JSON.stringify(config));
    expect((await identityOf(join(dir, 'copy'))).backbone).not.toBe(a.backbone);
  });

  it('covers external data files beside the ONNX file', async () => {
    const dir = tempDir();
    writeFixtureModel(join(dir, 'ext'), { externalData: true });
    const id = await identityOf(join(dir, 'ext'));
    expect(Object.keys(id.parts.files)).toEqual(['model.onnx', 'model.onnx_data', 'tokenizer.json', 'tokenizer_config.json']);
  });
});

describe('fileIdentity', () => {
  it('hashes small files whole and large ones by size and sampled blocks', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'small'), 'hello');
    expect(fileIdentity(join(dir, 'small'))).toBe(sha256File(join(dir, 'small')));
    // A sparse file just over the limit: no disk used, 64 MiB read.
    const sparse = (path: string): void => {
      const fd = openSync(path, 'w');
      writeSync(fd, Buffer.from('x'), 0, 1, FULL_HASH_LIMIT + 4096);
      closeSync(fd);
    };
    const big = join(dir, 'big');
    sparse(big);
    sparse(join(dir, 'big-same'));
    const before = fileIdentity(big);
    expect(before).toMatch(/^sampled:[0-9a-f]{64}$/);
    expect(fileIdentity(join(dir, 'big-same'))).toBe(before);
    const edit = openSync(big, 'r+');
    writeSync(edit, Buffer.from('y'), 0, 1, 10); // inside the first sampled block
    closeSync(edit);
    expect(fileIdentity(big)).not.toBe(before);
  });
});
