package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/rewrite"
)

// runCLI runs the command and returns its exit status and output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = cli(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLI(t *testing.T) {
	script := writeFile(t, "script.sql", `-- a script
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t (name) VALUES ('a;b'), ('it''s');
SELECT id, name FROM t ORDER BY id;
`)
	failing := writeFile(t, "failing.sql", "SELECT 1;\n\nSELECT *\n  FROM missing;\nSELECT 2;\n")
	tests := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		stdout     string
		stderrHas  string
		stdoutLack string
	}{
		{name: "arguments", args: []string{
			"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)",
			"INSERT INTO t (name, data) VALUES ('ada', x'00ff'), ('grace', NULL)",
			"SELECT id, name, data FROM t ORDER BY id",
		}, stdout: "0 rows affected\n2 rows affected\nid  name   data\n--  ----   ----\n1   ada    \\x00ff\n2   grace  NULL\n(2 rows)\n"},
		{name: "script file", args: []string{"-f", script},
			stdout: "0 rows affected\n2 rows affected\nid  name\n--  ----\n1   a;b\n2   it's\n(2 rows)\n"},
		{name: "script on stdin", stdin: "SELECT 1 AS one; SELECT 'x;y' AS two;",
			stdout: "one\n---\n1\n(1 row)\ntwo\n---\nx;y\n(1 row)\n"},
		{name: "-f - reads stdin", stdin: "SELECT 1 AS one", args: []string{"-f", "-", "-format", "csv"},
			stdout: "one\n1\n"},
		{name: "transaction in a script", args: []string{"-format", "csv"}, stdin: `
CREATE TABLE t (x INTEGER);
BEGIN;
INSERT INTO t VALUES (1);
ROLLBACK;
BEGIN;
INSERT INTO t VALUES (2);
COMMIT;
SELECT x FROM t;`, stdout: "x\n2\n"},
		{name: "csv", args: []string{"-format", "csv", "SELECT 1 AS a, 'x,\"y' AS b, NULL AS c", "CREATE TABLE t (x)", "SELECT 2 AS d"},
			stdout: "a,b,c\n1,\"x,\"\"y\",\n\nd\n2\n"},
		{name: "json", args: []string{"-format", "json", "SELECT 1 AS n, 'a\"b' AS s, NULL AS z, 1.5 AS f, x'00ff' AS bin", "SELECT 1 AS x WHERE 0"},
			stdout: `[{"n":1,"s":"a\"b","z":null,"f":1.5,"bin":"\\x00ff"}]` + "\n[]\n"},
		{name: "SQL error stops the run", args: []string{"-f", failing}, code: 1,
			stderrHas: "databases: statement 2 (" + failing + ":3): ", stdoutLack: "2\n(1 row)"},
		{name: "SQL error in arguments", args: []string{"SELECT 1", "SELECT nope"}, code: 1,
			stderrHas: "databases: statement 2: "},
		{name: "unterminated script", stdin: "SELECT 1;\nSELECT 'oops", code: 1,
			stderrHas: "databases: stdin: line 2: unterminated quoted string"},
		{name: "missing file", args: []string{"-f", filepath.Join(t.TempDir(), "nope.sql")}, code: 1,
			stderrHas: "nope.sql"},
		{name: "bad URL", args: []string{"-url", "nosuch://x", "SELECT 1"}, code: 1, stderrHas: "databases: "},
		{name: "unknown flag", args: []string{"-nope"}, code: 2, stderrHas: "usage: databases"},
		{name: "bad format", args: []string{"-format", "xml", "SELECT 1"}, code: 2, stderrHas: `-format "xml": want table, csv, json`},
		{name: "-log keeps the URL's slow", args: []string{"-url", "sqlite:///:memory:?slow=1ns", "-log", "info", "CREATE TABLE t (x)"},
			stderrHas: `level=WARN msg="db exec"`},
		{name: "bad log level", args: []string{"-log", "loud", "SELECT 1"}, code: 2, stderrHas: `-log "loud"`},
		{name: "-f and arguments", args: []string{"-f", script, "SELECT 1"}, code: 2, stderrHas: "not both"},
		{name: "help", args: []string{"-h"}, code: 0, stderrHas: "Exit status: 0 ok, 1 SQL or runtime error, 2 usage error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit status %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderrHas, stderr)
			}
			if tt.stdoutLack != "" && strings.Contains(stdout, tt.stdoutLack) {
				t.Errorf("stdout has %q:\n%s", tt.stdoutLack, stdout)
			}
		})
	}
}

