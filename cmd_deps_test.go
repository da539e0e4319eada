package databases

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cmdOnly are modules that only the command cmd/databases imports (liner
// gives its prompt line editing and history).
var cmdOnly = []string{"github.com/peterh/liner", "github.com/mattn/go-runewidth", "github.com/clipperhouse/uax29"}

// TestCmdDependenciesStayOut: the modules only cmd/databases needs are in
// no package of the library, so a program that imports the library does
// not build or download them. go.mod's go directive (1.17 or later) makes
// the module graph pruned: a user's build loads the go.mod of the modules
// that provide its packages only, so the command's requirements do not even
// reach its go.sum.
func TestCmdDependenciesStayOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go 1\.(\d+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if minor, _ := strconv.Atoi(string(m[1])); minor < 17 {
		t.Fatalf("go.mod says go 1.%d; module graph pruning needs 1.17 or later", minor)
	}
	run := func(args ...string) []string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		return strings.Fields(string(out))
	}
	var library []string
	for _, p := range run("list", "./...") {
		if !strings.Contains(p, "/cmd/") {
			library = append(library, p)
		}
	}
	if len(library) < 5 {
		t.Fatalf("found %d library packages: %v", len(library), library)
	}
	deps := run(append([]string{"list", "-test=false", "-deps"}, library...)...)
	for _, d := range deps {
		for _, m := range cmdOnly {
			if strings.HasPrefix(d, m) {
				t.Errorf("library packages import %s, which only cmd/databases should need", d)
			}
		}
	}
	// A program that imports the library: go mod tidy writes none of them
	// in its go.mod or go.sum. It may fetch what the library's own
	// dependencies need for their tests (tidy keeps those: otelsql's
	// testify, say) from the module proxy when the module cache lacks it;
	// go.sum would record any of the command's modules it fetched.
	user := t.TempDir()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":  "module example.com/user\n\ngo 1.26.0\n\nrequire github.com/go-databases/databases v0.0.0\n\nreplace github.com/go-databases/databases => " + root + "\n",
		"main.go": "package main\n\nimport \"github.com/go-databases/databases\"\n\nfunc main() { println(databases.RedactURL(\"sqlite:///:memory:\")) }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(user, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = user
	tidy.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOSUMDB=off")
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy in a module that imports the library: %v\n%s", err, out)
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		text, err := os.ReadFile(filepath.Join(user, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cmdOnly {
			if strings.Contains(string(text), m) {
				t.Errorf("a program that imports the library has %s in its %s", m, name)
			}
		}
	}

	// And the command does import them: the list above is not stale.
	cmdDeps := strings.Join(run("list", "-deps", "./cmd/databases"), "\n")
	for _, m := range cmdOnly {
		if !strings.Contains(cmdDeps, m) {
			t.Errorf("cmd/databases no longer imports %s; drop it from cmdOnly and go.mod", m)
		}
	}
}
