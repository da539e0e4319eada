package sqlscan

import (
	"reflect"
	"testing"
)

// A ';' inside a compound body belongs to its statement, which ends at the
// body's matching END, per dialect; a body that does not close was not one.
func TestStatementBodies(t *testing.T) {
	const (
		sqTrig = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1); UPDATE u SET x = 2; END"
		pgFunc = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END"
		pgProc = "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END"
		myProc = "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"
	)
	tests := []struct {
		d    Dialect
		in   string
		want []string // the text of each statement
	}{
		{SQLite, sqTrig, []string{sqTrig}},
		{SQLite, sqTrig + "; COMMIT", []string{sqTrig, "COMMIT"}},
		{SQLite, "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; END",
			[]string{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", "END"}},
		{SQLite, "create temporary trigger if not exists tr before delete on t begin delete from u; end",
			[]string{"create temporary trigger if not exists tr before delete on t begin delete from u; end"}},
		{SQLite, "CREATE TRIGGER IF NOT EXISTS tr AFTER UPDATE ON t WHEN CASE WHEN new.x THEN 1 END BEGIN UPDATE u SET y = CASE WHEN new.x > 0 THEN 1 ELSE 2 END; SELECT CASE 1 WHEN 1 THEN 0 END; END; BEGIN",
			[]string{"CREATE TRIGGER IF NOT EXISTS tr AFTER UPDATE ON t WHEN CASE WHEN new.x THEN 1 END BEGIN UPDATE u SET y = CASE WHEN new.x > 0 THEN 1 ELSE 2 END; SELECT CASE 1 WHEN 1 THEN 0 END; END", "BEGIN"}},
		// A trigger named begin: one BEGIN opens the body, whichever it is.
		{SQLite, "CREATE TRIGGER begin AFTER INSERT ON t BEGIN SELECT 1; END; COMMIT",
			[]string{"CREATE TRIGGER begin AFTER INSERT ON t BEGIN SELECT 1; END", "COMMIT"}},
		// An identifier begin in the body opens nothing.
		{SQLite, "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET begin = 1; END; COMMIT",
			[]string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET begin = 1; END", "COMMIT"}},
		{SQLite, "CREATE TABLE t (begin INT, c TEXT); COMMIT", []string{"CREATE TABLE t (begin INT, c TEXT)", "COMMIT"}},
		// Not a compound body on SQLite.
		{SQLite, "BEGIN NOT ATOMIC SELECT 1; END", []string{"BEGIN NOT ATOMIC SELECT 1", "END"}},

		{Postgres, pgFunc, []string{pgFunc}},
		{Postgres, pgFunc + "; COMMIT", []string{pgFunc, "COMMIT"}},
		{Postgres, pgProc, []string{pgProc}},
		{Postgres, "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 0 THEN a END; END; END",
			[]string{"CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 0 THEN a END; END", "END"}},
		{Postgres, "create or replace procedure p() begin atomic insert into t values (1); end",
			[]string{"create or replace procedure p() begin atomic insert into t values (1); end"}},
		// BEGIN ATOMIC inside parentheses (a parameter begin of type
		// atomic) opens nothing; nor does a column begin in the body.
		{Postgres, "CREATE FUNCTION f(begin atomic) RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql; COMMIT; END",
			[]string{"CREATE FUNCTION f(begin atomic) RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "COMMIT", "END"}},
		{Postgres, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT begin FROM t; END; COMMIT",
			[]string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT begin FROM t; END", "COMMIT"}},
		{Postgres, "CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN CASE WHEN true THEN 1 END; COMMIT",
			[]string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN CASE WHEN true THEN 1 END", "COMMIT"}},
		// A body that never closes was not one: split at every ';'.
		{Postgres, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; COMMIT; SELECT 2",
			[]string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1", "COMMIT", "SELECT 2"}},
		{Postgres, "BEGIN; SELECT CASE WHEN true THEN 1 END; COMMIT", []string{"BEGIN", "SELECT CASE WHEN true THEN 1 END", "COMMIT"}},

		{MySQL, myProc, []string{myProc}},
		{MySQL, myProc + "; COMMIT", []string{myProc, "COMMIT"}},
		{MySQL, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.x = 1; SET NEW.y = 2; END; BEGIN",
			[]string{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.x = 1; SET NEW.y = 2; END", "BEGIN"}},
		{MySQL, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW FOLLOWS tr0 BEGIN SET NEW.x = 1; END; COMMIT",
			[]string{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW FOLLOWS tr0 BEGIN SET NEW.x = 1; END", "COMMIT"}},
		{MySQL, "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN DECLARE x INT DEFAULT 1; RETURN 1; END",
			[]string{"CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN DECLARE x INT DEFAULT 1; RETURN 1; END"}},
		{MySQL, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END; COMMIT",
			[]string{"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END", "COMMIT"}},
		{MySQL, "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; END; COMMIT",
			[]string{"CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; END", "COMMIT"}},
		{MySQL, "CREATE PROCEDURE p() BEGIN " +
			"BEGIN SELECT 1; END; " +
			"IF 1 THEN SELECT 2; ELSEIF 2 THEN SELECT 3; END IF; " +
			"l: LOOP LEAVE l; END LOOP l; " +
			"CASE @x WHEN 1 THEN SELECT 4; ELSE BEGIN SELECT 7; END; END CASE; " +
			"SET @y = CASE WHEN 1 THEN 2 END; " +
			"WHILE 0 DO SELECT 5; END WHILE; " +
			"REPEAT SELECT 6; UNTIL 1 END REPEAT; " +
			"END; COMMIT",
			[]string{"CREATE PROCEDURE p() BEGIN " +
				"BEGIN SELECT 1; END; " +
				"IF 1 THEN SELECT 2; ELSEIF 2 THEN SELECT 3; END IF; " +
				"l: LOOP LEAVE l; END LOOP l; " +
				"CASE @x WHEN 1 THEN SELECT 4; ELSE BEGIN SELECT 7; END; END CASE; " +
				"SET @y = CASE WHEN 1 THEN 2 END; " +
				"WHILE 0 DO SELECT 5; END WHILE; " +
				"REPEAT SELECT 6; UNTIL 1 END REPEAT; " +
				"END", "COMMIT"}},
		{MySQL, "BEGIN NOT ATOMIC SELECT 1; IF 1 THEN SELECT 2; END IF; END; COMMIT",
			[]string{"BEGIN NOT ATOMIC SELECT 1; IF 1 THEN SELECT 2; END IF; END", "COMMIT"}},
		{MySQL, "BEGIN; SELECT 1; COMMIT", []string{"BEGIN", "SELECT 1", "COMMIT"}},
		{MySQL, "BEGIN WORK; COMMIT", []string{"BEGIN WORK", "COMMIT"}},
		// A procedure whose body is one statement, and a column begin that
		// opens no block that closes: split at every ';'.
		{MySQL, "CREATE PROCEDURE p() SELECT 1; COMMIT", []string{"CREATE PROCEDURE p() SELECT 1", "COMMIT"}},
		{MySQL, "CREATE PROCEDURE p() SELECT begin FROM t; START TRANSACTION; SELECT 2",
			[]string{"CREATE PROCEDURE p() SELECT begin FROM t", "START TRANSACTION", "SELECT 2"}},
		// begin as an identifier opens no block: the server runs what
		// follows as statements of their own.
		{MySQL, "CREATE PROCEDURE p() SELECT begin FROM t; SET autocommit = 0; END",
			[]string{"CREATE PROCEDURE p() SELECT begin FROM t", "SET autocommit = 0", "END"}},
		{MySQL, "CREATE PROCEDURE p() CREATE TABLE begin SELECT 1; SET autocommit = 0; END",
			[]string{"CREATE PROCEDURE p() CREATE TABLE begin SELECT 1", "SET autocommit = 0", "END"}},
		{MySQL, "CREATE PROCEDURE p() SELECT (1) begin FROM t; START TRANSACTION; END",
			[]string{"CREATE PROCEDURE p() SELECT (1) begin FROM t", "START TRANSACTION", "END"}},
		{MySQL, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW INSERT INTO begin SELECT 1; SET autocommit = 0; END",
			[]string{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW INSERT INTO begin SELECT 1", "SET autocommit = 0", "END"}},
		{MySQL, "CREATE PROCEDURE begin() BEGIN SELECT CASE WHEN 1 THEN begin END FROM t; END; COMMIT",
			[]string{"CREATE PROCEDURE begin() BEGIN SELECT CASE WHEN 1 THEN begin END FROM t; END", "COMMIT"}},
		// A block may start with a label, or be empty where no expression
		// may be.
		{MySQL, "CREATE PROCEDURE p() BEGIN lbl: LOOP LEAVE lbl; END LOOP lbl; BEGIN END; x: BEGIN y: WHILE 1 DO LEAVE y; END WHILE; END x; END; COMMIT",
			[]string{"CREATE PROCEDURE p() BEGIN lbl: LOOP LEAVE lbl; END LOOP lbl; BEGIN END; x: BEGIN y: WHILE 1 DO LEAVE y; END WHILE; END x; END", "COMMIT"}},
		{MySQL, "CREATE PROCEDURE p() BEGIN END; COMMIT", []string{"CREATE PROCEDURE p() BEGIN END", "COMMIT"}},
		// A block that starts otherwise after THEN is not counted, so its
		// END ends the body early: more statements, each read alone.
		{MySQL, "CREATE PROCEDURE p() BEGIN IF 1 THEN BEGIN END; END IF; SELECT 1; END",
			[]string{"CREATE PROCEDURE p() BEGIN IF 1 THEN BEGIN END", "END IF", "SELECT 1", "END"}},
		{MySQL, "CREATE PROCEDURE p() SELECT begin x FROM t; SET autocommit = 0; END",
			[]string{"CREATE PROCEDURE p() SELECT begin x FROM t", "SET autocommit = 0", "END"}},
		// The body inside an executable comment.
		{MySQL, "/*!50003 CREATE PROCEDURE p() BEGIN SELECT 1; END */; COMMIT",
			[]string{"/*!50003 CREATE PROCEDURE p() BEGIN SELECT 1; END */", "COMMIT"}},
	}
	for _, tt := range tests {
		s := New(tt.d, 0, tt.in)
		var got []string
		for {
			st, ok := s.NextStatement()
			if !ok {
				break
			}
			got = append(got, tt.in[st.Start:st.End])
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q:\n got %q\nwant %q", tt.d, tt.in, got, tt.want)
		}
	}
}

// Statements with bodies are read in one pass without allocating.
func TestStatementBodyAllocs(t *testing.T) {
	q := "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END; CREATE PROCEDURE q() BEGIN SELECT 1; COMMIT"
	n := testing.AllocsPerRun(100, func() {
		s := New(MySQL, 0, q)
		for {
			if _, ok := s.NextStatement(); !ok {
				break
			}
		}
	})
	if n != 0 {
		t.Errorf("NextStatement allocates %v times", n)
	}
}
