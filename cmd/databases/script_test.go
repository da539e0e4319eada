package main

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/sqlscan"
)

func TestSplitScript(t *testing.T) {
	tests := []struct {
		name    string
		dialect string
		script  string
		want    []string
	}{
		{"one per line", "sqlite", "CREATE TABLE t (x);\nINSERT INTO t VALUES (1);\nSELECT * FROM t;\n",
			[]string{"CREATE TABLE t (x)", "INSERT INTO t VALUES (1)", "SELECT * FROM t"}},
		{"several on a line, last without ;", "sqlite", "SELECT 1; SELECT 2;SELECT 3",
			[]string{"SELECT 1", "SELECT 2", "SELECT 3"}},
		{"statement over lines", "sqlite", "INSERT INTO t\n  VALUES (';');\n\nSELECT * FROM t",
			[]string{"INSERT INTO t\n  VALUES (';')", "SELECT * FROM t"}},
		{"empty statements and comment-only tail", "sqlite", ";;SELECT 1;;\n-- done;\n/* really; */\n",
			[]string{"SELECT 1"}},
		{"quotes", "sqlite", `SELECT 'a;b', 'it''s;', "c;d", ` + "`e;f`" + `, [g;h]; SELECT 2`,
			[]string{`SELECT 'a;b', 'it''s;', "c;d", ` + "`e;f`" + `, [g;h]`, "SELECT 2"}},
		{"line comment", "postgres", "SELECT 1 -- not; the end\n+ 1; SELECT 2",
			[]string{"SELECT 1 -- not; the end\n+ 1", "SELECT 2"}},
		{"leading comment kept", "postgres", "-- first\nSELECT 1;",
			[]string{"-- first\nSELECT 1"}},
		{"block comment", "sqlite", "SELECT /* ; */ 1; SELECT 2",
			[]string{"SELECT /* ; */ 1", "SELECT 2"}},
		{"nested block comment on postgres", "postgres", "SELECT /* a /* ; */ ; */ 1; SELECT 2",
			[]string{"SELECT /* a /* ; */ ; */ 1", "SELECT 2"}},
		{"dollar quotes", "postgres",
			"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql; SELECT $tag$ ; $$ ; $tag$, $1",
			[]string{"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql", "SELECT $tag$ ; $$ ; $tag$, $1"}},
		{"E string on postgres", "postgres", `SELECT E'it\'s;'; SELECT 'a\'; SELECT 2`,
			[]string{`SELECT E'it\'s;'`, `SELECT 'a\'`, "SELECT 2"}},
		{"backslash and # on mysql", "mysql", "SELECT 'it\\'s;', \"q\\\";\" # a; comment\n; SELECT 2",
			[]string{"SELECT 'it\\'s;', \"q\\\";\" # a; comment", "SELECT 2"}},
		{"# is not a comment elsewhere", "postgres", "SELECT 1 # 2; SELECT 3",
			[]string{"SELECT 1 # 2", "SELECT 3"}},
		{"sqlite trigger body", "sqlite",
			"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  DELETE FROM u;\nEND;\nSELECT 1",
			[]string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  DELETE FROM u;\nEND", "SELECT 1"}},
		{"mysql procedure with END IF", "mysql",
			"CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; SELECT 2; END; CALL p()",
			[]string{"CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; SELECT 2; END", "CALL p()"}},
		{"begin transaction is not a block", "sqlite", "BEGIN; INSERT INTO t VALUES (1); COMMIT;",
			[]string{"BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"}},
		{"column named begin", "sqlite", "CREATE TABLE t (begin INT, end INT); SELECT 1",
			[]string{"CREATE TABLE t (begin INT, end INT)", "SELECT 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitScript(tt.script, sqlscan.ParseDialect(tt.dialect), 0)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, s := range got {
				texts = append(texts, s.Text)
				if s.Text != tt.script[s.Offset:s.Offset+len(s.Text)] {
					t.Errorf("offset %d does not locate %q", s.Offset, s.Text)
				}
			}
			if !reflect.DeepEqual(texts, tt.want) {
				t.Fatalf("statements:\n%q\nwant:\n%q", texts, tt.want)
			}
		})
	}
}

