/**
 * Takes a PNG screenshot of an HTML report in Debian's Chromium (JavaScript disabled), for the
 * README and docs/reports.md:
 *
 *   npx tsx scripts/report-screenshot.ts report.html docs/images/report.png [--width 1280] [--height 1300] [--from '#compare'] [--hide SELECTOR] [--scale 1.5]
 *
 * `--from SELECTOR` starts the picture at that element (e.g. a section heading); `--height`
 * is the height of the picture in CSS pixels (0 = the whole page from there on). `--hide
 * SELECTOR` leaves the matching elements out of the picture (CSS `display: none`), to show
 * sections that lie far apart on the page together; say so where the picture is shown.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

export async function screenshot(
  input: string,
  output: string,
  o: { width: number; height: number; from?: string; hide?: string; scale: number },
): Promise<void> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
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
  try {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: o.width, height: 900 },
      deviceScaleFactor: o.scale,
    });
    const page = await context.newPage();
    await page.goto(pathToFileURL(resolve(input)).href);
    if (o.hide) {
      const hidden = await page.locator(o.hide).count();
      if (hidden === 0) throw new Error(`no element matches --hide ${o.hide}`);
      // Through the DOM: the page runs no script (and its CSP refuses added style elements).
      await page
        .locator(o.hide)
        .evaluateAll((els) =>
          els.forEach((el) =>
            (el as unknown as { style: { setProperty(name: string, value: string, priority: string): void } }).style.setProperty(
              'display',
              'none',
              'important',
            ),
          ),
        );
    }
    const full = (await page.evaluate('document.documentElement.scrollHeight')) as number;
    let top = 0;
    if (o.from) {
      const box = await page.locator(o.from).first().boundingBox();
      if (!box) throw new Error(`no element matches ${o.from}`);
      top = Math.max(0, Math.floor(box.y) - 12);
    }
    const height = o.height > 0 ? Math.min(o.height, full - top) : full - top;
    mkdirSync(dirname(resolve(output)), { recursive: true });
    await page.screenshot({ path: output, fullPage: true, clip: { x: 0, y: top, width: o.width, height } });
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: {
      width: { type: 'string', default: '1280' },
      height: { type: 'string', default: '1300' },
      from: { type: 'string' },
      hide: { type: 'string' },
      scale: { type: 'string', default: '1.5' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 2) {
    console.error(
      'usage: npx tsx scripts/report-screenshot.ts REPORT.html OUT.png [--width W] [--height H] [--from SELECTOR] [--hide SELECTOR] [--scale S]',
    );
    process.exitCode = 2;
  } else {
    await screenshot(positionals[0]!, positionals[1]!, {
      width: Number(values.width),
      height: Number(values.height),
      scale: Number(values.scale),
      ...(values.from ? { from: values.from } : {}),
      ...(values.hide ? { hide: values.hide } : {}),
    });
    console.log(`wrote ${positionals[1]}`);
  }
}
