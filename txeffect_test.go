package databases

import (
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/sqlscan"
)

// TestClassify checks what each statement does to a transaction, on each
// dialect, through comments, case, parentheses and multi-statement strings.
func TestClassify(t *testing.T) {
	const none = txEffect(0)
	type want struct{ sqlite, postgres, mysql txEffect }
	every := func(e txEffect) want { return want{e, e, e} }
	my := func(e txEffect) want { return want{mysql: e} }
	tests := []struct {
		query string
		want  want
		kw    string // keyword named in errors, on the dialects with an effect
	}{
		{"SELECT 1", every(none), ""},
		{"select 1", every(none), ""},
		{"Insert into t values (1)", every(none), ""},
		{"WITH x AS (SELECT 1) SELECT * FROM x", every(none), ""},
		{"UPDATE t SET begin = 1", every(none), ""},
		{"BEGINNING", every(none), ""},
		{"'BEGIN'", every(none), ""},
		{"-- BEGIN", every(none), ""},
		{"", every(none), ""},
		{"begin", every(effBegin), "BEGIN"},
		{"  BEGIN TRANSACTION", every(effBegin), "BEGIN"},
		{"-- note\nBegin;", every(effBegin), "BEGIN"},
		{"/* x */ START TRANSACTION", every(effBegin), "START TRANSACTION"},
		{"\fBEGIN", every(effBegin), "BEGIN"},
		{"(BEGIN", every(effBegin), "BEGIN"},
		{"# note\nBEGIN", my(effBegin), "BEGIN"},
		{"/* a /* b */ c */ BEGIN", want{postgres: effBegin}, "BEGIN"},
		{"/*!40000 BEGIN */", my(effBegin), "BEGIN"},
		{"SELECT 1; BEGIN", every(effBegin), "BEGIN"},
		{"SELECT ';BEGIN'", every(none), ""},
		{"SELECT 1; COMMIT", every(effEnd), "COMMIT"},
		{"commit work", every(effEnd), "COMMIT"},
		{"END", want{effEnd, effEnd, none}, "END"},
		{"ABORT", want{effEnd, effEnd, none}, "ABORT"},
		{"ROLLBACK", every(effEnd), "ROLLBACK"},
		{"ROLLBACK TO SAVEPOINT a", every(effSavepoint), "ROLLBACK TO"},
		{"ROLLBACK WORK TO a", every(effSavepoint), "ROLLBACK"},
		{"SAVEPOINT a", every(effSavepoint), "SAVEPOINT"},
		{"RELEASE SAVEPOINT a", every(effSavepoint), "RELEASE"},
		{"PREPARE TRANSACTION 'x'", want{postgres: effEnd}, "PREPARE TRANSACTION"},
		{"XA START 'x'", my(effBegin), "XA START"},
		{"XA COMMIT 'x'", my(effEnd), "XA COMMIT"},
		{"SET autocommit = 0", my(effAutocommit), "SET"},
		{"SET AUTOCOMMIT=0", my(effAutocommit), "SET"},
		{"set @@session.autocommit = OFF", my(effAutocommit), "SET"},
		{"SET SESSION completion_type = CHAIN", my(effAutocommit), "SET"},
		{"SET STATEMENT max_statement_time=0 FOR CREATE TABLE x (id int)", my(effImplicitCommit), "SET STATEMENT"},
		{"SET STATEMENT lock_wait_timeout = 5 FOR TRUNCATE TABLE t", my(effImplicitCommit), "SET STATEMENT"},
		{"SET STATEMENT a=(1), b='for' FOR /* x */ ALTER TABLE t ADD z int", my(effImplicitCommit), "SET STATEMENT"},
		{"SET STATEMENT a=1 FOR CREATE TEMPORARY TABLE x (id int)", every(none), ""},
		{"SET STATEMENT a=1 FOR SELECT * FROM t FOR UPDATE", every(none), ""},
		{"SET STATEMENT a=1 FOR COMMIT", want{mysql: effEnd}, "SET"},
		{"EXECUTE IMMEDIATE 'COMMIT AND CHAIN'", my(effEnd), "EXECUTE"},
		{"EXECUTE IMMEDIATE /* c */ \"CREATE TABLE x (a int)\"", my(effImplicitCommit), "EXECUTE IMMEDIATE"},
		{"EXECUTE IMMEDIATE 'INSERT INTO t VALUES (1)'", every(none), ""},
		{"EXECUTE IMMEDIATE 'INSERT INTO t VALUES (''a'')'", my(effUnknown), "EXECUTE"},
		{"EXECUTE IMMEDIATE @s", my(effUnknown), "EXECUTE"},
		{"EXECUTE IMMEDIATE CONCAT('COM', 'MIT')", my(effUnknown), "EXECUTE"},
		{"ANALYZE SELECT * FROM t", every(none), ""},
		{"ANALYZE INSERT INTO t VALUES (1)", every(none), ""},
		{"analyze format=json select 1", every(none), ""},
		{"ANALYZE TABLE t", my(effImplicitCommit), "ANALYZE TABLE"},
		{"ANALYZE LOCAL TABLE t", my(effImplicitCommit), "ANALYZE LOCAL"},
		{"SET @note = 'autocommit'", every(none), ""},
		{"SET search_path = x", every(none), ""},
		{"CALL p()", my(effUnknown), "CALL"},
		{"EXECUTE s", my(effUnknown), "EXECUTE"},
		{"BEGIN NOT ATOMIC SELECT 1; END", want{effBegin | effEnd, effBegin | effEnd, effUnknown}, ""},
		{"CREATE TABLE t (x INT)", my(effImplicitCommit), "CREATE TABLE"},
		{"CREATE TEMPORARY TABLE t (x INT)", every(none), ""},
		{"CREATE OR REPLACE TEMPORARY TABLE t (x INT)", every(none), ""},
		{"DROP TEMPORARY TABLE t", every(none), ""},
		{"/*!40000 ALTER TABLE t DISABLE KEYS */", my(effImplicitCommit), "ALTER TABLE"},
		{"CHECK TABLE t", my(effImplicitCommit), "CHECK TABLE"},
		{"FLUSH TABLES", my(effImplicitCommit), "FLUSH TABLES"},
		{"LOCK TABLES t WRITE", my(effImplicitCommit), "LOCK TABLES"},
		{"START SLAVE", my(effImplicitCommit), "START SLAVE"},
		{"TRUNCATE t", my(effImplicitCommit), "TRUNCATE T"},
		{"SET PASSWORD = PASSWORD('x')", my(effImplicitCommit), "SET PASSWORD"},
		{"SELECT 1; CREATE TABLE t (x int); COMMIT", want{effEnd, effEnd, effImplicitCommit | effEnd}, ""},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			d    *dsn.Dialect
			want txEffect
		}{{dsn.SQLite, tt.want.sqlite}, {dsn.Postgres, tt.want.postgres}, {dsn.MySQL, tt.want.mysql}} {
			ts := classify(backendOf(c.d), 0, tt.query)
			if ts.effect != c.want {
				t.Errorf("%s: classify(%q) = %b, want %b", c.d, tt.query, ts.effect, c.want)
			}
			if c.want != 0 && tt.kw != "" && ts.keyword != tt.kw {
				t.Errorf("%s: classify(%q) names %q, want %q", c.d, tt.query, ts.keyword, tt.kw)
			}
		}
	}
}

