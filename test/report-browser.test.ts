/**
 * Reports in a real browser: Debian's Chromium driven by playwright-core. Asserts that the
 * highlighted path and the key numbers are visible, that hostile text stays text, that nothing
 * is fetched, and writes PNG screenshots under test-output/ for a person to look at.
 * CI installs chromium (.ci/run); without /usr/bin/chromium these tests skip, saying so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComparisonReport } from '../src/report/comparison.js';
import { buildDatasetReport } from '../src/report/dataset.js';
import { renderHtml } from '../src/report/html.js';
import { datasetInputFromRows } from '../src/report/input.js';
import { parsePairRows } from '../src/data/text-rows.js';
import type { DatasetInput, Report } from '../src/report/types.js';
import { SeededRandom } from '../src/util/random.js';
import { readJsonl } from '../src/io/jsonl.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { CARD, FLAT, HOSTILE, SMALL_PAIRS, megabyte } from './support/report-fixtures.js';
import { need, skipNote } from './support/needs.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('../test-output/', import.meta.url));
const VIEWPORT = { width: 1366, height: 900 };
const llama = PreferenceTree.load('rlhflow-llama-3.1-8b');
const human = PreferenceTree.load('helpsteer2-human');

let browser: Browser;

/** A depth-6 tree with 56 leaves, fitted on 2,000 seeded random pairs (labels from a noisy linear rule), and those pairs. */
function deepTree(): { tree: PreferenceTree; input: DatasetInput } {
  const n = 2000;
  const rng = new SeededRandom(5);
  const a = new Float64Array(n * 5);
  const b = new Float64Array(n * 5);
  const d = new Float64Array(n * 5);
  const labels = new Uint8Array(n);
  const w = [1, 0.8, 0.4, -0.2, -0.3];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < 5; k++) {
      a[i * 5 + k] = 4 * rng.next();
      b[i * 5 + k] = 4 * rng.next();
      d[i * 5 + k] = a[i * 5 + k]! - b[i * 5 + k]!;
      s += d[i * 5 + k]! * w[k]!;
    }
    labels[i] = rng.next() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
  }
  return { tree: PreferenceTree.fitArrays(d, labels, { maxDepth: 6, name: 'depth-6' }), input: { n, a, b, labels } };
}

