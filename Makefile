# The two commands: `make dev` and `make test`. Both install what is missing.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: dev cluster test deps deps-dev generate check-generate fmt-check vet bench soak build sdk

build:
	$(GO) build -o bin/ ./cmd/...

deps-dev:
	scripts/install-deps.sh $(SERVER)

deps:
	scripts/install-deps.sh ejabberd chromium postgresql nats node prosody

# dev starts a private ejabberd and the gateway with the web client under ./.dev/;
# NODES=3 starts a cluster instead (see cluster); SERVER=prosody starts a
# private Prosody instead of ejabberd (one node; password, TOTP and passkey logins).
NODES ?= 1
SERVER ?= ejabberd
dev: deps-dev
	$(if $(filter-out 1,$(NODES)),scripts/install-deps.sh postgresql nats)
	$(GO) run ./cmd/sparkdev -nodes $(NODES) -server $(SERVER)

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

# test: everything, with the race detector, against a real ejabberd, NATS,
# PostgreSQL, Prosody and Chromium; every fuzz target runs beside go test for
# FUZZTIME (default 1s) at the lowest CPU priority (scripts/test.sh says why).
test: deps fmt-check vet
	GO=$(GO) scripts/test.sh

bench: deps-dev
	scripts/install-deps.sh postgresql nats
	$(GO) run ./cmd/sparkbench

# soak: 1,000 users chatting for 10 minutes, then logging out; writes bench/soak.json.
soak: deps-dev
	$(GO) run ./cmd/sparkbench -only soak -out bench/soak.json
