#!/bin/sh
# test.sh is make test's body after gofmt and vet: go test of the whole
# module with the race detector against the real servers, and beside it every
# fuzz target (scripts/fuzz.sh) at the lowest CPU priority.
#
# Why side by side: the test packages wait on ejabberd, Chromium and NATS
# part of the time, and the fuzz phase is mostly CPU (an instrumented build
# per package, then FUZZTIME per target). `nice -n 19` gives the tests
# every cycle they ask for and the fuzzers what is left. On fresh clones
# on two cores with a warm build cache (2026-12-05, 830 and 833 s in all),
# 25 and about 13 of the 31 targets were done when go test ended, and the
# rest took 49 and 112 s more. fuzz.sh builds one binary per package for
# that: when every target linked its own (about 3 s each), the run before
# them, with the fuzzing builds not yet cached, had all 31 left when go
# test ended (1,044 s in all). The fuzz log is printed after go test's,
# so the two do not mix.
#
# Exit status: non-zero when either failed; go test's failure is reported
# first. GO names the go command (default go).
set -u
cd "$(dirname "$0")/.."
GO=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

GO=$GO nice -n 19 scripts/fuzz.sh >"$log" 2>&1 &
fuzz=$!

# -count=1: the integration tests talk to servers the build cache knows
# nothing about, so a cached pass would prove nothing. -parallel 4: the
# integration tests marked parallel mostly wait on ejabberd, so four at a
# time keep two cores busy. -p 3: three packages' test binaries at once (go
# test's default is one per core): the long ones wait on servers and
# Chromium much of the time.
#
# The two longest packages go first (go test starts test binaries in the
# order it is given them): web (Chromium, about 7 minutes) and gateway
# (about 3.5). Listed alphabetically, web started last, when the others
# were done, and ran alone for its 7 minutes: go test took 12.5 minutes,
# then the fuzz targets the nice level had held back ran after it (16.8
# in all on a fresh clone, 2026-12-05).
first="./web ./gateway"
rest=$($GO list ./... | grep -v -e '/sparkgate/web$' -e '/sparkgate/gateway$')
#
# -timeout 20m is a guard against a hung test, not the budget: on a slower
# machine of the same kind (2026-12-05, every benchmark 30-80 % slower for
# both sides) web alone took 786 s, close to the 14 minutes this was.
SPARKGATE_REQUIRE_INTEGRATION=1 $GO test -race -count=1 -p 3 -parallel 4 -timeout 20m $first $rest
tests=$?

wait "$fuzz"
fuzzed=$?
echo "---- scripts/fuzz.sh (ran beside go test)"
cat "$log"

if [ "$tests" -ne 0 ]; then
	echo "make test: go test FAILED (exit $tests)" >&2
	exit "$tests"
fi
if [ "$fuzzed" -ne 0 ]; then
	echo "make test: fuzzing FAILED (exit $fuzzed)" >&2
	exit "$fuzzed"
fi
