// Package typescript_test builds and tests the TypeScript SDK
// (@sparkgate/client) from Go, so that make test covers it: the committed
// types must be what openapi-typescript makes of openapi.yaml, the event
// map must name the spec's event schemas, and the Node tests must pass
// against a real gateway and ejabberd. npm installs the pinned toolchain
// (package-lock.json) into a cache outside the repository (internal/npmci).
package typescript_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate"
	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/npmci"
)

func TestMain(m *testing.M) { ejabberdtest.Main(browsertest.Wrap(m)) }

var toolchain struct {
	once sync.Once
	dir  string
	err  error
}

// modules answers the node_modules directory of the SDK's pinned
// toolchain, installing it the first time.
func modules(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs npm and the registry (-short)")
	}
	toolchain.once.Do(func() {
		pkg, err := os.ReadFile("package.json")
		if err != nil {
			toolchain.err = err
			return
		}
		lock, err := os.ReadFile("package-lock.json")
		if err != nil {
			toolchain.err = err
			return
		}
		dir, err := npmci.Install(context.Background(), "", "sdk-typescript", pkg, lock, "node_modules/typescript/bin/tsc")
		toolchain.dir, toolchain.err = filepath.Join(dir, "node_modules"), err
	})
	if toolchain.err != nil {
		t.Fatal(toolchain.err)
	}
	return toolchain.dir
}