// TestStatementFacts checks the rest of the reading, on each dialect: the
// statements a text holds, which may write (unknown counts as a write,
// writes dressed as reads included), which change session state, the
// session's read-only state or the schema, and from these what the
// statement cache may keep and what a retry may run again. The disguises:
// comments, MySQL /*! */ code, a statement after ';', case.
func TestStatementFacts(t *testing.T) {
	const (
		W  = effWrite
		S  = effSession
		RO = effReadOnly
		D  = effDDL
		C  = effCalls
		F  = effFunc
		N  = effNames
	)
	all := func(e stmtEffect) [3]stmtEffect { return [3]stmtEffect{e, e, e} }
	tests := []struct {
		query string
		want  [3]stmtEffect // sqlite, postgres, mysql; of the bits above
		count int
	}{
		{"SELECT v FROM t WHERE id = ?", all(0), 1},
		{"select count(*), max(v) from t", all(0), 1},
		{"SELECT 1; SELECT 2", all(0), 2},
		{"SELECT 1; -- nothing\n", all(0), 1},
		{"/* c */ SELECT 1 /* ; */", all(0), 1},
		{"SELECT ';INSERT'", all(0), 1},
		{"SELECT 1; INSERT INTO t VALUES (1)", all(W), 2},
		{"INSERT INTO t VALUES (1)", all(W), 1},
		{"SHOW TABLES", all(0), 1},
		{"EXPLAIN SELECT * FROM t", all(0), 1},
		{"EXPLAIN ANALYZE INSERT INTO t VALUES (1)", all(W), 1},
		{"SELECT * INTO newtbl FROM t", all(W), 1},
		{"WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM x", all(W), 1},
		{"WITH x AS (SELECT 1 AS a) SELECT a FROM x", all(0), 1},
		{"SELECT nextval('s')", all(W | F), 1},
		{"SELECT my_func(1)", all(W | F), 1},
		{"SELECT * FROM t WHERE v = lower(?)", all(0), 1},
		{"PREPARE p AS SELECT 1", all(N), 1},
		{"PREPARE p FROM 'SELECT 1'", all(N), 1},
		{"DEALLOCATE PREPARE p", all(N), 1},
		{"PREPARE TRANSACTION 'x'", all(0), 1},
		{"SELECT * FROM t FOR UPDATE", all(W), 1},
		{"SELECT * FROM t LOCK IN SHARE MODE", all(W), 1},
		{"SELECT * FROM t WHERE id IN (1, 2) AND EXISTS (SELECT 1)", all(0), 1},
		{"SET STATEMENT max_statement_time=60 FOR INSERT INTO t VALUES (1)", all(W | S), 1},
		// On MySQL the statement after FOR is read as itself: DDL there.
		{"SET STATEMENT max_statement_time=60 FOR CREATE TABLE x (id int)", [3]stmtEffect{W | S | F, W | S | F, W | S | D | F}, 1},
		{"ANALYZE SELECT 1", [3]stmtEffect{W, W, 0}, 1},
		{"ANALYZE INSERT INTO t VALUES (1)", all(W), 1},
		{"CALL p()", all(W | D | C), 1},
		{"DO 'BEGIN NULL; END'", all(W | D | C), 1},
		{"COPY t FROM STDIN", all(W), 1},
		{"USE otherdb", all(S), 1},
		{"SET search_path = other", all(S), 1},
		{"SET ROLE reader", all(S), 1},
		{"SET NAMES utf8mb4", all(S), 1},
		{"SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')", all(S), 1},
		{"SET @x = 1", [3]stmtEffect{S, S, 0}, 1},
		{"RESET search_path", all(S), 1},
		{"DISCARD ALL", all(S | RO), 1},
		{"SET default_transaction_read_only = off", all(S | RO), 1},
		{"set Default_Transaction_Read_Only to default", all(S | RO), 1},
		{"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", all(S | RO), 1},
		{"SET SESSION TRANSACTION READ WRITE", all(S | RO), 1},
		{"SET SESSION TRANSACTION READ ONLY", all(S), 1},
		{"SET @@session.transaction_read_only = 0", all(S | RO), 1},
		{"SET tx_read_only = 0", all(S | RO), 1},
		{"/*!40101 SET SESSION TRANSACTION READ WRITE */", [3]stmtEffect{0, 0, S | RO}, 1},
		{"SELECT 1; SET SESSION TRANSACTION READ WRITE", all(S | RO), 2},
		{"BEGIN READ WRITE", all(RO), 1},
		{"START TRANSACTION READ WRITE", all(RO), 1},
		{"SELECT set_config('default_transaction_read_only', 'off', false)", all(W | F | S | RO), 1},
		{"SELECT set_config(?, 'off', false)", all(W | F | S | RO), 1},
		{"SELECT set_config('search_path', 'x', false)", all(W | F), 1},
		{"SELECT read_only FROM t", all(0), 1},
		{"CREATE TABLE t (x INT)", all(W | D), 1},
		{"ALTER TABLE t ADD COLUMN y INT", all(W | D), 1},
		{"/*!40000 ALTER TABLE t DISABLE KEYS */", [3]stmtEffect{0, 0, W | D}, 1},
		{"DROP TABLE t", all(W | D), 1},
		{"ATTACH DATABASE 'x' AS x", all(W | D | S), 1},
		{"PRAGMA foreign_keys = ON", all(W | S), 1},
		{"PRAGMA table_info(t)", all(0), 1},
		{"INSERT INTO ledger VALUES (1); COMMIT; EXECUTE p", all(W | D | C), 3},
	}
	for _, tt := range tests {
		for i, d := range []*dsn.Dialect{dsn.SQLite, dsn.Postgres, dsn.MySQL} {
			ts := classify(backendOf(d), 0, tt.query)
			if got := ts.does; got != tt.want[i] {
				t.Errorf("%s: classify(%q) = %010b, want %010b", d, tt.query, got, tt.want[i])
			}
			if ts.count != tt.count && !(tt.want[i] == 0 && tt.count == 1 && ts.count == 0) {
				t.Errorf("%s: classify(%q) counts %d statements, want %d", d, tt.query, ts.count, tt.count)
			}
		}
	}
}

