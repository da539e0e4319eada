package databases

import (
	"testing"

	"github.com/go-databases/databases/internal/dsn"
)

// A statement that opens a compound body (a trigger, a routine's BEGIN
// ATOMIC, a MySQL routine or event) is one DDL statement up to its
// matching END: the ';' inside and the END that closes it are no
// transaction control, while a statement after the body still is.
func TestClassifyCompoundBodies(t *testing.T) {
	const none = txEffect(0)
	tests := []struct {
		d      *dsn.Dialect
		query  string
		effect txEffect
		does   stmtEffect
		count  int
	}{
		{dsn.SQLite, "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1); UPDATE u SET x = 2; END", none, effWrite | effDDL, 1},
		{dsn.SQLite, "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET x = CASE WHEN new.x THEN 1 END; END", none, effWrite | effDDL, 1},
		{dsn.SQLite, "CREATE TRIGGER IF NOT EXISTS tr AFTER INSERT ON t BEGIN SELECT 1; END; END", effEnd, effWrite | effDDL, 2},
		{dsn.Postgres, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END", none, effWrite | effDDL, 1},
		{dsn.Postgres, "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END", none, effWrite | effDDL, 1},
		{dsn.Postgres, "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN a END; END", none, effWrite | effDDL, 1},
		{dsn.Postgres, "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT 1; END; COMMIT", effEnd, effWrite | effDDL, 2},
		{dsn.MySQL, "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", effImplicitCommit, effWrite | effDDL, 1},
		{dsn.MySQL, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.x = 1; IF NEW.y THEN SET NEW.y = 0; END IF; END", effImplicitCommit, effWrite | effDDL, 1},
		{dsn.MySQL, "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN DECLARE x INT; RETURN 1; END", effImplicitCommit, effWrite | effDDL, 1},
		{dsn.MySQL, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END", effImplicitCommit, effWrite | effDDL, 1},
		{dsn.MySQL, "CREATE PROCEDURE p() BEGIN BEGIN SELECT 1; END; END; START TRANSACTION", effImplicitCommit | effBegin, effWrite | effDDL, 2},
	}
	for _, tt := range tests {
		ts := classify(backendOf(tt.d), 0, tt.query)
		if ts.effect != tt.effect || ts.does != tt.does || ts.count != tt.count {
			t.Errorf("%s: classify(%q) = effect %b, does %010b, %d statements; want %b, %010b, %d",
				tt.d, tt.query, ts.effect, ts.does, ts.count, tt.effect, tt.does, tt.count)
		}
	}
}
