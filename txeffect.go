package databases

import (
	"fmt"
	"strings"

	"github.com/go-databases/databases/sqlscan"
)

// txEffect is what a statement may do to the transaction of its
// connection, read from its text by the dialect's lexical rules. Leak
// detection (leak.go), the rules inside a transaction (txguard.go) and
// force_rollback's guard all decide from it.
type txEffect uint8

const (
	// effBegin opens a transaction: BEGIN, START TRANSACTION, MySQL XA START.
	effBegin txEffect = 1 << iota
	// effEnd ends one: COMMIT, ROLLBACK, END, ABORT, PREPARE TRANSACTION,
	// MySQL XA END/PREPARE/COMMIT/ROLLBACK.
	effEnd
	// effAutocommit changes MySQL's autocommit or completion_type, which
	// decide whether later statements commit.
	effAutocommit
	// effSavepoint is SAVEPOINT, RELEASE or ROLLBACK TO; on SQLite a
	// SAVEPOINT outside a transaction also opens one.
	effSavepoint
	// effImplicitCommit: MySQL commits the open transaction before the
	// statement runs (DDL, LOCK TABLES, ANALYZE TABLE, …).
	effImplicitCommit
	// effUnknown: the statement runs other statements the text does not
	// show (MySQL CALL, EXECUTE, a BEGIN NOT ATOMIC block), so only the
	// server can tell what it did.
	effUnknown
)

// txStatement is the effect of a query (of all its statements), and the
// first statement that has one, for error messages.
type txStatement struct {
	effect  txEffect
	keyword string // its leading words, upper-cased: "START TRANSACTION"
	offset  int    // its byte offset in the query
}

// classify reads every statement of query. The common case, a query of one
// statement that starts with its keyword, costs a byte search and a
// keyword compare.
func (d *dialect) classify(mode sqlscan.Mode, query string) txStatement {
	if strings.IndexByte(query, ';') < 0 {
		if kw := sqlscan.FirstKeyword(d.scan, mode, query); plainKeyword(kw) {
			return txStatement{}
		}
	}
	var ts txStatement
	s := sqlscan.New(d.scan, mode, query)
	for {
		st, ok := s.NextStatement()
		if !ok {
			return ts
		}
		eff := d.statementEffect(&s, &st)
		if eff != 0 && ts.effect == 0 {
			ts.keyword, ts.offset = leadingWords(&st, eff), st.Start
		}
		ts.effect |= eff
	}
}

// plainKeyword reports whether a statement starting with kw does nothing to
// the transaction on any dialect: the statements programs run all the time.
func plainKeyword(kw string) bool {
	switch len(kw) {
	case 4:
		return isWord(kw, "WITH") || isWord(kw, "SHOW")
	case 6:
		switch kw[0] &^ 0x20 {
		case 'S':
			return isWord(kw, "SELECT")
		case 'I':
			return isWord(kw, "INSERT")
		case 'U':
			return isWord(kw, "UPDATE")
		case 'D':
			return isWord(kw, "DELETE")
		case 'V':
			return isWord(kw, "VALUES")
		}
	case 7:
		return isWord(kw, "REPLACE") || isWord(kw, "EXPLAIN")
	}
	return false
}

// isWord compares a word of letters, digits and _ with an upper-case
// keyword, ignoring ASCII case; cheaper than strings.EqualFold, which this
// runs for every statement.
func isWord(w, upper string) bool {
	if len(w) != len(upper) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i]&^0x20 != upper[i] {
			return false
		}
	}
	return true
}

