// Prints one plain closing line, "N passed, N failed, N skipped", after vitest's own report; before
// it, which tests were skipped for want of a program, and how to get it. With ATMOS_TEST_REQUIRE_ALL
// (.ci/run) a skipped test fails the run.
import type { Reporter, TestModule } from 'vitest/node';
import { SKIP_MARK } from './requires.js';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const missing = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          const programs = SKIP_MARK.exec(test.fullName)?.[1] ?? '';
          missing.set(programs, (missing.get(programs) ?? 0) + 1);
        }
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    for (const [programs, count] of missing) {
      const tests = `${count} test${count === 1 ? '' : 's'} skipped`;
      process.stdout.write(programs ? `\n${tests}: ${programs} not installed — \`bash .ci/run\` as root installs them` : `\n${tests} by the tests themselves`);
    }
    if (skipped > 0 && process.env.ATMOS_TEST_REQUIRE_ALL) {
      process.stdout.write('\nATMOS_TEST_REQUIRE_ALL is set: a skipped test fails the run');
      process.exitCode = 1;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