func TestSplitScriptLines(t *testing.T) {
	got, err := splitScript("SELECT 1;\n\n  SELECT\n2; SELECT 3;", sqlscan.SQLite, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, s := range got {
		lines = append(lines, s.Line)
	}
	if want := []int{1, 3, 4}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("lines = %v; want %v", lines, want)
	}
}

func TestSplitScriptUnterminated(t *testing.T) {
	tests := []struct {
		dialect, script, want string
	}{
		{"sqlite", "SELECT 1;\nSELECT 'a;", "line 2: unterminated quoted string"},
		{"sqlite", "SELECT \"a", "line 1: unterminated quoted identifier"}, // "…" is an identifier on SQLite
		{"mysql", "SELECT `a", "line 1: unterminated quoted identifier"},
		{"sqlite", "SELECT [a", "line 1: unterminated [identifier]"},
		{"sqlite", "\n\nSELECT /* a", "line 3: unterminated /* comment"},
		{"postgres", "SELECT /* /* */", "line 1: unterminated /* comment"},
		{"postgres", "SELECT $x$ a", "line 1: unterminated $x$ quoted body"},
		{"mysql", `SELECT 'a\'`, "line 1: unterminated quoted string"},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			_, err := splitScript(tt.script, sqlscan.ParseDialect(tt.dialect), 0)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v; want %s", err, tt.want)
			}
		})
	}
}

