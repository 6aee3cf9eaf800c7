// Sums the JSON reports of a CI run into one "N passed, N failed" line; a missing report is a failure.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const [dir, failedSteps = "0"] = process.argv.slice(2);
const expected = [
  "vitest-pglite.json",
  "vitest-postgres.json",
  "e2e-pglite.json",
  "e2e-postgres.json",
];
let passed = 0;
let failed = Number(failedSteps);
for (const f of expected) {
  const p = path.join(dir, f);
  if (!existsSync(p)) {
    console.log(`${f}: missing (counted as one failure)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(p, "utf8"));
  // Vitest's JSON report, or Playwright's (stats.expected / unexpected / flaky)
  const pass = r.stats
    ? (r.stats.expected ?? 0) + (r.stats.flaky ?? 0)
    : (r.numPassedTests ?? 0);
  const fail = r.stats
    ? (r.stats.unexpected ?? 0) + (r.errors?.length ?? 0)
    : (r.numFailedTests ?? 0) +
      (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0);
  console.log(`${f}: ${pass} passed, ${fail} failed`);
  passed += pass;
  failed += fail;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
