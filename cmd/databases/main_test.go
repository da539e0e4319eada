package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
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
		}, stdout: "ok\nINSERT 2\nid  name   data\n--  ----   ----\n1   ada    \\x00ff\n2   grace  NULL\n(2 rows)\n"},
		{name: "script file", args: []string{"-f", script},
			stdout: "ok\nINSERT 2\nid  name\n--  ----\n1   a;b\n2   it's\n(2 rows)\n"},
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
			stderrHas: "databases: statement 2 (argument 2, line 1): SQL logic error: no such column: nope (1)\n"},
		{name: "SQL error position", args: []string{"SELECT 1;\nSELECT *\n  FORM t"}, code: 1,
			stderrHas: "databases: statement 2 (argument 1, line 3, column 3): SQL logic error: near \"FORM\": syntax error (1)\n    FORM t\n    ^\n"},
		{name: "unterminated script", stdin: "SELECT 1;\nSELECT 'oops", code: 1,
			stderrHas: "databases: stdin: line 2: unterminated quoted string"},
		{name: "missing file", args: []string{"-f", filepath.Join(t.TempDir(), "nope.sql")}, code: 1,
			stderrHas: "nope.sql"},
		{name: "bad URL", args: []string{"-url", "nosuch://x", "SELECT 1"}, code: 1, stderrHas: "databases: bad URL \"nosuch://x\": unknown scheme"},
		{name: "unknown flag", args: []string{"-nope"}, code: 2, stderrHas: "usage: databases"},
		{name: "bad format", args: []string{"-format", "xml", "SELECT 1"}, code: 2, stderrHas: `-format "xml": want table, csv, json`},
		{name: "-log keeps the URL's slow", args: []string{"-url", "sqlite:///:memory:?slow=1ns", "-log", "info", "CREATE TABLE t (x)"},
			stderrHas: `level=WARN msg="db query" db.system.name=sqlite db.operation=query db.query.text="CREATE TABLE t (x)"`},
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
			if strings.Contains(stderr, "databases: databases:") {
				t.Errorf("stderr names the command twice:\n%s", stderr)
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
		{"argument", "argument 2", errors.New("boom"), "statement 3 (argument 2, line 4): boom"},
		{"prompt", "", errors.New("boom"), "statement 3 (line 4): boom"},
		{"script", "a.sql", errors.New("boom"), "statement 3 (a.sql:4): boom"},
		{"placeholder", "a.sql", re, "statement 3 (a.sql:5:3): rewrite: named parameter :x has no argument at offset 12\n    :x\n    ^"},
		{"placeholder in argument", "argument 1", re, "statement 3 (argument 1, line 5, column 3): rewrite: named parameter :x has no argument at offset 12\n    :x\n    ^"},
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

// words returns a table with the padding between its columns cut to one
// space and none at the end of a line.
func words(table string) string {
	table = regexp.MustCompile(` +\n`).ReplaceAllString(table, "\n")
	return regexp.MustCompile(` {2,}`).ReplaceAllString(table, " ")
}

// Whether a statement prints a result set is the driver's answer, not a
// guess from its text: a word in a literal or comment changes nothing, and
// statements that return rows print them, however they start. Statements
// without a result set print "ok".
func TestResultSetBackends(t *testing.T) {
	type step struct{ stmt, want string }
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table := dbtest.Name("cli_rows")
		steps := []step{
			{"CREATE TABLE " + table + " (x VARCHAR(20))", "ok\n"},
			{"INSERT INTO " + table + " VALUES ('a')", "INSERT 1\n"},
			{"UPDATE " + table + " SET x = 'RETURNING'", "UPDATE 1\n"},
			{"/* SELECT */ UPDATE " + table + " SET x = 'select'", "UPDATE 1\n"},
			{"-- RETURNING\nDELETE FROM " + table + " WHERE x = 'RETURNING'", "DELETE 0\n"},
			{"INSERT INTO " + table + " VALUES ('b') RETURNING x", "x\n-\nb\n(1 row)\n"},
			{"BEGIN", "ok\n"},
			{"UPDATE " + table + " SET x = 'c' WHERE x = 'RETURNING x'", "UPDATE 0\n"},
			{"SELECT x FROM " + table + " ORDER BY x", "x\n-\nb\nselect\n(2 rows)\n"},
			{"COMMIT", "ok\n"},
		}
		switch b.Dialect {
		case "sqlite":
			steps = append(steps,
				step{"PRAGMA user_version = 3", "ok\n"},
				step{"PRAGMA user_version", "user_version\n------------\n3\n(1 row)\n"})
		case "postgres":
			steps = append(steps,
				step{"SET search_path = public", "ok\n"},
				step{"SHOW search_path", "search_path\n-----------\npublic\n(1 row)\n"},
				step{"VACUUM " + table, "ok\n"})
		case "mysql":
			proc := dbtest.Name("cli_proc")
			schema := b.URL[strings.LastIndexByte(b.URL, '/')+1 : strings.IndexByte(b.URL, '?')]
			steps = append(steps,
				step{"CHECK TABLE " + table, "Table Op Msg_type Msg_text\n----- -- -------- --------\n" + schema + "." + table + " check status OK\n(1 row)\n"},
				step{"ANALYZE TABLE " + table, "Table Op Msg_type Msg_text\n----- -- -------- --------\n" + schema + "." + table + " analyze status OK\n(1 row)\n"},
				step{"CREATE PROCEDURE " + proc + "() BEGIN SELECT 1 AS a; SELECT 2 AS b; END", "ok\n"},
				step{"CALL " + proc + "()", "a\n-\n1\n(1 row)\nb\n-\n2\n(1 row)\n"},
				step{"DROP PROCEDURE " + proc, "ok\n"})
		}
		steps = append(steps, step{"DROP TABLE " + table, "ok\n"})
		var args []string
		var want strings.Builder
		for _, st := range steps {
			args = append(args, st.stmt)
			want.WriteString(st.want)
		}
		code, stdout, stderr := runCLI(t, "", append([]string{"-url", b.URL}, args...)...)
		if code != 0 {
			t.Fatalf("exit status %d: %s\nstdout:\n%s", code, stderr, stdout)
		}
		// Column widths depend on the table's random name: compare words.
		if got := words(stdout); got != want.String() {
			t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want.String())
		}
	})
}