// The lexical rules are sqlscan's: MySQL's sql_mode changes where strings
// end, an executable comment /*! … */ holds code, and the routine body is
// told by the object CREATE makes, not by a word anywhere in the statement.
func TestSplitScriptRules(t *testing.T) {
	tests := []struct {
		name   string
		d      sqlscan.Dialect
		mode   sqlscan.Mode
		script string
		want   []string
	}{
		{"NO_BACKSLASH_ESCAPES", sqlscan.MySQL, sqlscan.NoBackslashEscapes, `SELECT 'C:\'; SELECT "a\"; SELECT 2`,
			[]string{`SELECT 'C:\'`, `SELECT "a\"`, "SELECT 2"}},
		{"ANSI_QUOTES", sqlscan.MySQL, sqlscan.ANSIQuotes, `SELECT 1 AS "a\"; SELECT 'b\';'`,
			[]string{`SELECT 1 AS "a\"`, `SELECT 'b\';'`}},
		{"default sql_mode", sqlscan.MySQL, 0, `SELECT "a\";"; SELECT 2`,
			[]string{`SELECT "a\";"`, "SELECT 2"}},
		{"executable comment is code", sqlscan.MySQL, 0, "/*!40101 SET @saved = @@sql_mode */;\n/*!40101 SET sql_mode = '' */;\nSELECT 1",
			[]string{"/*!40101 SET @saved = @@sql_mode */", "/*!40101 SET sql_mode = '' */", "SELECT 1"}},
		{"MySQL 1--1 is arithmetic", sqlscan.MySQL, 0, "SELECT 1--1; SELECT 2",
			[]string{"SELECT 1--1", "SELECT 2"}},
		{"trailing comment kept", sqlscan.Postgres, 0, "SELECT 1 /* one */ ; -- two\nSELECT 2 -- end",
			[]string{"SELECT 1 /* one */", "-- two\nSELECT 2 -- end"}},
		{"columns named event and begin", sqlscan.SQLite, 0, "CREATE TABLE t (event TEXT, begin INT); SELECT 1",
			[]string{"CREATE TABLE t (event TEXT, begin INT)", "SELECT 1"}},
		{"index named trigger", sqlscan.Postgres, 0, `CREATE INDEX "trigger" ON t (begin); SELECT 1`,
			[]string{`CREATE INDEX "trigger" ON t (begin)`, "SELECT 1"}},
		{"IF after END; of a CASE", sqlscan.MySQL, 0,
			"CREATE PROCEDURE p() BEGIN SET @x = CASE WHEN 1 THEN 2 END; IF @x THEN SELECT 1; END IF; END; CALL p()",
			[]string{"CREATE PROCEDURE p() BEGIN SET @x = CASE WHEN 1 THEN 2 END; IF @x THEN SELECT 1; END IF; END", "CALL p()"}},
		{"END /* c */ IF", sqlscan.MySQL, 0,
			"CREATE FUNCTION f() RETURNS INT BEGIN IF 1 THEN RETURN 1; END /* c */ IF; RETURN 2; END; SELECT f()",
			[]string{"CREATE FUNCTION f() RETURNS INT BEGIN IF 1 THEN RETURN 1; END /* c */ IF; RETURN 2; END", "SELECT f()"}},
		{"DEFINER", sqlscan.MySQL, 0,
			"CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; END;\nCREATE OR REPLACE DEFINER = CURRENT_USER() TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.x = 1; END;\nCALL p()",
			[]string{"CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; END",
				"CREATE OR REPLACE DEFINER = CURRENT_USER() TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.x = 1; END", "CALL p()"}},
		{"event", sqlscan.MySQL, 0, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END; SELECT 1",
			[]string{"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END", "SELECT 1"}},
		{"BEGIN ATOMIC", sqlscan.Postgres, 0,
			"CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 0 THEN a END; END; SELECT f(1)",
			[]string{"CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 0 THEN a END; END", "SELECT f(1)"}},
		{"temporary trigger", sqlscan.SQLite, 0, "CREATE TEMP TRIGGER IF NOT EXISTS tr AFTER DELETE ON t BEGIN DELETE FROM u; END; SELECT 1",
			[]string{"CREATE TEMP TRIGGER IF NOT EXISTS tr AFTER DELETE ON t BEGIN DELETE FROM u; END", "SELECT 1"}},
		{"words after the kind", sqlscan.SQLite, 0, "CREATE VIEW v AS SELECT 1 AS trigger; SELECT CASE WHEN 1 THEN 2 END; SELECT 3",
			[]string{"CREATE VIEW v AS SELECT 1 AS trigger", "SELECT CASE WHEN 1 THEN 2 END", "SELECT 3"}},
		{"$ continues a name", sqlscan.Postgres, 0, "SELECT a$b$ ; SELECT $b$;$b$",
			[]string{"SELECT a$b$", "SELECT $b$;$b$"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitScript(tt.script, tt.d, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, s := range got {
				texts = append(texts, s.Text)
			}
			if !reflect.DeepEqual(texts, tt.want) {
				t.Fatalf("statements:\n%q\nwant:\n%q", texts, tt.want)
			}
		})
	}
}

// An unterminated literal or comment names its line; the scanner's error,
// with the byte offset where it starts, is reachable with errors.As.
func TestSplitScriptErrors(t *testing.T) {
	tests := []struct {
		d      sqlscan.Dialect
		mode   sqlscan.Mode
		script string
		want   string
		offset int
	}{
		{sqlscan.MySQL, 0, "SELECT 1;\nSELECT 'C:\\';\nSELECT 2", "line 2: unterminated quoted string", 17},
		{sqlscan.MySQL, sqlscan.ANSIQuotes, "SELECT 1;\n\nSELECT \"a", "line 3: unterminated quoted identifier", 18},
		{sqlscan.MySQL, 0, "SELECT 1;\n/*!40101 SET x = 1;", "line 2: unterminated /*! comment", 29},
		{sqlscan.SQLite, 0, "SELECT 1; /*/ SELECT 2;", "line 1: unterminated /* comment", 10},
		{sqlscan.SQLite, 0, "SELECT 1 /*", "line 1: unterminated /* comment", 9},
		{sqlscan.Postgres, 0, "SELECT 1;\nSELECT $$;\n", "line 2: unterminated $$ quoted body", 17},
		{sqlscan.Postgres, 0, "SELECT E'\\';", "line 1: unterminated quoted string", 7},
		{sqlscan.Postgres, 0, "SELECT U&\"a", "line 1: unterminated quoted identifier", 7},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			_, err := splitScript(tt.script, tt.d, tt.mode)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v; want %s", err, tt.want)
			}
			var se *sqlscan.Error
			if !errors.As(err, &se) || se.Offset != tt.offset {
				t.Fatalf("errors.As(%v) = %v; want a *sqlscan.Error at offset %d", err, se, tt.offset)
			}
		})
	}
	// A closed comment at the very end is no error.
	for _, script := range []string{"SELECT 1 /**/", "SELECT 1 /* x */", "SELECT 1 -- /*"} {
		if _, err := splitScript(script, sqlscan.SQLite, 0); err != nil {
			t.Errorf("%q: %v", script, err)
		}
	}
}

