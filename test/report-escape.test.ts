/**
 * Hostile text in reports: markup, quotes, bidirectional controls, control characters and a
 * 1 MB response. The page itself is checked in Chromium in report-browser.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildComparisonReport } from '../src/report/comparison.js';
import { buildDatasetReport } from '../src/report/dataset.js';
import { escapeHtml, escapeUserText, markdownFence, markdownInline } from '../src/report/escape.js';
import { renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderJson } from '../src/report/render.js';
import { validateReport } from '../src/report/schema.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { CARD, HOSTILE, megabyte } from './support/report-fixtures.js';

/** Markdown without its fenced code blocks (whose content is literal by definition). */
function outsideFences(md: string): string {
  return md.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '');
}

const llama = PreferenceTree.load('rlhflow-llama-3.1-8b').with({ name: 'tree <b>"bold"</b>', description: `desc ${HOSTILE.script}` });

describe('escaping helpers', () => {
  it('escapeHtml escapes markup and quotes and makes control characters visible', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(escapeHtml('a\u0000b\u0007c\u007F\uD800')).toBe('a\u2400b\u2407c\u2421\uFFFD');
    expect(escapeHtml('tab\tnew\nline')).toBe('tab\tnew\nline');
  });

  it('escapeUserText shows bidi overrides and isolates as visible markers', () => {
    const out = escapeUserText('a\u202Eb\u2066c');
    expect(out).toBe(
      'a<span class="ctl" title="U+202E (a bidirectional control character)">⟨RLO⟩</span>b<span class="ctl" title="U+2066 (a bidirectional control character)">⟨LRI⟩</span>c',
    );
    expect(out).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  it('markdownInline neutralises Markdown and HTML', () => {
    expect(markdownInline('*a* | `b` [c](d) <e> &amp; x')).toBe('\\*a\\* \\| \\`b\\` \\[c\\](d) &lt;e> &amp;amp; x');
    expect(markdownInline('> quote')).toBe('\\> quote');
    expect(markdownInline('two\nlines')).toBe('two lines');
  });

  it('markdownFence picks a fence longer than any backtick run inside', () => {
    const block = markdownFence(HOSTILE.fence);
    expect(block.startsWith('`````text\n')).toBe(true);
    expect(block.endsWith('\n`````')).toBe(true);
    expect(block).toContain('````'); // the text's own run, kept
  });
});

describe('hostile text in a comparison report', () => {
  const big = megabyte();
  const r = buildComparisonReport(llama, {
    ...CARD,
    prompt: `${HOSTILE.script} ${HOSTILE.attr} ${HOSTILE.closing}`,
    responseA: `${HOSTILE.rtl}\n${HOSTILE.control}\n${HOSTILE.fence}`,
    responseB: big,
    id: HOSTILE.attr,
    subset: HOSTILE.script,
    source: HOSTILE.closing,
  });
  const html = renderHtml(r);
  const md = renderMarkdown(r);

  it('puts no markup of the text into the HTML', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('<h1>fake');
    expect(html).not.toContain('<b>"bold"</b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;');
    expect(html).toContain('&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('tree &lt;b&gt;&quot;bold&quot;&lt;/b&gt;');
    // Exactly the page's own structure: one <main>, one </details> per folded text.
    expect(html.match(/<main>/g)).toHaveLength(1);
    expect(html.match(/<\/main>/g)).toHaveLength(1);
    expect(html.match(/<details>/g)?.length).toBe(html.match(/<\/details>/g)?.length);
  });

  it('forbids scripts and network with a Content-Security-Policy and uses no external resources', () => {
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/@import|@font-face|url\((?!#)/i);
  });

  it('makes bidi controls visible and never emits them raw', () => {
    expect(html).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(html).toContain('⟨RLO⟩');
    expect(html).toContain('⟨RLI⟩');
    expect(html).toContain('\u200F'); // a plain right-to-left mark stays: it is legitimate in RTL text
    expect(r.warnings.some((w) => w.startsWith('Response A contains 4 bidirectional control characters'))).toBe(true);
    expect(html).toContain('<bdi class="u">');
  });

  it('replaces control characters and lone surrogates', () => {
    expect(html).not.toMatch(/[\u0000\u0007\u007F]/);
    expect(html).toContain('nul\u2400bell\u2407del\u2421 lone\uFFFDsurrogate');
  });

  it('folds the 1 MB response behind <details> with a preview, keeping all of it', () => {
    expect(html).toMatch(/<details><summary>Show the whole response b \(1,048,576 characters, [\d,]+ lines\)<\/summary>/);
    const escapedBig = big.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect(html).toContain(escapedBig);
    // Response A is short: shown whole, not folded.
    expect(html).toContain('<div class="label">Response A <span class="muted">');
  });

  it('keeps Markdown literal: text only inside fences or escaped', () => {
    const prose = outsideFences(md);
    expect(prose.length).toBeLessThan(md.length - (1 << 20));
    expect(prose).not.toContain('<script');
    expect(prose).not.toContain('<img');
    expect(prose).not.toContain('<h1>fake');
    expect(md).toContain('```text\n<script>alert("xss")</script>'); // literal inside the prompt's code block
    expect(md).toContain('Id: &quot;'.replace('&quot;', '"')); // quotes need no escaping in Markdown text
    expect(md).toContain('Subset: &lt;script>alert("xss")&lt;/script>');
    expect(md).toMatch(/<details><summary>Response B \(1,048,576 characters, [\d,]+ lines\)<\/summary>\n\n```text\nx{20000}\n/);
    expect(md).toContain('`````text\n⟨RLO⟩'.slice(0, 10));
    expect(md).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  it('keeps the raw text in JSON, which round-trips', () => {
    const json = renderJson(r);
    const back = validateReport(JSON.parse(json));
    expect(back.success).toBe(true);
    if (!back.success) return;
    expect(back.report.kind === 'comparison' && back.report.texts.b).toBe(big);
    expect(back.report.kind === 'comparison' && back.report.texts.a).toContain('\u202E');
  });
});

describe('hostile text in a dataset report', () => {
  it('escapes subset names, ids and example texts', () => {
    const n = 2;
    const a = Float64Array.from([1, 1, 1, 1, 1, 3, 3, 3, 1, 1]);
    const b = Float64Array.from([3, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    const r = buildDatasetReport(llama, {
      n,
      a,
      b,
      labels: Uint8Array.from([1, 0]),
      subsets: [HOSTILE.script, HOSTILE.attr],
      ids: [HOSTILE.closing, HOSTILE.rtl],
      texts: { prompt: [HOSTILE.script, null], a: [HOSTILE.attr, null], b: [megabyte(), null] },
      source: HOSTILE.attr,
    });
    const html = renderHtml(r);
    expect(html).not.toMatch(/<script|<img|<h1>fake/i);
    expect(html).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(r.hardest).toHaveLength(2);
    const md = outsideFences(renderMarkdown(r));
    expect(md).not.toMatch(/<script|<img|<h1>fake/i);
  });
});
