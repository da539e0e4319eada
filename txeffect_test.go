package databases

import "testing"

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
		{"SELECT 1; CREATE TABLE t (x int); COMMIT", want{effEnd, effEnd, effImplicitCommit | effEnd}, ""},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			d    *dialect
			want txEffect
		}{{dialectSQLite, tt.want.sqlite}, {dialectPostgres, tt.want.postgres}, {dialectMySQL, tt.want.mysql}} {
			ts := c.d.classify(0, tt.query)
			if ts.effect != c.want {
				t.Errorf("%s: classify(%q) = %b, want %b", c.d, tt.query, ts.effect, c.want)
			}
			if c.want != 0 && tt.kw != "" && ts.keyword != tt.kw {
				t.Errorf("%s: classify(%q) names %q, want %q", c.d, tt.query, ts.keyword, tt.kw)
			}
		}
	}
}

// TestClassifyAllocs: the statements programs run all the time cost no
// allocation.
func TestClassifyAllocs(t *testing.T) {
	for _, q := range []string{"SELECT * FROM t WHERE id = ?", "INSERT INTO t VALUES (?)", "/* c */ SELECT 1", "SELECT 1; SELECT 2"} {
		if n := testing.AllocsPerRun(100, func() { dialectMySQL.classify(0, q) }); n != 0 {
			t.Errorf("classify(%q) allocates %v times", q, n)
		}
	}
}
