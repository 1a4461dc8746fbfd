#!/usr/bin/env node
// Regenerates src/text/builtin-templates.ts from test/fixtures/chat-templates/*.jinja (the
// SDK's fallback templates for model folders that ship none). test/model-template.test.ts
// fails when the two disagree. Run: node scripts/make-builtin-templates.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const templates = [
  { name: 'llama-3.1-instruct', description: "Meta's Llama-3.1 Instruct chat template", markers: ['<|start_header_id|>', '<|eot_id|>'] },
  { name: 'gemma-2-it', description: "Google's gemma-2-it chat template", markers: ['<start_of_turn>', '<end_of_turn>'] },
];
const current = readFileSync(new URL('src/text/builtin-templates.ts', root), 'utf8');
const head = current.slice(0, current.indexOf('export const BUILTIN_TEMPLATES'));
const entries = templates.map((t) => {
  const source = readFileSync(new URL(`test/fixtures/chat-templates/${t.name}.jinja`, root), 'utf8');
  return `  {\n    name: ${JSON.stringify(t.name)},\n    description: ${JSON.stringify(t.description)},\n    markers: ${JSON.stringify(t.markers)},\n    source: ${JSON.stringify(source)},\n  },`;
});
writeFileSync(new URL('src/text/builtin-templates.ts', root), `${head}export const BUILTIN_TEMPLATES: readonly BuiltinTemplate[] = Object.freeze([\n${entries.join('\n')}\n]);\n`);
console.log(`wrote src/text/builtin-templates.ts (${templates.map((t) => t.name).join(', ')})`);