// TestStatementUses: what each feature may do with a statement, from the
// reading: the cache keeps one statement that changes no session state; a
// retry runs again one statement that runs no others and ends no
// transaction; a MySQL commit point is implicit or unknown.
func TestStatementUses(t *testing.T) {
	tests := []struct {
		query                      string
		cacheable, rerun, mycommit bool
	}{
		{"SELECT v FROM t WHERE id = ?", true, true, false},
		{"INSERT INTO t VALUES (?)", true, true, false},
		{"INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", false, false, false},
		{"INSERT INTO ledger VALUES (1); COMMIT; EXECUTE p", false, false, true},
		{"USE other", false, true, false},
		{"SET sql_mode = 'ANSI'", false, true, false},
		{"SET STATEMENT max_statement_time=1 FOR SELECT 1", false, true, false},
		{"COMMIT", true, false, false},
		{"CALL p()", true, false, true},
		{"CREATE TABLE IF NOT EXISTS t (x INT)", true, false, true},
	}
	for _, tt := range tests {
		ts := classify(backendOf(dsn.MySQL), 0, tt.query)
		if ts.cacheable() != tt.cacheable || ts.rerunnable() != tt.rerun || ts.commitPoint(backendOf(dsn.MySQL)) != tt.mycommit {
			t.Errorf("%q: cacheable %v, rerunnable %v, commit point %v; want %v, %v, %v",
				tt.query, ts.cacheable(), ts.rerunnable(), ts.commitPoint(backendOf(dsn.MySQL)), tt.cacheable, tt.rerun, tt.mycommit)
		}
	}
}