// The runner reads a script by the URL's dialect and, on MySQL, its
// sql_mode: the script that the server reads as two statements is split in
// two, and routines keep the ';' of their bodies on every backend.
func TestScriptBackends(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table, routine := dbtest.Name("script_t"), dbtest.Name("script_r")
		script := map[string]string{
			"sqlite": "CREATE TABLE " + table + " (x INTEGER, event TEXT, begin INTEGER);\n" +
				"CREATE TRIGGER " + routine + " AFTER INSERT ON " + table + " BEGIN\n" +
				"  UPDATE " + table + " SET x = CASE WHEN new.x > 0 THEN new.x * 10 ELSE 0 END WHERE rowid = new.rowid;\n" +
				"  UPDATE " + table + " SET event = 'inserted;' WHERE rowid = new.rowid;\nEND;\n" +
				"INSERT INTO " + table + " (x) VALUES (4);\nSELECT x FROM " + table + ";\nDROP TABLE " + table + ";\n",
			"postgres": "CREATE FUNCTION " + routine + "(a int) RETURNS int LANGUAGE sql\n" +
				"BEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN a > 0 THEN a * 10 END;\nEND;\n" +
				"SELECT " + routine + "(4) AS x;\nDROP FUNCTION " + routine + ";\n",
			"mysql": "CREATE PROCEDURE " + routine + "()\nBEGIN\n  SET @x = CASE WHEN 1 THEN 4 END;\n" +
				"  IF @x = 4 THEN SET @x = @x * 10; END IF;\n  SELECT @x AS x;\nEND;\n" +
				"CALL " + routine + "();\nDROP PROCEDURE " + routine + ";\n",
		}[b.Dialect]
		code, stdout, stderr := runCLI(t, script, "-url", b.URL, "-format", "json")
		if code != 0 || !strings.Contains(stdout, `[{"x":40}]`) {
			t.Fatalf("exit status %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if b.Dialect != "mysql" {
			return
		}
		for _, tc := range []struct{ mode, script, want string }{
			{"NO_BACKSLASH_ESCAPES", "SELECT 'C:\\' AS p;\nSELECT 2 AS n;", `[{"p":"C:\\"}]` + "\n" + `[{"n":2}]` + "\n"},
			{"%27ANSI_QUOTES%27", "SELECT 1 AS \"a\\\";\nSELECT 'b' AS n;", `[{"a\\":1}]` + "\n" + `[{"n":"b"}]` + "\n"},
		} {
			code, stdout, stderr := runCLI(t, tc.script, "-url", b.URL+"&sql_mode="+tc.mode, "-format", "json")
			if code != 0 || stdout != tc.want {
				t.Errorf("sql_mode=%s: exit status %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", tc.mode, code, stdout, tc.want, stderr)
			}
			// Without the sql_mode, the same script is one unterminated string.
			code, _, stderr = runCLI(t, tc.script, "-url", b.URL, "-format", "json")
			if code != 1 || !strings.Contains(stderr, "databases: stdin: line 1: unterminated quoted string") {
				t.Errorf("without sql_mode=%s: exit status %d, stderr:\n%s", tc.mode, code, stderr)
			}
		}
	})
}