// When reading a result set fails midway, every format prints the rows read
// before the error, then the error, and the exit status is 1.
func TestErrorMidResultBackends(t *testing.T) {
	queries := map[string]string{
		"sqlite":   "SELECT x, CASE WHEN x = 3 THEN json('bad') ELSE x END AS y FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3)",
		"postgres": "SELECT x, x + 0 * (1 / (3 - x)) AS y FROM generate_series(1, 3) AS x",
		"mysql":    "SELECT x, IF(x = 3, (SELECT 1 UNION SELECT 2), x) AS y FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) AS t",
	}
	tests := []struct{ format, want string }{
		{"table", "x  y\n-  -\n1  1\n2  2\n"},
		{"csv", "x,y\n1,1\n2,2\n"},
		{"json", `[{"x":1,"y":1},{"x":2,"y":2}]` + "\n"},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, tt := range tests {
			t.Run(tt.format, func(t *testing.T) {
				code, stdout, stderr := runCLI(t, "", "-url", b.URL, "-format", tt.format, "SELECT 0 AS z", queries[b.Dialect], "SELECT 9 AS never")
				if code != 1 {
					t.Fatalf("exit status %d; want 1\nstderr:\n%s", code, stderr)
				}
				if !strings.HasSuffix(stdout, tt.want) || strings.Contains(stdout, "never") {
					t.Errorf("stdout:\n%s\nwant it to end with:\n%s", stdout, tt.want)
				}
				if !strings.HasPrefix(stderr, "databases: statement 2 (argument 2, line 1): ") {
					t.Errorf("stderr:\n%s", stderr)
				}
			})
		}
	})
}

func TestRunTraced(t *testing.T) {
	var out, spans strings.Builder
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spanPrinter{&spans}))
	src := source{statements: []statement{{Text: "CREATE TABLE users (id INTEGER)"}, {Text: "SELECT id FROM users"}}}
	err := run(context.Background(), "sqlite:///:memory:", src, tableFormat{&out}, nil, databases.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`span "CREATE users"`, `span "SELECT users"`, `db.system.name="sqlite"`, `db.response.returned_rows="0"`} {
		if !strings.Contains(spans.String(), want) {
			t.Errorf("spans lack %s:\n%s", want, spans.String())
		}
	}
}

// TestInsightsFlag: -insights prints the table of queries after the run,
// on standard error, a failed run too, with literals masked. INSERT runs as
// Exec, so its rows affected are counted.
func TestInsightsFlag(t *testing.T) {
	script := "CREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\nSELECT x FROM t WHERE x = 1;\nSELECT * FROM missing;\n"
	code, stdout, stderr := runCLI(t, script, "-insights", "-format", "csv")
	if code != 1 {
		t.Fatalf("exit status %d; want 1 (the last statement fails)\n%s", code, stderr)
	}
	if stdout != "x\n1\n" {
		t.Errorf("stdout %q: the table must not go there", stdout)
	}
	for _, line := range []string{
		`(?m)^\s*calls\s+errors\s+total_ms\s+mean_ms\s+p50_ms\s+p95_ms\s+p99_ms\s+rows\s+n\+1\s+summary$`,
		`(?m)^\s*2\s+0(\s+[0-9.]+){5}\s+2\s+0\s+INSERT INTO t VALUES \(\.\.\.\)$`,
		`(?m)^\s*1\s+0(\s+[0-9.]+){5}\s+1\s+0\s+SELECT x FROM t WHERE x = \?$`,
		`(?m)^\s*1\s+1(\s+[0-9.]+){5}\s+0\s+0\s+SELECT \* FROM missing$`,
	} {
		if !regexp.MustCompile(line).MatchString(stderr) {
			t.Errorf("stderr lacks a line matching %s:\n%s", line, stderr)
		}
	}
}
