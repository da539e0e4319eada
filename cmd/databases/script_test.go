package main

import (
	"reflect"
	"strings"
	"testing"
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
			got, err := splitScript(tt.script, tt.dialect)
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
	got, err := splitScript("SELECT 1;\n\n  SELECT\n2; SELECT 3;", "sqlite")
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
		{"sqlite", "SELECT \"a", "line 1: unterminated quoted string"},
		{"mysql", "SELECT `a", "line 1: unterminated quoted identifier"},
		{"sqlite", "SELECT [a", "line 1: unterminated [identifier]"},
		{"sqlite", "\n\nSELECT /* a", "line 3: unterminated /* comment"},
		{"postgres", "SELECT /* /* */", "line 1: unterminated /* comment"},
		{"postgres", "SELECT $x$ a", "line 1: unterminated $x$ quoted body"},
		{"mysql", `SELECT 'a\'`, "line 1: unterminated quoted string"},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			_, err := splitScript(tt.script, tt.dialect)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v; want %s", err, tt.want)
			}
		})
	}
}

func TestDialectOf(t *testing.T) {
	for url, want := range map[string]string{
		"sqlite:///:memory:":         "sqlite",
		"sqlite3:///a.db":            "sqlite",
		"postgres://h/db":            "postgres",
		"POSTGRESQL://h/db":          "postgres",
		"postgres+pq://h/db":         "postgres",
		"mysql://root@127.0.0.1/db":  "mysql",
		"mariadb://root@127.0.0.1/d": "mysql",
		"nonsense":                   "sqlite",
	} {
		if got := dialectOf(url); got != want {
			t.Errorf("dialectOf(%q) = %q; want %q", url, got, want)
		}
	}
}

func FuzzSplitScript(f *testing.F) {
	f.Add("SELECT 'a;b'; SELECT $$;$$; -- c;\nSELECT 1", "postgres")
	f.Add("CREATE TRIGGER t BEGIN SELECT 1; END; SELECT 2", "sqlite")
	f.Add("SELECT 'a\\';' # x;\n", "mysql")
	f.Add("\f''", "sqlite")
	f.Add("\u00a0;\u00a0x", "sqlite")
	f.Fuzz(func(t *testing.T, script, dialect string) {
		got, err := splitScript(script, dialect)
		if err != nil {
			return
		}
		for _, s := range got {
			if s.Offset < 0 || s.Offset+len(s.Text) > len(script) || script[s.Offset:s.Offset+len(s.Text)] != s.Text {
				t.Fatalf("statement %q at %d is not in the script", s.Text, s.Offset)
			}
			if strings.TrimSpace(s.Text) != s.Text || s.Text == "" {
				t.Fatalf("statement %q is not trimmed", s.Text)
			}
		}
	})
}