// A script runs on every backend: one connection holds its transaction,
// and dialect rules split it.
func TestCLIScriptBackends(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table := dbtest.Name("cli_script")
		body := map[string]string{
			"sqlite":   "",
			"postgres": "DO $$ BEGIN PERFORM 1; END $$;\n",
			"mysql":    "SELECT 'it\\'s;' AS s # comment;\n;\n",
		}[b.Dialect]
		script := "CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, note VARCHAR(20));\n" + body +
			"BEGIN;\nINSERT INTO " + table + " VALUES (1, 'a;b');\nROLLBACK;\n" +
			"BEGIN;\nINSERT INTO " + table + " VALUES (2, 'c;d');\nCOMMIT;\n" +
			"SELECT id, note FROM " + table + ";\nDROP TABLE " + table + ";\n"
		code, stdout, stderr := runCLI(t, script, "-url", b.URL, "-format", "json")
		if code != 0 {
			t.Fatalf("exit status %d: %s", code, stderr)
		}
		if !strings.HasSuffix(stdout, `[{"id":2,"note":"c;d"}]`+"\n") {
			t.Fatalf("stdout:\n%s", stdout)
		}
	})
}

func TestStatementError(t *testing.T) {
	st := statement{Text: "SELECT 1,\n  :x", Line: 4}
	re := &rewrite.Error{Offset: 12, Msg: "named parameter :x has no argument"}
	tests := []struct {
		name   string
		script string
		err    error
		want   string
	}{
		{"argument", "", errors.New("boom"), "statement 3: boom"},
		{"script", "a.sql", errors.New("boom"), "statement 3 (a.sql:4): boom"},
		{"placeholder", "a.sql", re, "statement 3 (a.sql:5:3): rewrite: named parameter :x has no argument at offset 12"},
		{"placeholder in argument", "", re, "statement 3: rewrite: named parameter :x has no argument at offset 12"},
		{"no offset", "a.sql", &rewrite.Error{Offset: -1, Msg: "m"}, "statement 3 (a.sql:4): rewrite: m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := statementError(tt.script, 3, st, tt.err)
			if err.Error() != tt.want {
				t.Fatalf("error %q; want %q", err, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Fatal("the error is not wrapped")
			}
		})
	}
}

func TestReturnsRows(t *testing.T) {
	for stmt, want := range map[string]bool{
		"SELECT 1":                              true,
		"  (SELECT 1)":                          true,
		"with x as (select 1) select * from x":  true,
		"-- comment\nSELECT 1":                  true,
		"/* c */ VALUES (1)":                    true,
		"INSERT INTO t VALUES (1) RETURNING id": true,
		"INSERT INTO t VALUES (1)":              false,
		"CREATE TABLE t (x)":                    false,
		"-- SELECT\nDELETE FROM t":              false,
		"PRAGMA table_info(t)":                  true,
		"SHOW TABLES":                           true,
		"SELECT\n1":                             true,
	} {
		if got := returnsRows(stmt); got != want {
			t.Errorf("returnsRows(%q) = %v; want %v", stmt, got, want)
		}
	}
}

func TestRunTraced(t *testing.T) {
	var out, spans strings.Builder
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spanPrinter{&spans}))
	src := source{statements: []statement{{Text: "CREATE TABLE users (id INTEGER)"}, {Text: "SELECT id FROM users"}}}
	err := run(context.Background(), "sqlite:///:memory:", src, tableFormat{&out}, databases.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`span "CREATE users"`, `span "SELECT users"`, `db.system.name="sqlite"`, `db.response.returned_rows="0"`} {
		if !strings.Contains(spans.String(), want) {
			t.Errorf("spans lack %s:\n%s", want, spans.String())
		}
	}
}