// FuzzSplitScript splits each input by every dialect and MySQL sql_mode and
// checks that the statements are the script's own text, trimmed, in order,
// with the right lines; that every token of code lies in a statement (nothing
// but comments, white space and ';' is dropped); and that a statement split
// again is itself. Unicode white space such as U+00A0 is not white space to
// the servers (it is part of a name), so it is not trimmed.
func FuzzSplitScript(f *testing.F) {
	for _, s := range []string{
		"SELECT 'a;b'; SELECT $$;$$; -- c;\nSELECT 1",
		"CREATE TRIGGER t BEGIN SELECT 1; END; SELECT 2",
		"SELECT 'a\\';' # x;\n",
		"\f''",
		"\u00a0;\u00a0x",
		"CREATE PROCEDURE p() BEGIN SET @x = CASE WHEN 1 THEN 2 END; IF @x THEN SELECT 1; END IF; END; CALL p()",
		"CREATE DEFINER=`u`@`h` EVENT e DO BEGIN DELETE FROM t; END;",
		"/*!40101 SET @x = 1 */; /*!50003 CREATE */ /*!50003 TRIGGER t BEGIN SET x = 1; END */;",
		"SELECT \"a\\\"; SELECT '\\'; /* /* */ */ SELECT [;]",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; SELECT E'\\';'",
	} {
		f.Add(s)
	}
	type rules struct {
		d    sqlscan.Dialect
		mode sqlscan.Mode
	}
	all := []rules{{sqlscan.SQLite, 0}, {sqlscan.Postgres, 0}, {sqlscan.MySQL, 0}, {sqlscan.MySQL, sqlscan.NoBackslashEscapes},
		{sqlscan.MySQL, sqlscan.ANSIQuotes}, {sqlscan.MySQL, sqlscan.NoBackslashEscapes | sqlscan.ANSIQuotes}}
	f.Fuzz(func(t *testing.T, script string) {
		for _, r := range all {
			got, err := splitScript(script, r.d, r.mode)
			if err != nil {
				var se *sqlscan.Error
				if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(script) {
					t.Fatalf("%s %q: error %v without a scanner offset", r.d, script, err)
				}
				continue
			}
			prev := 0
			for _, s := range got {
				if s.Offset < prev || s.Offset+len(s.Text) > len(script) || script[s.Offset:s.Offset+len(s.Text)] != s.Text {
					t.Fatalf("%s %q: statement %q at %d is not in the script after offset %d", r.d, script, s.Text, s.Offset, prev)
				}
				if s.Text == "" || strings.Trim(s.Text, " \t\n\r\f\v") != s.Text {
					t.Fatalf("%s %q: statement %q is not trimmed", r.d, script, s.Text)
				}
				if want := 1 + strings.Count(script[:s.Offset], "\n"); s.Line != want {
					t.Fatalf("%s %q: statement %q on line %d, want %d", r.d, script, s.Text, s.Line, want)
				}
				prev = s.Offset + len(s.Text)
				// Alone, a statement is read alike, unless on MySQL it began or
				// ended inside a /*! … */, whose code a ';' can split, or ends
				// with --, a comment at the end of a text but not before ';'.
				again, err := splitScript(s.Text, r.d, r.mode)
				mysqlEdge := r.d == sqlscan.MySQL && (strings.Contains(s.Text, "*/") || strings.HasSuffix(s.Text, "--"))
				if err == nil && !mysqlEdge && (len(again) != 1 || again[0].Text != s.Text) {
					t.Fatalf("%s %q: statement %q split again is %+v", r.d, script, s.Text, again)
				}
			}
			sc := sqlscan.New(r.d, r.mode, script)
			k := 0
			for tok := sc.Next(); tok.Kind != sqlscan.EOF; tok = sc.Next() {
				if tok.Kind == sqlscan.Comment || tok.Kind == sqlscan.Semicolon {
					continue
				}
				for k < len(got) && got[k].Offset+len(got[k].Text) <= tok.Start {
					k++
				}
				if k == len(got) || tok.Start < got[k].Offset || tok.End > got[k].Offset+len(got[k].Text) {
					t.Fatalf("%s %q: %s token %q is in no statement", r.d, script, tok.Kind, script[tok.Start:tok.End])
				}
			}
			// Read a line at a time (the feeder), the script is the
			// statements that end at terminated's offset, then the rest:
			// the same statements as read whole (on MySQL, but where a
			// /*! … */ is cut by a ';').
			end := terminated(script, r.d, r.mode)
			if end > 0 && script[end-1] != ';' {
				t.Fatalf("%s %q: terminated at %d, not after a ';'", r.d, script, end)
			}
			head, err1 := splitScript(script[:end], r.d, r.mode)
			tail, err2 := splitScript(script[end:], r.d, r.mode)
			var texts []string
			for _, st := range append(head, tail...) {
				texts = append(texts, st.Text)
			}
			var want []string
			for _, st := range got {
				want = append(want, st.Text)
			}
			mysqlEdge := r.d == sqlscan.MySQL && strings.Contains(script, "*/")
			if !mysqlEdge && (err1 != nil || err2 != nil || !slices.Equal(texts, want)) {
				t.Fatalf("%s %q: cut at %d, read as %q (%v, %v); whole, %q", r.d, script, end, texts, err1, err2, want)
			}
		}
	})
}