// statementEffect is the effect of one statement; s is positioned just past
// it, and is only read again through a scanner of its own.
func (d *dialect) statementEffect(s *sqlscan.Scanner, st *sqlscan.Statement) txEffect {
	kw := st.Keyword()
	if kw == "" || plainKeyword(kw) {
		return 0
	}
	mysql := d == dialectMySQL
	switch strings.ToUpper(kw) {
	case "BEGIN":
		if mysql && st.Is("BEGIN", "NOT", "ATOMIC") {
			return effUnknown // a compound statement, which may hold anything
		}
		return effBegin
	case "START":
		if st.Is("START", "TRANSACTION") {
			return effBegin
		}
		if mysql {
			return effImplicitCommit // START SLAVE, START REPLICA, …
		}
	case "COMMIT":
		return effEnd
	case "END", "ABORT":
		if !mysql {
			return effEnd
		}
	case "ROLLBACK":
		for i := 1; i < 4; i++ {
			if strings.EqualFold(st.Word(i), "TO") {
				return effSavepoint
			}
		}
		return effEnd
	case "SAVEPOINT", "RELEASE":
		return effSavepoint
	case "PREPARE":
		if d == dialectPostgres && st.Is("PREPARE", "TRANSACTION") {
			return effEnd
		}
	case "XA":
		if !mysql {
			break
		}
		switch strings.ToUpper(st.Word(1)) {
		case "START", "BEGIN":
			return effBegin
		case "END", "PREPARE", "COMMIT", "ROLLBACK":
			return effEnd
		}
	case "SET":
		if mysql && setsAutocommit(s, st) {
			return effAutocommit
		}
		if mysql && st.Is("SET", "PASSWORD") {
			return effImplicitCommit
		}
	case "CALL", "EXECUTE":
		if mysql {
			return effUnknown
		}
	case "CREATE":
		if mysql && !(st.Is("CREATE", "TEMPORARY") || st.Is("CREATE", "OR", "REPLACE", "TEMPORARY")) {
			return effImplicitCommit
		}
	case "DROP":
		if mysql && !st.Is("DROP", "TEMPORARY") {
			return effImplicitCommit
		}
	case "LOAD":
		if mysql && strings.EqualFold(st.Word(1), "INDEX") {
			return effImplicitCommit
		}
	case "ALTER", "RENAME", "TRUNCATE", "GRANT", "REVOKE", "LOCK", "UNLOCK", "ANALYZE", "CHECK",
		"OPTIMIZE", "REPAIR", "FLUSH", "RESET", "CACHE", "INSTALL", "UNINSTALL", "CHANGE", "STOP":
		if mysql {
			return effImplicitCommit
		}
	}
	return 0
}

// setsAutocommit reports whether a MySQL SET statement assigns autocommit
// or completion_type, in any of its spellings (autocommit, @@autocommit,
// @@session.autocommit, SESSION autocommit).
func setsAutocommit(s *sqlscan.Scanner, st *sqlscan.Statement) bool {
	q := s.Text()[st.Start:st.End]
	if !containsFold(q, "autocommit") && !containsFold(q, "completion_type") {
		return false
	}
	sub := sqlscan.New(sqlscan.MySQL, 0, q)
	for {
		t := sub.Next()
		switch t.Kind {
		case sqlscan.EOF:
			return false
		case sqlscan.Word:
			w := strings.TrimPrefix(strings.TrimPrefix(q[t.Start:t.End], "@"), "@")
			if strings.EqualFold(w, "autocommit") || strings.EqualFold(w, "completion_type") {
				return true
			}
		}
	}
}

// leadingWords names a statement in errors by its keywords, never by its
// literals: "START TRANSACTION", "SET", "CREATE TABLE".
func leadingWords(st *sqlscan.Statement, eff txEffect) string {
	n := 1
	switch {
	case st.Is("START", "TRANSACTION"), st.Is("XA"), st.Is("ROLLBACK", "TO"), st.Is("PREPARE", "TRANSACTION"),
		eff == effImplicitCommit, st.Is("BEGIN", "NOT"):
		n = 2
	}
	if st.Is("BEGIN", "NOT", "ATOMIC") {
		n = 3
	}
	var b strings.Builder
	for i := 0; i < n && st.Word(i) != ""; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToUpper(st.Word(i)))
	}
	return b.String()
}

// refuse is the error for a statement that cannot run where it was sent;
// where is "" or a prefix such as "force_rollback: ".
func (ts txStatement) refuse(where, why string) error {
	return fmt.Errorf("databases: %s%s (byte offset %d) %s", where, ts.keyword, ts.offset, why)
}

func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}
