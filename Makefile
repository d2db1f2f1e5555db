# The two commands: `make dev` and `make test`. Both install what is missing.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: dev cluster test deps deps-dev generate check-generate fmt-check vet bench soak build sdk

build:
	$(GO) build -o bin/ ./cmd/...

deps-dev:
	scripts/install-deps.sh ejabberd

deps:
	scripts/install-deps.sh ejabberd chromium postgresql nats node prosody

# dev starts a private ejabberd and the gateway with the web client under ./.dev/;
# NODES=3 starts a cluster instead (see cluster).
NODES ?= 1
dev: deps-dev
	$(if $(filter-out 1,$(NODES)),scripts/install-deps.sh postgresql nats)
	$(GO) run ./cmd/sparkdev -nodes $(NODES)

# cluster starts ejabberd, a private NATS with JetStream, a private PostgreSQL,
# three gateway nodes and a round-robin proxy on one URL (NODES=N for another count).
cluster: NODES = 3
cluster: deps-dev
	scripts/install-deps.sh postgresql nats
	$(GO) run ./cmd/sparkdev -nodes $(NODES)

generate:
	$(GO) generate ./...

# sdk regenerates the TypeScript SDK's types from openapi.yaml
# (sdk/typescript/src/schema.gen.ts, committed), builds the package into
# sdk/typescript/dist (not committed) and copies its ESM bundle to
# web/static/sparkgate-client.js (committed: the gateway serves it, and the
# web client stays build-free). make test fails when either committed file
# differs from what the spec and the sources make (TestSDKTypesAreFresh,
# TestSDKBuild).
sdk:
	scripts/install-deps.sh node
	cd sdk/typescript && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && npm run generate && npm run build
	cp sdk/typescript/dist/sparkgate-client.js web/static/sparkgate-client.js

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# test: everything, with the race detector, against a real ejabberd and Chromium.
# -count=1: the integration tests talk to servers the build cache knows
# nothing about, so a cached pass would prove nothing. -parallel 4: the
# integration tests marked parallel mostly wait on ejabberd, so four at a
# time keep two cores busy. -p 3: three packages' test binaries at once
# (go test's default is one per core): the long ones (web, gateway,
# xmppconn) wait on servers and Chromium much of the time. Then each fuzz target
# of issue 12 runs for FUZZTIME (default 10s) from its checked-in corpus.
test: deps fmt-check vet
	SPARKGATE_REQUIRE_INTEGRATION=1 $(GO) test -race -count=1 -p 3 -parallel 4 -timeout 14m ./...
	GO=$(GO) scripts/fuzz.sh

bench: deps-dev
	scripts/install-deps.sh postgresql nats
	$(GO) run ./cmd/sparkbench

# soak: 1,000 users chatting for 10 minutes, then logging out; writes bench/soak.json.
soak: deps-dev
	$(GO) run ./cmd/sparkbench -only soak -out bench/soak.json
