/**
 * Worker thread that renders and tokenizes conversations, so the next batch is tokenized while
 * the current one runs: onnxruntime-node's `session.run` occupies the main thread for the whole
 * forward pass, so overlap needs a second thread. Started by {@link EncoderWorker}.
 *
 * May import: its own folder (text/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never backbone/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ConversationEncoder } from './encoder.js';
import { ChatTemplate } from './template.js';
import { TextTokenizer } from './tokenizer.js';
import type { EncodeRequest, EncoderSpec, WorkerReply } from './worker-client.js';
import { serializeError } from './worker-client.js';

const port = parentPort;
if (port) {
  let encoder: ConversationEncoder | null = null;
  try {
    const spec = workerData as EncoderSpec;
    const tokenizer = TextTokenizer.fromJSON(
      JSON.parse(readFileSync(spec.tokenizerPath, 'utf8')),
      JSON.parse(readFileSync(spec.tokenizerConfigPath, 'utf8')),
      spec.tokenizerPath,
    );
    const template = new ChatTemplate(
      spec.chatTemplate,
      { bos_token: tokenizer.bosToken, eos_token: tokenizer.eosToken, pad_token: tokenizer.padToken, unk_token: tokenizer.unkToken },
      spec.templateVariables,
    );
    encoder = new ConversationEncoder(tokenizer, template, { maxLength: spec.maxLength });
    port.postMessage({ type: 'ready' } satisfies WorkerReply);
  } catch (error) {
    port.postMessage({ type: 'init-error', error: serializeError(error) } satisfies WorkerReply);
  }
  port.on('message', (msg: { id: number; items: EncodeRequest[] }) => {
    if (!encoder) return;
    const results: Extract<WorkerReply, { type: 'encoded' }>['results'] = [];
    const transfer: ArrayBuffer[] = [];
    for (const item of msg.items) {
      try {
        const e = encoder.encode(item.prompt, item.response, item.params);
        results.push({ ok: true, ids: e.ids, truncation: e.truncation });
        transfer.push(e.ids.buffer as ArrayBuffer);
      } catch (error) {
        results.push({ ok: false, error: serializeError(error) });
      }
    }
    port.postMessage({ type: 'encoded', id: msg.id, results } satisfies WorkerReply, transfer);
  });
}