// TestClassifyAllocs: the statements programs run all the time cost no
// allocation.
func TestClassifyAllocs(t *testing.T) {
	for _, q := range []string{"SELECT * FROM t WHERE id = ?", "INSERT INTO t VALUES (?)", "/* c */ SELECT 1", "SELECT 1; SELECT 2"} {
		if n := testing.AllocsPerRun(100, func() { classify(backendOf(dsn.MySQL), 0, q) }); n != 0 {
			t.Errorf("classify(%q) allocates %v times", q, n)
		}
	}
}

// TestStmtMemo: the connection's memo answers each text as classify does,
// whichever text came before (the last one's answer is kept apart from the
// map's), the empty text included, and reading a text again allocates
// nothing.
func TestStmtMemo(t *testing.T) {
	cn := &connector{cfg: &dsn.Config{Dialect: dsn.Postgres}, backend: backendOf(dsn.Postgres)}
	texts := []string{"", "COMMIT", "UPDATE t SET a = $1", "BEGIN", "COMMIT", "", "CREATE TABLE t (a int)", "UPDATE t SET a = $1"}
	var m stmtMemo
	for round := range 2 {
		for i, q := range texts {
			want := classify(cn.backend, 0, q)
			if got := m.read(cn, q); *got != want {
				t.Errorf("round %d, text %d %q: %+v, want %+v", round, i, q, *got, want)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.read(cn, texts[2]) }); n != 0 {
		t.Errorf("reading a known text allocates %v times", n)
	}
}

func BenchmarkClassify(b *testing.B) {
	for _, q := range []string{"SELECT name FROM bench_0a1b2c3d WHERE id = ?", "/* c */ SELECT 1"} {
		b.Run(q[:6], func(b *testing.B) {
			for b.Loop() {
				classify(backendOf(dsn.SQLite), 0, q)
			}
		})
	}
}

// FuzzClassify: the reading of any text, in every dialect, ends, gives the
// same answer twice, counts no more statements than the text has ';' and
// one, and reads a write appended after a complete text as one more
// statement, which writes.
func FuzzClassify(f *testing.F) {
	for _, q := range []string{
		"SELECT 1", "WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM x",
		"/*!40101 SET SESSION TRANSACTION READ WRITE */", "SET STATEMENT a=1 FOR INSERT INTO t VALUES (1)",
		"SELECT set_config('default_transaction_read_only', 'off', false)", "DO $$BEGIN NULL; END$$",
		"SELECT 'a;b' -- c\n", "SELECT count(*) FROM t WHERE id IN (?, ?)",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, d := range []*dsn.Dialect{dsn.SQLite, dsn.Postgres, dsn.MySQL} {
			ts := classify(backendOf(d), 0, q)
			if again := classify(backendOf(d), 0, q); again != ts {
				t.Fatalf("%s: %q read twice: %+v, then %+v", d, q, ts, again)
			}
			if ts.count > strings.Count(q, ";")+1 {
				t.Fatalf("%s: %q: %d statements from %d ';'", d, q, ts.count, strings.Count(q, ";"))
			}
			s := sqlscan.New(backendOf(d).scanDialect(), 0, q)
			for s.Next().Kind != sqlscan.EOF {
			}
			if s.Err() != nil || d == dsn.SQLite && strings.Contains(q, "/*") {
				continue // the appended write would be inside the literal or comment
			}
			more := classify(backendOf(d), 0, q+"\n;INSERT INTO t VALUES (1)")
			if more.count != ts.count+1 || more.does&effWrite == 0 {
				t.Fatalf("%s: %q with a write appended: %d statements, %b; want %d, a write", d, q, more.count, more.does, ts.count+1)
			}
		}
	})
}

