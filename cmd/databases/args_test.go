package main

import (
	"bufio"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestURLArgument: the URL is the first argument (as usql takes it), -url,
// DATABASE_URL or the in-memory SQLite, in that order; flags stand before
// or after it; -c and SQL arguments are split into statements.
func TestURLArgument(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	tests := []struct {
		name   string
		env    string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "URL then -c", args: []string{"sqlite:///:memory:", "-c", "SELECT 1 AS a; SELECT 2 AS b"},
			stdout: "a\n-\n1\n(1 row)\nb\n-\n2\n(1 row)\n"},
		{name: "flags before and after the URL", args: []string{"-format", "csv", "sqlite:///:memory:?stmt_cache=0", "-c", "SELECT 1 AS a"},
			stdout: "a\n1\n"},
		{name: "-c repeated", args: []string{"-c", "CREATE TABLE t (x INTEGER)", "-c", "INSERT INTO t VALUES (1), (2); UPDATE t SET x = x + 1"},
			stdout: "ok\nINSERT 2\nUPDATE 2\n"},
		{name: "URL then SQL arguments", args: []string{"sqlite:///:memory:", "SELECT 1 AS a; SELECT 2 AS b", "SELECT 3 AS c"},
			stdout: "a\n-\n1\n(1 row)\nb\n-\n2\n(1 row)\nc\n-\n3\n(1 row)\n"},
		{name: "SQL starting with --", args: []string{"sqlite:///:memory:", "-- a comment\nSELECT 1 AS a"},
			stdout: "a\n-\n1\n(1 row)\n"},
		{name: "-c with a comment first", args: []string{"-c", "-- a comment\nSELECT 1 AS a"},
			stdout: "a\n-\n1\n(1 row)\n"},
		{name: "DATABASE_URL", env: "nosuch://x", args: []string{"-c", "SELECT 1"}, code: 1,
			stderr: `databases: bad URL "nosuch://x": unknown scheme "nosuch"`},
		{name: "the argument over DATABASE_URL", env: "nosuch://x", args: []string{"sqlite:///:memory:", "-c", "SELECT 1 AS a"},
			stdout: "a\n-\n1\n(1 row)\n"},
		{name: "-url over DATABASE_URL", env: "nosuch://x", args: []string{"-url", "sqlite:///:memory:", "-c", "SELECT 1 AS a"},
			stdout: "a\n-\n1\n(1 row)\n"},
		{name: "URL twice", args: []string{"-url", "sqlite:///:memory:", "sqlite:///:memory:", "-c", "SELECT 1"}, code: 2,
			stderr: "not both"},
		{name: "-c and SQL arguments", args: []string{"-c", "SELECT 1", "SELECT 2"}, code: 2, stderr: "not both"},
		{name: "-c and -f", args: []string{"-c", "SELECT 1", "-f", "x.sql"}, code: 2, stderr: "not both"},
		{name: "error in the second statement of -c", args: []string{"-c", "SELECT 1 AS a;\nSELECT nope"}, code: 1,
			stdout: "a\n-\n1\n(1 row)\n", stderr: "databases: statement 2 (argument 1, line 2): SQL logic error: no such column: nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", tt.env)
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.code || stdout != tt.stdout && tt.code == 0 || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s\nstderr with %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
			if tt.code == 1 && tt.stdout != "" && stdout != tt.stdout {
				t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, tt.stdout)
			}
		})
	}
}

// TestServerURLBackends: `databases URL -c …` and DATABASE_URL reach the
// server, not the in-memory SQLite.
func TestServerURLBackends(t *testing.T) {
	version := map[string]string{"sqlite": "SELECT sqlite_version() IS NOT NULL AS v", "postgres": "SELECT version() LIKE 'PostgreSQL%' AS v", "mysql": "SELECT version() IS NOT NULL AS v"}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		t.Setenv("DATABASE_URL", "")
		for _, args := range [][]string{{b.URL, "-format", "csv", "-c", version[b.Dialect]}, {"-format", "csv", "-c", version[b.Dialect]}} {
			if len(args) == 4 {
				t.Setenv("DATABASE_URL", b.URL)
			}
			code, stdout, stderr := runCLI(t, "", args...)
			if code != 0 || (stdout != "v\n1\n" && stdout != "v\ntrue\n") {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
		}
	})
}

