package databases_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// userDocs are the documents a user reads, whose Go blocks the tests below
// run or check.
func userDocs(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, f := range append(files, "README.md") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = string(b)
	}
	return docs
}

// goBlocks returns the Go code blocks of a Markdown document.
func goBlocks(doc string) []string {
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// urlWithOptionCall matches a call of URLWithOption in a snippet, with the
// option's name and value as literals.
var urlWithOptionCall = regexp.MustCompile(`databases\.URLWithOption\([^,]+, "(\w+)", "([^"]*)"\)`)

// TestDocsURLOptions: no Go snippet of the README or docs/ adds an option to
// a URL by appending text ("?force_rollback=true" breaks every URL that has
// options already); each uses URLWithOption, and each such call works on
// every URL of the README's URL table and, opened and queried, on each of
// the three backends of the test run.
func TestDocsURLOptions(t *testing.T) {
	appended := regexp.MustCompile(`\+ *"[?&]\w+=|"[?&]\w+=[^"]*" *\+`)
	type call struct{ where, name, value string }
	var calls []call
	for file, doc := range userDocs(t) {
		for _, block := range goBlocks(doc) {
			if m := appended.FindString(block); m != "" {
				t.Errorf("%s: a Go snippet appends an option to a URL as text (%s); use databases.URLWithOption", file, m)
			}
			for _, m := range urlWithOptionCall.FindAllStringSubmatch(block, -1) {
				calls = append(calls, call{file, m[1], m[2]})
			}
		}
	}
	if len(calls) < 3 {
		t.Fatalf("found %d URLWithOption calls in the docs' Go snippets, want at least 3 (force_rollback, insights, log): %v", len(calls), calls)
	}

	readme := userDocs(t)["README.md"]
	var tableURLs []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z]+://[^`…]*)` \\|").FindAllStringSubmatch(readme, -1) {
		tableURLs = append(tableURLs, m[1])
	}
	if len(tableURLs) < 8 {
		t.Fatalf("found %d URLs in the README's URL table, want at least 8: %q", len(tableURLs), tableURLs)
	}
	for _, c := range calls {
		for _, u := range tableURLs {
			got, err := databases.URLWithOption(u, c.name, c.value)
			if err != nil {
				t.Errorf("%s: URLWithOption(%q, %q, %q): %v", c.where, u, c.name, c.value, err)
				continue
			}
			if strings.Count(got, "?") != 1 || !strings.HasSuffix(got, c.name+"="+c.value) && !strings.Contains(got, c.name+"="+c.value+"&") {
				t.Errorf("%s: URLWithOption(%q, %q, %q) = %q", c.where, u, c.name, c.value, got)
			}
			if _, err := databases.NewConnector(got); err != nil {
				t.Errorf("%s: NewConnector(%q): %v", c.where, got, err)
			}
		}
	}

	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, c := range calls {
			u, err := databases.URLWithOption(b.URL, c.name, c.value)
			if err != nil {
				t.Fatalf("%s: URLWithOption(%s URL, %q, %q): %v", c.where, b.Dialect, c.name, c.value, err)
			}
			db, err := databases.Open(u)
			if err != nil {
				t.Fatalf("%s: Open after URLWithOption(%q, %q): %v", c.where, c.name, c.value, err)
			}
			var one int
			err = db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one)
			if c.name == "insights" && databases.Insights(db) == nil {
				t.Errorf("%s: insights=on gave a DB without insights", c.where)
			}
			db.Close()
			if err != nil || one != 1 {
				t.Errorf("%s: with %s=%s: SELECT 1 = %d, %v", c.where, c.name, c.value, one, err)
			}
		}
	})
}

// TestREADMEQuickStart builds the README's quick start as a program and
// runs it with DATABASE_URL unset (SQLite) and set to each server of the
// test run: it prints what its comment says.
func TestREADMEQuickStart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a program")
	}
	var program string
	for _, b := range goBlocks(userDocs(t)["README.md"]) {
		if strings.HasPrefix(b, "package main\n") {
			program = b
		}
	}
	if program == "" || !strings.Contains(program, `os.Getenv("DATABASE_URL")`) {
		t.Fatal("the README has no quick start (a Go block with package main that reads DATABASE_URL)")
	}
	dir, err := os.MkdirTemp(".", "_quickstart")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./"+filepath.Join(dir, "main.go"))
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the quick start does not build: %v\n%s", err, out)
	}
	for _, b := range dbtest.Backends() {
		t.Run(b.Dialect, func(t *testing.T) {
			url := b.URL
			if b.Dialect == "sqlite" {
				url = "" // the quick start's own default
			} else {
				b.Require(t)
				db, err := databases.Open(b.URL)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				drop := func() { db.Exec("DROP TABLE IF EXISTS quickstart_users") }
				drop()
				defer drop()
			}
			run := exec.Command(bin)
			run.Env = append(os.Environ(), "DATABASE_URL="+url)
			out, err := run.CombinedOutput()
			if err != nil || string(out) != "Ada Lovelace\n" {
				t.Errorf("quick start on %s: %v\n%s; want Ada Lovelace", b.Dialect, err, out)
			}
		})
	}
}