// TestStatementReplicaUses: which statements never run on a replica
// outside a transaction (they run others, or name one for EXECUTE), and
// which run code the text does not show, after which a replica session is
// made read-only again; on every dialect, behind comments and after ;.
func TestStatementReplicaUses(t *testing.T) {
	tests := []struct {
		query               string
		primaryOnly, opaque bool
	}{
		{"SELECT v FROM t WHERE id = ?", false, false},
		{"SELECT lower(v), count(*) FROM t GROUP BY 1", false, false},
		{"SELECT my_func(v) FROM t", false, true},
		{"SELECT * FROM my_func()", false, true},
		{"INSERT INTO t VALUES (1)", false, false},
		{"CALL p()", true, true},
		{"call p(?)", true, true},
		{"DO 'x'", true, true},
		{"EXECUTE p", true, true},
		{"EXECUTE IMMEDIATE 'SET SESSION TRANSACTION READ WRITE'", true, true},
		{"/* c */ -- d\nCALL p()", true, true},
		{"SELECT 1; CALL p()", true, true},
		{"PREPARE p AS SELECT 1", true, false},
		{"DEALLOCATE PREPARE p", true, false},
		{"PREPARE TRANSACTION 'x'", false, false},
	}
	for _, tt := range tests {
		for _, d := range []*dsn.Dialect{dsn.SQLite, dsn.Postgres, dsn.MySQL} {
			ts := classify(backendOf(d), 0, tt.query)
			if ts.primaryOnly() != tt.primaryOnly || ts.opaque() != tt.opaque {
				t.Errorf("%s: %q: primaryOnly %v, opaque %v; want %v, %v", d, tt.query, ts.primaryOnly(), ts.opaque(), tt.primaryOnly, tt.opaque)
			}
		}
	}
	if ts := classify(backendOf(dsn.MySQL), 0, "BEGIN NOT ATOMIC SET SESSION TRANSACTION READ WRITE; END"); !ts.primaryOnly() || !ts.opaque() {
		t.Errorf("MySQL BEGIN NOT ATOMIC: primaryOnly %v, opaque %v; want both", ts.primaryOnly(), ts.opaque())
	}
}
