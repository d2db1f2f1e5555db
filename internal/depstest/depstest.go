// Package depstest lets a package's own tests state what it may import,
// so the import graph the README describes stays true.
//
// Each check asks `go list` about the package in the test's directory (or
// one below it). When `go list` cannot answer, the test fails: a rule that
// cannot be checked protects nothing, and a skip would hide it.
//
// A pattern names a package and everything below it: "gosrc.io" matches
// gosrc.io/xmpp/stanza, "github.com/sparkgate/sparkgate/auth" matches that
// package and its sub-packages, never ".../authx".
package depstest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Module is this module's path, the prefix of every package of ours.
const Module = "github.com/sparkgate/sparkgate"

// Imports returns the direct imports of pkg ("." for the test's own
// package) that are outside the standard library.
func Imports(t testing.TB, pkg string) []string {
	t.Helper()
	return list(t, "-f", `{{range .Imports}}{{.}}{{"\n"}}{{end}}`, pkg)
}

// Deps returns every package pkg depends on, directly or not, outside the
// standard library; pkg itself is left out.
func Deps(t testing.TB, pkg string) []string {
	t.Helper()
	all := list(t, "-deps", "-f", `{{if not .Standard}}{{.ImportPath}}{{end}}`, pkg)
	self := list(t, "-f", "{{.ImportPath}}", pkg)
	return slices.DeleteFunc(all, func(p string) bool { return slices.Contains(self, p) })
}

// Only fails t for each of got that no pattern of allowed matches.
func Only(t testing.TB, what string, got []string, allowed ...string) {
	t.Helper()
	for _, p := range got {
		if !matchAny(p, allowed) {
			t.Errorf("%s imports %s, which is not among %v", what, p, allowed)
		}
	}
}

// None fails t for each of got that a pattern of forbidden matches.
func None(t testing.TB, what string, got []string, forbidden ...string) {
	t.Helper()
	for _, p := range got {
		if matchAny(p, forbidden) {
			t.Errorf("%s depends on %s", what, p)
		}
	}
}

// OfOurs returns the packages of pkgs that are of this module.
func OfOurs(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		if matchAny(p, []string{Module}) {
			out = append(out, p)
		}
	}
	return out
}

// Ours returns the pattern of our package name (e.g. "auth").
func Ours(name string) string { return Module + "/" + name }

func matchAny(p string, patterns []string) bool {
	for _, pat := range patterns {
		if p == pat || strings.HasPrefix(p, pat+"/") {
			return true
		}
	}
	return false
}

// list runs go list and returns its non-empty output lines; standard
// library packages (no dot in their first element) are left out.
func list(t testing.TB, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + strings.TrimSpace(string(ee.Stderr))
		}
		t.Fatalf("depstest: go list %s: %s", strings.Join(args, " "), msg)
	}
	var pkgs []string
	for _, l := range strings.Fields(string(out)) {
		if first, _, _ := strings.Cut(l, "/"); strings.Contains(first, ".") {
			pkgs = append(pkgs, l)
		}
	}
	return pkgs
}