// node runs node with args in dir and fails the test on an error.
func node(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no node found (install it with scripts/install-deps.sh node)")
	}
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// workdir copies the SDK's sources into a temporary directory beside the
// toolchain's node_modules, so that building never writes into the
// repository.
func workdir(t *testing.T) string {
	t.Helper()
	mods := modules(t)
	dir := t.TempDir()
	for _, name := range []string{"package.json", "tsconfig.json", "tsconfig.test.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"src", "test"} {
		if err := copyDir(d, filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(mods, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyDir copies the directory src (relative to the package) to dst.
func copyDir(src, dst string) error {
	return os.CopyFS(dst, os.DirFS(src))
}

// TestSDKTypesAreFresh regenerates src/schema.gen.ts from ../../openapi.yaml
// with the pinned openapi-typescript and fails when the committed file
// differs: the spec changed and `make sdk` was not run.
func TestSDKTypesAreFresh(t *testing.T) {
	t.Parallel()
	mods := modules(t)
	spec, err := filepath.Abs("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "schema.gen.ts")
	node(t, ".", nil, filepath.Join(mods, "openapi-typescript", "bin", "cli.js"), spec, "--output", out)
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("src/schema.gen.ts")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("sdk/typescript/src/schema.gen.ts is stale: run `make sdk` and commit the result")
	}
}

// TestSDKBuild type-checks the SDK and its tests and builds its ESM
// bundle, the file a page imports (dist/sparkgate-client.js), then imports
// it in Node.
func TestSDKBuild(t *testing.T) {
	t.Parallel()
	dir := workdir(t)
	node(t, dir, nil, "node_modules/typescript/bin/tsc", "-p", "tsconfig.test.json", "--noEmit")
	bundle(t, dir)
	got := node(t, dir, nil, "--input-type=module", "-e",
		`const m = await import("./dist/sparkgate-client.js"); console.log(typeof m.Sparkgate, typeof m.subscribePush)`)
	if strings.TrimSpace(got) != "function function" {
		t.Errorf("the ESM bundle exports Sparkgate and subscribePush as %q, want functions", got)
	}
	// The gateway serves a copy (web/static/sparkgate-client.js) for pages
	// to import: it must be this build.
	built, err := os.ReadFile(filepath.Join(dir, "dist", "sparkgate-client.js"))
	if err != nil {
		t.Fatal(err)
	}
	served, err := os.ReadFile("../../web/static/sparkgate-client.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, served) {
		t.Error("web/static/sparkgate-client.js is stale: run `make sdk` and commit the result")
	}
}

// bundle builds dist/sparkgate-client.js in dir, as make sdk does (npm run bundle).
func bundle(t *testing.T, dir string) {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal(npmci.ErrNoNPM)
	}
	cmd := exec.CommandContext(t.Context(), npm, "run", "--silent", "bundle")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm run bundle: %v\n%s", err, out)
	}
}

// eventLine is one entry of EventMap in src/events.ts.
var eventLine = regexp.MustCompile(`(?m)^\s*"([A-Za-z.]+)":\s*(S\["\w+"\](?:\s*\|\s*S\["\w+"\])*);`)
var schemaRef = regexp.MustCompile(`S\["(\w+)"\]`)

// TestSDKEventMap checks that src/events.ts maps each event to the schemas
// that x-sparkgate-events of openapi.yaml names for it.
func TestSDKEventMap(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("src/events.ts")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, m := range eventLine.FindAllStringSubmatch(string(src), -1) {
		for _, r := range schemaRef.FindAllStringSubmatch(m[2], -1) {
			got[m[1]] = append(got[m[1]], r[1])
		}
		sort.Strings(got[m[1]])
	}
	doc, err := openapi3.NewLoader().LoadFromData(sparkgate.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc.Paths.Find("/sparkweb/api/sse").Get.Responses.Status(200).Value.Extensions["x-sparkgate-events"])
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, v := range want {
		sort.Strings(v)
	}
	if len(want) == 0 {
		t.Fatal("openapi.yaml has no x-sparkgate-events")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("src/events.ts's EventMap differs from x-sparkgate-events (-spec +events.ts):\n%s", diff)
	}
}

// tokenLifetime is short so that the Node tests see streams end with their
// token and resume with a refreshed one within seconds.
const tokenLifetime = 6 * time.Second

// TestIntegrationSDK runs the SDK's Node tests (test/*.test.ts) against a
// gateway in front of the real ejabberd: login, send, receive the typed
// event, resume after a cut, a refresh during an open stream, TOTP.
func TestIntegrationSDK(t *testing.T) {
	t.Parallel()
	dir := workdir(t)
	env := gatewayenv.StartWith(t, gatewayenv.Options{TokenLifetime: tokenLifetime, Push: true})
	push := env.Push.Subscribe(t)
	type user struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		JID      string `json:"jid"`
	}
	var users []user
	for range 3 {
		u := ejabberdtest.NewUser(t)
		users = append(users, user{u.Name, u.Password, u.JID})
	}
	usersJSON, err := json.Marshal(users)
	if err != nil {
		t.Fatal(err)
	}
	// The Node tests cut the streams through this, as a lost connection would.
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/drop" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, env.DropStreams())
	}))
	t.Cleanup(control.Close)

	// esbuild only strips the types (TestSDKBuild checks them): seconds faster than tsc.
	tests, err := filepath.Glob(filepath.Join(dir, "test", "*.test.ts"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no test/*.test.ts (%v)", err)
	}
	node(t, dir, nil, append([]string{"node_modules/esbuild/bin/esbuild", "--bundle", "--platform=node", "--format=esm",
		"--target=node20", "--packages=external", "--outdir=build/test"}, tests...)...)
	began := time.Now()
	out := node(t, dir, []string{
		"SPARKGATE_URL=" + env.URL,
		"SPARKGATE_USERS=" + string(usersJSON),
		"SPARKGATE_CONTROL=" + control.URL,
		"SPARKGATE_TOKEN_LIFETIME_MS=" + strconv.FormatInt(tokenLifetime.Milliseconds(), 10),
		"SPARKGATE_PUSH_SUBSCRIPTION=" + push.JSON(),
	}, "--test", "--test-reporter=spec", "build/test/")
	t.Logf("node --test (%v):\n%s", time.Since(began).Round(time.Millisecond), out)
	// The subscription the SDK stored gets the message sent to its user.
	if m := env.Push.Next(t, 15*time.Second); m.Endpoint != push.Endpoint || !strings.Contains(string(m.Plaintext), "pushed") {
		t.Errorf("push to %s: %s, want the message \"pushed\" at %s", m.Endpoint, m.Plaintext, push.Endpoint)
	}
	if !strings.Contains(out, "skipped 0") && !regexp.MustCompile(`(?m)^\S*\s*skipped 0`).MatchString(out) {
		t.Error("some Node tests were skipped")
	}
}