async function open(
  report: Report,
  name: string,
  options: { javaScript: boolean },
): Promise<{ page: Page; context: BrowserContext; requests: string[] }> {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${name}.html`);
  writeFileSync(file, renderHtml(report));
  const context = await browser.newContext({ javaScriptEnabled: options.javaScript, viewport: VIEWPORT });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  return { page, context, requests };
}

const chromiumNeed = need('chromium');

describe.skipIf(!chromiumNeed.present)(`reports in Chromium${skipNote(chromiumNeed)}`, () => {
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('single comparison, JavaScript disabled: the highlighted path and key numbers are visible', async () => {
    const { page, context, requests } = await open(buildComparisonReport(llama, CARD), 'report-single', { javaScript: false });
    try {
      const onPath = page.locator('svg.tree g.node.on-path');
      expect(await onPath.evaluateAll((els) => els.map((e) => e.getAttribute('data-node')))).toEqual(['0', '8', '12', '14']);
      for (const node of await onPath.all()) expect(await node.isVisible()).toBe(true);
      // The taken path is drawn thick, the rest thin.
      expect(await onPath.evaluateAll((els) => els.map((e) => e.querySelector('rect:last-of-type')!.getAttribute('stroke-width')))).toEqual(
        ['3.5', '3.5', '3.5', '3.5'],
      );
      expect(await page.locator('svg.tree g.node:not(.on-path):not(.on-mirror) > rect').first().getAttribute('stroke-width')).toBe('1');
      expect(await page.locator('svg.tree path.edge.on-path').count()).toBe(3);
      expect(await page.locator('svg.tree .path-label').allTextContents()).toEqual(['+1.790', '+1.769', '+1.790']);
      // The mirrored reading (B − A) is drawn too.
      expect(await page.locator('svg.tree g.node.on-mirror').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')))).toEqual([
        '0',
        '1',
        '2',
        '3',
      ]);
      const main = page.locator('.p-main');
      expect(await main.isVisible()).toBe(true);
      expect(await main.textContent()).toBe('0.986');
      const text = await page.locator('main').innerText();
      expect(text).toContain('A preferred');
      expect(text).toContain('Leaf 14: 17.2% of training pairs, P(A) = 0.986');
      expect(text).toContain("B would win if A's helpfulness were 1.809 lower");
      expect(text).toMatch(/helpfulness\s+3\.960\s+2\.170\s+\+1\.790/);
      // Readable on a laptop: nothing wider than the window.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(VIEWPORT.width);
      expect(requests).toHaveLength(1);
      await page.screenshot({ path: join(OUT, 'report-single.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: join(OUT, 'report-single-print.png'), fullPage: true });
      const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true });
      expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
      writeFileSync(join(OUT, 'report-single.pdf'), pdf);
    } finally {
      await context.close();
    }
  });

  it('single comparison: shows the as-published probability when the readings differ', async () => {
    const { page, context } = await open(buildComparisonReport(llama, { a: FLAT, b: FLAT }), 'report-tie', { javaScript: false });
    try {
      expect(await page.locator('.p-published').textContent()).toBe('0.196');
      expect(await page.locator('.verdict').innerText()).toContain('the published rule decides B preferred');
      expect(await page.locator('svg.probbar circle.published').count()).toBe(1);
      await page.screenshot({ path: join(OUT, 'report-tie.png') });
    } finally {
      await context.close();
    }
  });

  it('dataset with --compare-tree: key numbers, reliability diagram and both trees are visible', async () => {
    const rows = parsePairRows(readJsonl(SMALL_PAIRS), 'pairs-small.jsonl', { need: 'scores' });
    const report = buildDatasetReport(llama, datasetInputFromRows(rows, 'pairs-small.jsonl'), { compareTree: human, bootstrap: 20 });
    const { page, context, requests } = await open(report, 'report-dataset', { javaScript: false });
    try {
      const cards = await page.locator('.cards').innerText();
      expect(cards).toContain('0.679');
      expect(cards).toContain('80.0%');
      expect(cards).toContain('Agreement with rlhflow-llama-3.1-8b'.replace('rlhflow-llama-3.1-8b', 'helpsteer2-human'));
      expect(await page.locator('svg.reliability').isVisible()).toBe(true);
      expect(await page.locator('svg.reliability circle.bin').count()).toBe(report.calibration!.bins.filter((b) => b.n > 0).length);
      expect(await page.locator('svg.tree').count()).toBe(2);
      expect(await page.locator('svg.importance').isVisible()).toBe(true);
      expect(await page.locator('svg.ruler').count()).toBe(5);
      expect(await page.locator('table.splits').innerText()).toContain('helpfulness ≤ 0.500');
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(VIEWPORT.width);
      expect(requests).toHaveLength(1);
      await page.screenshot({ path: join(OUT, 'report-dataset.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('a wide tree (depth 6, 56 leaves) opens on its root without JavaScript: the root is in view, the page does not jump', async () => {
    const { tree, input } = deepTree();
    expect(tree.depth).toBe(6);
    expect(tree.leaves().length).toBe(56);
    const dataset = buildDatasetReport(tree, input, { bootstrap: 0 });
    const { page, context } = await open(dataset, 'report-wide-dataset', { javaScript: false });
    try {
      const figure = page.locator('.figure.wide').first();
      const metrics = await figure.evaluate((e) => ({ scrollLeft: e.scrollLeft, scrollWidth: e.scrollWidth, clientWidth: e.clientWidth }));
      // Too wide to shrink to the page (2,600 px at full size, at least 62% of it): it scrolls, opened past its left edge.
      expect(metrics.scrollWidth).toBeGreaterThan(metrics.clientWidth);
      expect(metrics.scrollLeft).toBeGreaterThan(0);
      const root = (await figure.locator('g.node[data-node="0"]').boundingBox())!;
      const box = (await figure.boundingBox())!;
      expect(root.x).toBeGreaterThanOrEqual(box.x);
      expect(root.x + root.width).toBeLessThanOrEqual(box.x + box.width);
      expect(root.x).toBeGreaterThanOrEqual(0);
      expect(root.x + root.width).toBeLessThanOrEqual(VIEWPORT.width);
      // Centred: the root's middle within a box width of the figure's middle.
      expect(Math.abs(root.x + root.width / 2 - (box.x + box.width / 2))).toBeLessThan(root.width);
      // Readable: drawn at no less than 62% of its natural size.
      expect(root.width).toBeGreaterThanOrEqual(150 * 0.62 - 0.5);
      expect(await page.evaluate('window.scrollY')).toBe(0);
      expect(await page.locator('.scroll-hint').first().innerText()).toBe(
        'This tree is wider than the page: scroll the figure sideways to see all of it (the root is near the middle).',
      );
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(VIEWPORT.width);
      await figure.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(OUT, 'report-wide-dataset.png') });
    } finally {
      await context.close();
    }
    // One comparison through the same tree: the two paths fold the rest, 11 boxes across, shrunk to fit whole.
    const one = buildComparisonReport(tree, { a: CARD.a, b: CARD.b });
    const single = await open(one, 'report-wide-single', { javaScript: false });
    try {
      const figure = single.page.locator('.figure.wide').first();
      const metrics = await figure.evaluate((e) => ({ scrollLeft: e.scrollLeft, scrollWidth: e.scrollWidth, clientWidth: e.clientWidth }));
      expect(metrics.scrollWidth).toBe(metrics.clientWidth);
      for (const node of await figure.locator('g.node.on-path').all()) {
        const b = (await node.boundingBox())!;
        expect(b.x).toBeGreaterThanOrEqual(0);
        expect(b.x + b.width).toBeLessThanOrEqual(VIEWPORT.width);
      }
      expect(await single.page.locator('.scroll-hint').count()).toBe(0);
      await figure.scrollIntoViewIfNeeded();
      await single.page.screenshot({ path: join(OUT, 'report-wide-single.png') });
    } finally {
      await single.context.close();
    }
  });

  it('hostile text stays text with JavaScript enabled: no script runs, nothing is fetched, 1 MB folds', async () => {
    const report = buildComparisonReport(llama.with({ name: `tree ${HOSTILE.script}` }), {
      ...CARD,
      prompt: `${HOSTILE.script} ${HOSTILE.attr} ${HOSTILE.closing}`,
      responseA: `${HOSTILE.rtl}\n${HOSTILE.control}\n${HOSTILE.fence}`,
      responseB: megabyte(),
      id: HOSTILE.attr,
    });
    const { page, context, requests } = await open(report, 'report-hostile', { javaScript: true });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    try {
      await page.reload();
      expect(dialogs).toEqual([]);
      expect(await page.evaluate('document.querySelectorAll("script, img, iframe, object, embed").length')).toBe(0);
      expect(await page.evaluate('document.querySelectorAll("h1").length')).toBe(1);
      const text = await page.locator('main').innerText();
      expect(text).toContain('<script>alert("xss")</script>');
      expect(text).toContain(`"'><img src=x onerror=alert(1)>`);
      expect(text).toContain('</details></div></main><h1>fake</h1>');
      expect(text).toContain('invoice⟨RLO⟩txt.exe⟨PDF⟩');
      // The 1 MB response: a preview and a closed <details> with all of it.
      const details = page.locator('details').filter({ hasText: 'Show the whole response b' });
      expect(await details.count()).toBe(1);
      expect(await details.evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(false);
      expect(await details.locator('summary').isVisible()).toBe(true);
      expect(await details.locator('.text').evaluate((e) => e.textContent!.length)).toBe(1 << 20);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(VIEWPORT.width);
      expect(requests.every((u) => u.startsWith('file://'))).toBe(true);
      expect(requests.length).toBe(2); // the page, loaded twice
      await page.screenshot({ path: join(OUT, 'report-hostile.png'), fullPage: false });
      await page.locator('#texts').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(OUT, 'report-hostile-texts.png') });
    } finally {
      await context.close();
    }
  });
});
