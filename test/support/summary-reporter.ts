/**
 * A node:test reporter that ends the run with one "N passed, N failed" line (plus skipped/todo when there are
 * any), as the project's conventions ask; used beside the built-in `spec` reporter.
 */
import type { TestEvent } from 'node:test/reporters';

export default async function* summaryReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    // Count leaf tests only: a suite passes when its tests do and would otherwise be counted twice.
    if (event.type === 'test:pass' && event.data.details.type !== 'suite') {
      if (event.data.skip || event.data.todo) skipped++;
      else passed++;
    } else if (event.type === 'test:fail') {
      // A suite or file fails by itself (a hook threw, a file did not load) or because its tests did.
      const cause = (event.data.details.error as { failureType?: string } | undefined)?.failureType;
      if (cause !== 'subtestsFailed') failed++;
    }
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
