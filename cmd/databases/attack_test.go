package main

import (
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestAttackDoorDescribeQuotedNames: \d takes a table name as SQL writes it,
// quoted when it has a space, a dot or capitals, qualified by a quoted
// schema; \dt lists such tables, so \d must be able to name them.
func TestAttackDoorDescribeQuotedNames(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		sp := dbtest.Name("atk sp")
		dot := dbtest.Name("atk.dot")
		q := map[string]func(string) string{
			"sqlite":   func(s string) string { return `"` + s + `"` },
			"postgres": func(s string) string { return `"` + s + `"` },
			"mysql":    func(s string) string { return "`" + s + "`" },
		}[b.Dialect]
		schema := map[string]string{"sqlite": "main", "postgres": "public", "mysql": ""}[b.Dialect]
		if b.Dialect == "mysql" {
			u := b.URL[strings.LastIndex(b.URL[:strings.Index(b.URL+"?", "?")], "/")+1:]
			schema = u[:strings.Index(u+"?", "?")]
		}
		setup := "CREATE TABLE " + q(sp) + " (" + q("Col A") + " INTEGER NOT NULL DEFAULT 3);" +
			"CREATE TABLE " + q(dot) + " (x INTEGER)"
		args := []string{b.URL, "-format", "csv", "-c", setup,
			"-c", `\d ` + q(sp),
			"-c", `\d ` + q(dot),
			"-c", `\d ` + q(schema) + "." + q(sp),
			"-c", `\d ` + schema + "." + q(dot),
			"-c", "DROP TABLE " + q(sp) + "; DROP TABLE " + q(dot)}
		code, stdout, stderr := runCLI(t, "", args...)
		if code != 0 {
			runCLI(t, "", b.URL, "-c", "DROP TABLE IF EXISTS "+q(sp)+"; DROP TABLE IF EXISTS "+q(dot))
			t.Fatalf("exit status %d: %s\nstdout:\n%s", code, stderr, stdout)
		}
		if n := strings.Count(stdout, "Col A,"); n != 2 {
			t.Errorf("Col A described %d times, want 2:\n%s", n, stdout)
		}
		if n := strings.Count(stdout, "\nx,"); n != 2 {
			t.Errorf("x described %d times, want 2:\n%s", n, stdout)
		}
	})
}

// TestAttackDoorDescribeBadName: a malformed name is an error, not a
// query for a name nobody wrote.
func TestAttackDoorDescribeBadName(t *testing.T) {
	for _, arg := range []string{`\d "unterminated`, `\d a.b.c`, `\d a b`, `\d "a"x`} {
		code, _, stderr := runCLI(t, "", "sqlite:///:memory:", "-c", arg)
		if code != 1 || stderr == "" {
			t.Errorf("%s: exit %d, stderr %q", arg, code, stderr)
		}
	}
}

// TestAttackDoorSQLiteNearTokenInComment: SQLite's near "…" token names the
// column even when the same word is in a comment before it.
func TestAttackDoorSQLiteNearTokenInComment(t *testing.T) {
	script := writeFile(t, "s.sql", "SELECT 1;\n-- xyz here\n/* t */ SELECT 2\n    FORM xyz;\nSELECT 3;\n")
	code, stdout, stderr := runCLI(t, "", "sqlite:///:memory:", "-f", script)
	if code != 1 {
		t.Fatalf("exit status %d, want 1", code)
	}
	if !strings.Contains(stderr, "statement 2 ("+script+":4:10)") || !strings.Contains(stderr, "    FORM xyz\n           ^") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if strings.Contains(stdout, "3") {
		t.Errorf("the script went on after the error:\n%s", stdout)
	}
}

// TestAttackDoorErrorPositionBackends: a held promise kept held: the line
// (and, where the server says, the column) of an error in the third line of
// a multi-line statement after a comment, and exit status 1.
func TestAttackDoorErrorPositionBackends(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		script := writeFile(t, "s.sql", "SELECT 1 AS a;\n-- c;omment 'x'\n  SELECT 2\n    FROM (SELECT 1 AS y) s WHERE nosuchcol = 1;\nSELECT 3 AS c;\n")
		code, stdout, stderr := runCLI(t, "", b.URL, "-f", script)
		if code != 1 {
			t.Fatalf("exit status %d, want 1: %s", code, stderr)
		}
		want := map[string]string{"sqlite": script + ":2)", "postgres": script + ":4:34)", "mysql": script + ":"}[b.Dialect]
		if !strings.Contains(stderr, "statement 2 ("+want) {
			t.Errorf("want %q in stderr:\n%s", want, stderr)
		}
		if strings.Contains(stdout, "c\n") {
			t.Errorf("the script went on:\n%s", stdout)
		}
	})
}

// TestAttackDoorMariaDBBeginNotAtomic: MariaDB's anonymous compound
// statement runs whole, without DELIMITER, like a procedure body; a plain
// BEGIN is still a transaction.
func TestAttackDoorMariaDBBeginNotAtomic(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	script := "BEGIN NOT ATOMIC\n  DECLARE x INT DEFAULT 7;\n  IF x > 0 THEN SELECT x AS x; END IF;\nEND;\nBEGIN;\nSELECT 'y;' AS y;\nCOMMIT;\n"
	code, stdout, stderr := runCLI(t, script, b.URL, "-format", "csv")
	if code != 0 || stdout != "x\n7\n\ny\ny;\n" {
		t.Fatalf("exit status %d: %s\nstdout:\n%q", code, stderr, stdout)
	}
}

// TestAttackDoorRunnerNoPassword (held): a server that refuses the
// password, or a URL the driver refuses, prints no form of the password,
// with logging, tracing and insights on, and exits 1.
func TestAttackDoorRunnerNoPassword(t *testing.T) {
	pg, my := dbtest.Backends()[1], dbtest.Backends()[2]
	pg.Require(t)
	my.Require(t)
	hostOf := func(u string) string { // user@host:port/db, without the options
		rest := u[strings.Index(u, "@")+1:]
		return rest[:strings.Index(rest+"?", "?")]
	}
	const pw = "p%2F%3F%23%40%25x"
	for _, u := range []string{
		"mysql://root:" + pw + "@" + hostOf(my.URL) + "?log=debug&insights=on",
		"mysql://root:" + pw + "@" + hostOf(my.URL) + "?parseTime=maybe",
		"postgres://nouser_atk:" + pw + "@" + hostOf(pg.URL) + "?sslmode=disable&trace=on",
		"postgres://postgres:" + pw + "@" + hostOf(pg.URL) + "?sslmode=nonsense",
		"mysql://root:Zx9/Qp2@" + hostOf(my.URL),
	} {
		for _, env := range []bool{false, true} {
			args := []string{"-log", "debug", "-trace", "-insights", "-c", "SELECT 1"}
			if env {
				t.Setenv("DATABASE_URL", u)
			} else {
				t.Setenv("DATABASE_URL", "")
				args = append([]string{u}, args...)
			}
			code, stdout, stderr := runCLI(t, "", args...)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			for _, s := range []string{"p/?#@%x", pw, "%2F%3F%23", "Zx9/Qp2", "Qp2"} {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("the output shows %q:\n%s%s", s, stdout, stderr)
				}
			}
		}
	}
}
