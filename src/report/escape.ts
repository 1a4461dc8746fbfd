/**
 * Escaping for reports. Every user-supplied string (prompts, responses, ids, subset and tree
 * names) goes through one of these before it reaches HTML, SVG or Markdown.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */

/** Bidirectional embedding, override and isolate controls: they can reorder the text around them. */
const BIDI = /[\u202A-\u202E\u2066-\u2069]/g;
const BIDI_NAMES: Record<string, string> = {
  '\u202A': 'LRE',
  '\u202B': 'RLE',
  '\u202C': 'PDF',
  '\u202D': 'LRO',
  '\u202E': 'RLO',
  '\u2066': 'LRI',
  '\u2067': 'RLI',
  '\u2068': 'FSI',
  '\u2069': 'PDI',
};
// C0 controls other than tab, newline and carriage return, DEL, and lone surrogates: invisible or invalid in a page.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Number of bidirectional override/embedding/isolate controls in `text`.
 *
 * @example
 * ```ts
 * countBidiControls('invoice\u202Etxt.exe'); // 1
 * ```
 */
export function countBidiControls(text: string): number {
  return text.match(BIDI)?.length ?? 0;
}

/**
 * Escapes text for HTML element content and attribute values (`&`, `<`, `>`, `"`, `'`).
 * Control characters become visible control pictures (U+2400 block) or U+FFFD.
 *
 * @example
 * ```ts
 * escapeHtml('<script>"x"</script>'); // '&lt;script&gt;&quot;x&quot;&lt;/script&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return replaceControls(text).replace(/[&<>"']/g, (c) => ENTITY[c]!);
}

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes user text for display in HTML and makes bidirectional controls visible
 * (`⟨RLO⟩`), so a hostile right-to-left override cannot disguise what the text says.
 *
 * @example
 * ```ts
 * escapeUserText('a\u202Eb'); // 'a<span class="ctl" title="U+202E ...">⟨RLO⟩</span>b'
 * ```
 */
export function escapeUserText(text: string): string {
  const parts = replaceControls(text).split(BIDI);
  const controls = text.match(BIDI) ?? [];
  let out = '';
  parts.forEach((part, i) => {
    out += part.replace(/[&<>"']/g, (c) => ENTITY[c]!);
    const c = controls[i];
    if (c !== undefined) {
      const code = c.codePointAt(0)!.toString(16).toUpperCase();
      out += `<span class="ctl" title="U+${code} (a bidirectional control character)">⟨${BIDI_NAMES[c]}⟩</span>`;
    }
  });
  return out;
}

/**
 * User text for Markdown code blocks and plain text: controls made visible, nothing else changed.
 *
 * @example
 * ```ts
 * visibleControls('a\u202Eb'); // 'a⟨RLO⟩b'
 * ```
 */
export function visibleControls(text: string): string {
  return replaceControls(text).replace(BIDI, (c) => `⟨${BIDI_NAMES[c]}⟩`);
}

function replaceControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x7f) return '\u2421';
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    return '\uFFFD';
  });
}

/**
 * Escapes text for a Markdown paragraph or table cell: Markdown punctuation is backslash-escaped,
 * `<` (which could open an HTML tag) and entity-like `&` are entity-escaped, a leading block
 * marker (`>`, `#`, `-`...) is escaped, newlines become spaces and bidi controls are made visible.
 *
 * @example
 * ```ts
 * markdownInline('a | b *c* <b>'); // 'a \\| b \\*c\\* &lt;b>'
 * ```
 */
export function markdownInline(text: string): string {
  return visibleControls(text)
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&(?=#?\w+;)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/^(\s*)([>#+=-])/, '$1\\$2');
}

/**
 * A fenced Markdown code block holding `text` literally: the fence is longer than any run of
 * backticks inside, so no text can close it early.
 *
 * @example
 * ```ts
 * markdownFence('a ``` b'); // '````text\na ``` b\n````'
 * ```
 */
export function markdownFence(text: string, info = 'text'): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const body = visibleControls(text).replace(/\r\n?/g, '\n');
  return `${fence}${info}\n${body}${body.endsWith('\n') ? '' : '\n'}${fence}`;
}
