/**
 * Where a model folder's chat template comes from, as transformers finds it: chat_template.jinja
 * (read as Python reads text: strict UTF-8, BOM kept, universal newlines) wins over
 * tokenizer_config.json's `chat_template` (a string, or named templates: `default`), then the
 * older chat_template.json; dtr.json's `chatTemplateSha256` (written by the exporter) is checked;
 * a folder with none gets the built-in template of its tokenizer's family, with a warning.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModelFolder } from '../src/model/folder.js';
import { RewardModel } from '../src/model/reward-model.js';
import { BUILTIN_TEMPLATES } from '../src/text/builtin-templates.js';
import { SKYWORK_LLAMA31_TEMPLATE, writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

function editJson(path: string, edit: (doc: Record<string, unknown>) => void): void {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(doc);
  writeFileSync(path, JSON.stringify(doc, null, 2));
}

function folderWithout(): string {
  const fx = writeFixtureModel(tempDir(), { kind: 'pooled' });
  editJson(join(fx.dir, 'tokenizer_config.json'), (d) => delete d.chat_template);
  return fx.dir;
}

const JINJA = SKYWORK_LLAMA31_TEMPLATE.replace("'<|eot_id|>'", "'<|eot_id|>' + ''");

describe('the chat template of a model folder', () => {
  it('chat_template.jinja wins over tokenizer_config.json, as in transformers 5', () => {
    const fx = writeFixtureModel(tempDir(), { kind: 'pooled' });
    writeFileSync(join(fx.dir, 'chat_template.jinja'), JINJA);
    const r = inspectModelFolder(fx.dir);
    expect(r.success).toBe(true);
    if (!r.success) return;
    expect(r.folder.chatTemplateFrom).toBe('chat_template.jinja');
    expect(r.folder.chatTemplate).toBe(JINJA);
    expect(r.folder.warnings).toEqual([]);
  });

  it('reads chat_template.jinja as Python does: CRLF and CR become LF, a BOM is kept; invalid UTF-8 is an error', () => {
    const fx = writeFixtureModel(tempDir(), { kind: 'pooled' });
    writeFileSync(join(fx.dir, 'chat_template.jinja'), Buffer.from(`\ufeff${JINJA.replaceAll('\n', '\r\n')}\r`, 'utf8'));
    const r = inspectModelFolder(fx.dir);
    expect(r.success).toBe(true);
    if (!r.success) return;
    expect(r.folder.chatTemplate.startsWith('\ufeff')).toBe(true);
    expect(r.folder.chatTemplate).not.toContain('\r');
    expect(r.folder.chatTemplate).toBe(`\ufeff${JINJA}\n`);

    writeFileSync(join(fx.dir, 'chat_template.jinja'), Buffer.concat([Buffer.from('{{ bos_token }}'), Buffer.from([0xff, 0xfe])]));
    const bad = inspectModelFolder(fx.dir);
    expect(bad.success).toBe(false);
    if (!bad.success)
      expect(bad.issues).toContainEqual({
        path: 'chat_template.jinja:1',
        message: 'not valid UTF-8 (byte 16 of the line: 0xFF, a byte that never occurs in UTF-8)',
      });
  });

  it("named templates in tokenizer_config.json give 'default'; chat_template.json is read when nothing else has one", () => {
    const fx = writeFixtureModel(tempDir(), { kind: 'pooled' });
    editJson(join(fx.dir, 'tokenizer_config.json'), (d) => {
      d.chat_template = [
        { name: 'tool_use', template: '{{ raise_exception("not this one") }}' },
        { name: 'default', template: JINJA },
      ];
    });
    const named = inspectModelFolder(fx.dir);
    expect(named.success && named.folder.chatTemplate).toBe(JINJA);

    // Named templates and none is 'default': refused, naming them, as transformers refuses (no built-in fallback).
    editJson(join(fx.dir, 'tokenizer_config.json'), (d) => {
      d.chat_template = [
        { name: 'tool_use', template: JINJA },
        { name: 'rag', template: JINJA },
      ];
    });
    const undecided = inspectModelFolder(fx.dir);
    expect(undecided.success).toBe(false);
    if (!undecided.success) {
      expect(undecided.issues).toContainEqual({
        path: 'tokenizer_config.json',
        message:
          "chat_template holds named templates and none is named 'default' (available: rag, tool_use): transformers refuses to choose one, and so does the SDK",
      });
    }

    const dir = folderWithout();
    writeFileSync(join(dir, 'chat_template.json'), JSON.stringify({ chat_template: JINJA }));
    const legacy = inspectModelFolder(dir);
    expect(legacy.success).toBe(true);
    if (legacy.success)
      expect([legacy.folder.chatTemplateFrom, legacy.folder.chatTemplate]).toEqual(['chat_template.json: chat_template', JINJA]);
  });

  it("dtr.json's chatTemplateSha256 must match the folder's template; an explicit template overrides it", async () => {
    const fx = writeFixtureModel(tempDir(), { kind: 'pooled' });
    editJson(join(fx.dir, 'dtr.json'), (d) => (d.chatTemplateSha256 = sha(SKYWORK_LLAMA31_TEMPLATE)));
    expect(inspectModelFolder(fx.dir).success).toBe(true);

    writeFileSync(join(fx.dir, 'chat_template.jinja'), JINJA);
    const r = inspectModelFolder(fx.dir);
    expect(r.success).toBe(false);
    if (!r.success) {
      expect(r.issues).toHaveLength(1);
      expect(r.issues[0]!.path).toBe('chat_template.jinja');
      expect(r.issues[0]!.message).toMatch(
        /^is not the chat template this model was exported with \(sha256 [0-9a-f]{12}\.\.\., dtr\.json chatTemplateSha256 [0-9a-f]{12}\.\.\.\)/,
      );
    }
    await expect(RewardModel.load({ dir: fx.dir, tokenizeInWorker: false })).rejects.toThrow(
      /chat_template\.jinja: is not the chat template this model was exported with/,
    );
    const m = await RewardModel.load({ dir: fx.dir, tokenizeInWorker: false, chatTemplate: JINJA });
    expect(m.warnings).toEqual([]);
    await m.dispose();

    rmSync(join(fx.dir, 'chat_template.jinja'));
    editJson(join(fx.dir, 'tokenizer_config.json'), (d) => delete d.chat_template);
    const lost = inspectModelFolder(fx.dir);
    expect(lost.success).toBe(false);
    if (!lost.success)
      expect(lost.issues[0]!.message).toMatch(/^missing: dtr\.json records the exported template .* copy the whole exported folder/);
  });

  it("a folder with no template gets its tokenizer family's built-in one, with a warning that names it", async () => {
    const dir = folderWithout();
    const warnings: string[] = [];
    const model = await RewardModel.load({ dir, tokenizeInWorker: false, onWarning: (m) => warnings.push(m) });
    try {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /no chat template in the folder \(chat_template\.jinja, tokenizer_config\.json, chat_template\.json\); using the SDK's built-in 'llama-3\.1-instruct' template \(Meta's Llama-3\.1 Instruct chat template\)/,
      );
      expect(model.warnings).toEqual(warnings);
      const ids = Array.from(model.encode('Hello', 'Hi there').ids);
      // Meta's template: BOS, then the system header with the knowledge cut-off date.
      expect(ids.slice(0, 4)).toEqual([128000, 128006, 9125, 128007]);
    } finally {
      await model.dispose();
    }
    expect(BUILTIN_TEMPLATES.map((t) => t.name)).toEqual(['llama-3.1-instruct', 'gemma-2-it']);
  });

  it('a folder with no template and a tokenizer of no known family is refused, saying what to add', () => {
    const dir = folderWithout();
    editJson(join(dir, 'tokenizer.json'), (d) => {
      d.added_tokens = (d.added_tokens as Array<{ content: string }>).filter((t) => t.content !== '<|eot_id|>');
    });
    const r = inspectModelFolder(dir);
    expect(r.success).toBe(false);
    if (!r.success) {
      expect(r.issues).toContainEqual({
        path: 'chat_template.jinja',
        message:
          "missing: the folder has no chat template (chat_template.jinja, tokenizer_config.json, chat_template.json) and the tokenizer is not of a family with a built-in one (llama-3.1-instruct, gemma-2-it); add the model's template as chat_template.jinja or chatTemplate in dtr.json",
      });
    }
  });

  it('the built-in templates are the vendored reference files, byte for byte, and the exporter has the same (notebooks/python/builtin_templates.json)', () => {
    for (const t of BUILTIN_TEMPLATES) {
      expect(t.source).toBe(readFileSync(new URL(`./fixtures/chat-templates/${t.name}.jinja`, import.meta.url), 'utf8'));
    }
    // dtr_export.py traces and checks a template-less checkpoint with the template the SDK will use.
    const python = JSON.parse(readFileSync(new URL('../notebooks/python/builtin_templates.json', import.meta.url), 'utf8')) as {
      templates: unknown[];
    };
    expect(python.templates).toEqual(BUILTIN_TEMPLATES.map((t) => ({ ...t, markers: [...t.markers] })));
  });
});
