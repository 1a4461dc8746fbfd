/** Running documentation examples, which import the package by name, against this checkout's sources. */
import { fileURLToPath } from 'node:url';

/**
 * `ts` with every `from 'decision-tree-reward'` and `from 'decision-tree-reward/<entry>'` pointing
 * at src/index.ts or src/<entry>.ts, so an example runs as a user would write it.
 */
export function importFromSources(ts: string): string {
  return ts.replace(
    /from 'decision-tree-reward(?:\/([a-z-]+))?'/g,
    (_, entry: string | undefined) => `from ${JSON.stringify(fileURLToPath(new URL(`../../src/${entry ?? 'index'}.ts`, import.meta.url)))}`,
  );
}