// TestMetaCommandsBackends: \dt, \d, \d TABLE, \l, \? and \q on every
// backend, given to -c or in a script.
func TestMetaCommandsBackends(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table := dbtest.Name("cli_meta")
		dbName := map[string]string{"sqlite": "main"}[b.Dialect]
		if dbName == "" {
			dbName = b.URL[strings.LastIndexByte(b.URL, '/')+1 : strings.IndexByte(b.URL, '?')]
		}
		code, stdout, stderr := runCLI(t, "", b.URL, "-format", "csv",
			"-c", "CREATE TABLE "+table+" (id INTEGER NOT NULL PRIMARY KEY, note VARCHAR(20))",
			"-c", `\dt`, "-c", `\d `+table, "-c", `\l`, "-c", "DROP TABLE "+table)
		if code != 0 {
			t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
		}
		for _, want := range []string{table + "\n", "id,", "note,", "\n" + dbName} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		}
		if low := strings.ToLower(stdout); !regexpMatch(`(?m)^id,[^,]*int[^,]*,no,`, low) || !regexpMatch(`(?m)^note,[^,]*char[^,]*,yes,`, low) {
			t.Errorf("\\d %s: columns not as declared:\n%s", table, stdout)
		}

		code, _, stderr = runCLI(t, "", b.URL, "-c", `\d no_such_table_here`)
		if code != 1 || !strings.Contains(stderr, `no table "no_such_table_here"`) {
			t.Errorf(`\d of a missing table: exit %d, %s`, code, stderr)
		}
		code, _, stderr = runCLI(t, "", b.URL, "-c", `\dx`)
		if code != 1 || !strings.Contains(stderr, `unknown command "\\dx"; \? lists the commands`) {
			t.Errorf(`\dx: exit %d, %s`, code, stderr)
		}
		code, stdout, _ = runCLI(t, "SELECT 1 AS a;\n\\?\n\\q\nSELECT 2 AS b;\n", b.URL)
		if code != 0 || !strings.Contains(stdout, `\d TABLE`) || strings.Contains(stdout, "b\n") {
			t.Errorf(`script with \? and \q: exit %d, stdout:\n%s`, code, stdout)
		}
	})
}

// TestScriptStreams: a script on standard input runs each statement as soon
// as its ';' is read, before the rest of the input exists.
func TestScriptStreams(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int)
	go func() {
		done <- cli(context.Background(), []string{"sqlite:///:memory:"}, inR, outW, &stderr)
		outW.Close()
	}()
	lines := bufio.NewReader(outR)
	readUntil := func(want string) {
		t.Helper()
		var got strings.Builder
		for !strings.HasSuffix(got.String(), want) {
			line, err := lines.ReadString('\n')
			got.WriteString(line)
			if err != nil {
				t.Fatalf("output %q ended before %q: %v (stderr %s)", got.String(), want, err, stderr.String())
			}
		}
	}
	io.WriteString(inW, "SELECT 1 AS a;\nSELECT 2\n")
	readUntil("a\n-\n1\n(1 row)\n") // while the second statement is still being written
	io.WriteString(inW, "  AS b;\n")
	readUntil("b\n-\n2\n(1 row)\n")
	inW.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the command did not end after its input did")
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// TestErrorPositionBackends: a syntax error is placed at its line, and at
// its column where the database says (PostgreSQL's position, SQLite's
// token; MySQL gives the line only), in a script and in -c.
func TestErrorPositionBackends(t *testing.T) {
	want := map[string]string{
		"sqlite":   "(%s, line 3, column 3): SQL logic error: near \"FORM\": syntax error (1)\n    FORM t\n    ^\n",
		"postgres": "(%s, line 3, column 3): ERROR: syntax error at or near \"FORM\" (SQLSTATE 42601)\n    FORM t\n    ^\n",
		"mysql":    "(%s, line 3): Error 1064 (42000): You have an error in your SQL syntax;",
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		code, _, stderr := runCLI(t, "", b.URL, "-c", "SELECT 1;\nSELECT *\n  FORM t")
		w := strings.Replace(want[b.Dialect], "%s", "argument 1", 1)
		if code != 1 || !strings.Contains(stderr, "databases: statement 2 "+w) {
			t.Errorf("-c: exit %d, stderr:\n%s\nwant it to contain:\n%s", code, stderr, w)
		}
		code, _, stderr = runCLI(t, "SELECT 1;\nSELECT *\n  FORM t;\n", b.URL)
		w = strings.Replace(strings.Replace(want[b.Dialect], "%s, line ", "stdin:", 1), ", column ", ":", 1)
		if code != 1 || !strings.Contains(stderr, "databases: statement 2 "+w) {
			t.Errorf("script: exit %d, stderr:\n%s\nwant it to contain:\n%s", code, stderr, w)
		}
	})
}
