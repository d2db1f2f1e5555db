// check.js: the little harness of the module checks (state_test.js,
// view_test.js): check compares as JSON and remembers failures; finish
// runs the checks and leaves window.moduleTest = {ran, failures} for the
// Go test to read.

const failures = [];
let ran = 0;

export function check(name, got, want) {
  ran++;
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) failures.push(`${name}: got ${g}, want ${w}`);
}

export function finish(run) {
  run().catch((e) => failures.push('threw: ' + ((e && e.stack) || e))).finally(() => {
    sessionStorage.clear();
    window.moduleTest = { ran, failures };
  });
}
