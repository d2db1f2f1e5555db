#!/bin/sh
# fuzz.sh runs the fuzz targets issue 12 asks for, one at a time, each for a
# bounded time (FUZZTIME, default 15s; go test's -fuzztime syntax, so "500x"
# works too). Each target starts from its corpus checked in under
# <package>/testdata/fuzz/<target>/ plus its f.Add seeds. A failing input is
# written there by go test: fix the bug, keep the file, commit both.
#
#	scripts/fuzz.sh                      # every target (make test runs this)
#	FUZZTIME=2m scripts/fuzz.sh FuzzReader  # one target, longer
#
# The runs use -short and never ask for ejabberd: no fuzz target needs it.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-15s}
unset SPARKGATE_REQUIRE_INTEGRATION

# package target, one per line.
targets='./xmppconn FuzzTranslate
./xmppconn FuzzReader
./xmppconn FuzzDecodeStanza
./auth FuzzVerify
./gateway FuzzParseDateFilter
./gateway FuzzExtractMeta
./webpush FuzzParseSubscription'

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
		if ! $GO test -short -count=1 -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "$pkg"; then
			failed="$failed $name"
		fi
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
