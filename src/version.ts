/**
 * The package's name and version, read from package.json.
 *
 * May import: nothing of src/ at its own level (the bottom layer): node: built-ins and the dependencies only.
 * Never util/, The attributes: `ATTRIBUTES`, the one source of truth for the five HelpSteer2 attribute names
 * and their order, the `Attribute` type derived from it, score checks and vector helpers., errors.ts,
 * anything above (io/ ... cli/) (test/import-graph.test.ts).
 */
import { readFileSync } from 'node:fs';

// package.json sits one level above both src/ and dist/, so the same relative URL works for both.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

/** This package's name, e.g. `decision-tree-reward`. */
export const PACKAGE_NAME: string = pkg.name;
/** This package's version, e.g. `0.1.0`. */
export const VERSION: string = pkg.version;
/** `name@version`, as recorded in artifact provenance. */
export const PACKAGE_ID = `${PACKAGE_NAME}@${VERSION}`;
