/**
 * tap's --coverage-map: the files whose coverage a test file counts for. Coverage is measured for
 * src/ only (not the tests, bench, support or the demo), and only in the test's own process.
 *
 * tap records V8 coverage in every process a test starts (its env and NODE_OPTIONS are
 * inherited). The tests below run src/ in child processes, which then merge their own view of
 * src/ into the report: they are left out (null: no coverage recorded for the test or its
 * children). Every other test runs src/ in-process; its children are redis-server and sh only.
 */
const CHILD_PROCESS_TESTS = new Set([
  // each bench scenario server is a child process that loads src/ through tsx
  'test/bench-smoke.test.ts',
  // runs tsc in a child process: nothing of src/ executes, and tsc's own run is not ours to count
  'test/types.test.ts',
  // starts the demo (examples/tasks-api/server.ts, which loads src/ through tsx) as `npm run demo` does
  'test/demo-logs.test.ts'
])

export default function coverageMap (testFile) {
  return CHILD_PROCESS_TESTS.has(testFile) ? null : ['src/**/*.ts']
}
