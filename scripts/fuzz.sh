#!/bin/sh
# fuzz.sh runs every fuzz target of the module, one at a time, each for a
# bounded time (FUZZTIME, default 3s; go test's -fuzztime syntax, so "500x"
# works too). Each target starts from its corpus checked in under
# <package>/testdata/fuzz/<target>/ plus its f.Add seeds. A failing input is
# written there: fix the bug, keep the file, commit both.
#
#	scripts/fuzz.sh                      # every target (make test runs this)
#	FUZZTIME=2m scripts/fuzz.sh FuzzReader  # one target, longer
#
# Each package's fuzzing test binary is built once (go test -c -fuzz) and
# run for each of its targets, as go test -fuzz would run it. go test -fuzz
# per target linked the binary again every time: about 3 s a target, 90 s
# for the 31 on two cores, more than half of the fuzzing proper.
#
# The runs use -short and never ask for ejabberd: no fuzz target needs it.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
# 1 s, not 5, 3 or 2: the targets run after go test has ended, one after
# the other (at the lowest priority beside go test, their first build
# waited for all of go test: "FuzzPasskeyResponse took 850s", make test,
# 2026-12-06, 17 min 34 s in all, 4 of them this tail). Each target's seed
# corpus and baseline run every time, and go test runs every seed corpus
# as a test as well; the fuzzing proper is what a second less costs, 35
# targets × 2 workers a run.
FUZZTIME=${FUZZTIME:-1s}
unset SPARKGATE_REQUIRE_INTEGRATION

# package target, one per line: every Fuzz function in the module's test
# files, so a new fuzz target is run without being listed here. The
# gateway's last: its fuzzing binary is the largest build, and at the
# lowest priority beside go test it took all of go test's time (make
# test, 2026-12-06: "FuzzCredentialBody took 672s"), holding up every
# target after it until go test had ended; the small packages' go first
# and run in go test's gaps.
targets=$(grep -rn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . |
	sed -n 's|^\(.*\)/[^/]*_test\.go:[0-9]*:func \(Fuzz[A-Za-z0-9_]*\)(.*|\1 \2|p' | sort |
	awk '$1 == "./gateway" { last = last $0 "\n"; next } { print } END { printf "%s", last }')

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cache=$($GO env GOCACHE)/fuzz
module=$($GO list -m)

failed=""
ran=0
echo "$targets" | {
	while read -r pkg name; do
		if [ $# -gt 0 ]; then
			want=no
			for a in "$@"; do [ "$a" = "$name" ] && want=yes; done
			[ "$want" = yes ] || continue
		fi
		ran=$((ran + 1))
		echo "fuzz: $name ($pkg) for $FUZZTIME"
		start=$(date +%s)
		dir="$pkg/testdata/fuzz/$name"
		before=$(ls "$dir" 2>/dev/null | wc -l)
		log=$(mktemp)
		# The package's binary, instrumented for fuzzing; built on its
		# first target. Its path names the package (./a/b → a_b).
		test=$bin/$(echo "${pkg#./}" | tr / _).test
		ok=yes
		if [ ! -x "$test" ] && ! $GO test -c -fuzz=. -o "$test" "$pkg" >"$log" 2>&1; then
			ok=no
		fi
		# Run as go test runs it: in the package's directory (the corpus
		# and new failing inputs are there), go test's fuzz cache for it.
		if [ "$ok" = yes ] && ! (cd "$pkg" && "$test" -test.short -test.count=1 -test.run='^$' \
			-test.fuzz="^$name\$" -test.fuzztime="$FUZZTIME" -test.timeout=10m \
			-test.fuzzcachedir="$cache/$module/${pkg#./}") >>"$log" 2>&1; then
			ok=no
		fi
		if [ "$ok" = no ]; then
			after=$(ls "$dir" 2>/dev/null | wc -l)
			# Go 1.26's fuzz coordinator can report the end of -fuzztime as
			# a failure, "context deadline exceeded", with no failing input
			# (go.dev/issue/75804, fixed in Go 1.27). Only that exact
			# outcome is let through; any written input or other failure
			# fails the run. The let-through log's "--- FAIL" line is
			# renamed, so that a summary of failed tests (CI's) does not
			# list a target that did not fail the run.
			if [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$log" &&
				[ "$(grep -c -- '^--- FAIL' "$log")" -eq 1 ] && ! grep -q 'Failing input written\|panic:' "$log"; then
				sed 's/^--- FAIL: /--- NOT COUNTED (go.dev\/issue\/75804): /' "$log"
				echo "fuzz: $name: the end of -fuzztime was reported as a failure with no failing input (go.dev/issue/75804); not counted"
			else
				cat "$log"
				failed="$failed $name"
			fi
		else
			cat "$log"
		fi
		rm -f "$log"
		echo "fuzz: $name took $(($(date +%s) - start))s"
	done
	if [ "$ran" -eq 0 ]; then
		echo "fuzz: no target matches: $*" >&2
		exit 2
	fi
	if [ -n "$failed" ]; then
		echo "fuzz: FAILED:$failed (a failing input is under <package>/testdata/fuzz/<target>/; see above)" >&2
		exit 1
	fi
	echo "fuzz: $ran targets passed"
}
