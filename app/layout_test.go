package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/spoor-dev/spoor/"

// deps is every package of the module with what it imports, directly and
// through others (go list -deps), module packages only, by short name
// ("collector", "internal/bus").
func deps(t *testing.T) (direct, all map[string][]string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", mod+"...")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	short := func(list []string) []string {
		var s []string
		for _, p := range list {
			if strings.HasPrefix(p, mod) {
				s = append(s, strings.TrimPrefix(p, mod))
			}
		}
		return s
	}
	direct, all = map[string][]string{}, map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath    string
			Imports, Deps []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, mod)
		direct[name], all[name] = short(p.Imports), short(p.Deps)
	}
	return direct, all
}

// Imports run one way: cmd → app → roles → schema and internal/ leaves
// (docs/architecture.md, "The rooms"). The roles never import app or each
// other's audience.
func TestImportDirections(t *testing.T) {
	direct, all := deps(t)
	roles := []string{"app", "collector", "proxy", "sinks", "links", "person", "admin", "segment", "live"}
	under := func(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }
	forbid := func(pkg string, list map[string][]string, why string, bad ...string) {
		t.Helper()
		for _, d := range list[pkg] {
			for _, b := range bad {
				if under(d, b) {
					t.Errorf("%s imports %s: %s", pkg, d, why)
				}
			}
		}
	}
	if len(all) < 20 || len(all["app"]) == 0 {
		t.Fatalf("go list found %d packages, app with %d deps: the check would prove nothing", len(all), len(all["app"]))
	}
	for p := range all {
		switch {
		case under(p, "internal"):
			forbid(p, all, "internal/ holds leaves that import no role", roles...)
		case p != "app" && !under(p, "cmd") && !under(p, "e2e") && !under(p, "scripts"):
			forbid(p, all, "only cmd/spoor (and the tests and tools) start the pipeline through app/", "app")
		}
	}
	forbid("collector", all, "the operator surface is mounted by app/, not imported", "admin")
	forbid("admin", all, "the operator surface never takes events in", "collector")
	forbid("proxy", all, "the proxy feeds the collector through schema.Hit", "collector")
	forbid("segment", all, "a wire format decoder is pure: no transport, no role", "collector", "internal/bus", "links", "sinks")
	forbid("schema", all, "schema is the ground floor", roles...)
	forbid("cmd/spoor", direct, "stores are opened by app/", "sinks", "links/cqlstore")
	out, err := exec.Command("go", "list", "-deps", mod+"segment").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"github.com/valyala/fasthttp", "github.com/nats-io/nats.go"} {
		if slices.Contains(strings.Fields(string(out)), p) {
			t.Errorf("segment imports %s: a decoder has no transport", p)
		}
	}
}

// Every script the README, docs or Makefile run directly has its run bit
// and a #! line, and exists.
func TestScriptsRunDirectly(t *testing.T) {
	root := filepath.Join("..")
	named := map[string]bool{}
	re := regexp.MustCompile(`scripts/[A-Za-z0-9_./-]+\.sh`)
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, f := range append(docs, filepath.Join(root, "README.md"), filepath.Join(root, "Makefile"), filepath.Join(root, ".ci", "run")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAll(b, -1) {
			named[string(m)] = true
		}
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	more, _ := filepath.Glob(filepath.Join(root, "scripts", "*", "*.sh"))
	for _, s := range append(scripts, more...) {
		rel, _ := filepath.Rel(root, s)
		named[filepath.ToSlash(rel)] = true
	}
	if len(named) < 10 {
		t.Fatalf("found only %d scripts: the check would prove nothing", len(named))
	}
	for s := range named {
		fi, err := os.Stat(filepath.Join(root, s))
		if err != nil {
			t.Errorf("%s is named in the docs but missing: %v", s, err)
			continue
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s has no run bit (git update-index --chmod=+x %s)", s, s)
		}
		f, err := os.Open(filepath.Join(root, s))
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if !strings.HasPrefix(line, "#!") {
			t.Errorf("%s has no #! line", s)
		}
	}
}
