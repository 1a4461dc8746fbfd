/**
 * The report's zod schemas (report/schema.ts, which validate reports read back) and its
 * TypeScript contracts (report/types.ts, which the builders fill) describe the same data. The
 * check is a compile-time one, run by `npm run typecheck` over test/ with `strict` on; it lives
 * here, not in src/, so it never ships in a .d.ts where a consumer's settings could break it.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { comparisonReportSchema, datasetReportSchema } from '../src/report/schema.js';
import type { ComparisonReport, DatasetReport } from '../src/report/types.js';

/** The contracts' readonly arrays and fields as zod infers them (mutable). */
type Mutable<T> = T extends readonly (infer U)[] ? Mutable<U>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;

describe('report schemas and types', () => {
  it('the comparison report schema infers exactly the ComparisonReport type', () => {
    expectTypeOf<z.infer<typeof comparisonReportSchema>>().toEqualTypeOf<Mutable<ComparisonReport>>();
  });

  it('the dataset report schema infers exactly the DatasetReport type', () => {
    expectTypeOf<z.infer<typeof datasetReportSchema>>().toEqualTypeOf<Mutable<DatasetReport>>();
  });
});
