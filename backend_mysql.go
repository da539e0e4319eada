package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/rewrite"
	"github.com/go-databases/databases/sqlscan"
)

// mysqlBackend is MySQL and MariaDB, through go-sql-driver by default: DDL
// commits the open transaction, sql_mode changes how text is read, and a
// statement is cancelled with KILL QUERY from a second connection.
type mysqlBackend struct{}

var _ backend = mysqlBackend{}

func (mysqlBackend) scanDialect() sqlscan.Dialect { return sqlscan.MySQL }

// rewriteCache lexes by the sql_mode the URL sets.
func (mysqlBackend) rewriteCache(cfg *dsn.Config) *rewrite.Cache {
	return rewrite.NewMySQLCache(cfg.MySQLMode, rewriteCacheSize)
}

// statementEffect reads MySQL's own transaction statements: XA, SET
// autocommit, the statements that commit implicitly, and compound
// statements and calls, which may hold anything. SET STATEMENT … FOR and
// MariaDB's ANALYZE of a statement do what the statement they run does.
func (b mysqlBackend) statementEffect(mode sqlscan.Mode, text string, st sqlscan.Statement) (txEffect, bool) {
	if sub, inner, ok := innerStatement(mode, text, &st); ok {
		return statementEffect(b, mode, &sub, &inner), true
	}
	switch strings.ToUpper(st.Keyword()) {
	case "BEGIN":
		if st.Is("BEGIN", "NOT", "ATOMIC") {
			return effUnknown, true // a compound statement, which may hold anything
		}
	case "START":
		if !st.Is("START", "TRANSACTION") {
			return effImplicitCommit, true // START SLAVE, START REPLICA, …
		}
	case "END", "ABORT":
		return 0, true // not transaction statements on MySQL
	case "XA":
		switch strings.ToUpper(st.Word(1)) {
		case "START", "BEGIN":
			return effBegin, true
		case "END", "PREPARE", "COMMIT", "ROLLBACK":
			return effEnd, true
		}
		return 0, true
	case "SET":
		if setsAutocommit(text, &st) {
			return effAutocommit, true
		}
		if st.Is("SET", "PASSWORD") {
			return effImplicitCommit, true
		}
	case "CALL", "EXECUTE":
		return effUnknown, true
	case "CREATE":
		if !(st.Is("CREATE", "TEMPORARY") || st.Is("CREATE", "OR", "REPLACE", "TEMPORARY")) {
			return effImplicitCommit, true
		}
	case "DROP":
		if !st.Is("DROP", "TEMPORARY") {
			return effImplicitCommit, true
		}
	case "LOAD":
		if strings.EqualFold(st.Word(1), "INDEX") {
			return effImplicitCommit, true
		}
	case "ALTER", "RENAME", "TRUNCATE", "GRANT", "REVOKE", "LOCK", "UNLOCK", "ANALYZE", "CHECK",
		"OPTIMIZE", "REPAIR", "FLUSH", "RESET", "CACHE", "INSTALL", "UNINSTALL", "CHANGE", "STOP":
		return effImplicitCommit, true
	}
	return 0, false
}

// otherEffect: a SET of user variables only (SET @a = 1) leaves the
// session as prepared statements were parsed under it; BEGIN NOT ATOMIC
// is a compound statement, which may do anything.
func (b mysqlBackend) otherEffect(mode sqlscan.Mode, text string, st sqlscan.Statement) (stmtEffect, bool) {
	kw := st.Keyword()
	q := text[st.Start:st.End]
	// EXECUTE IMMEDIATE stays a statement that runs another (effCalls),
	// whatever its literal: only its effect on the transaction is read.
	if sub, inner, ok := innerStatement(mode, text, &st); ok && !isWord(kw, "EXECUTE") {
		eff := otherEffects(b, sqlscan.MySQL, mode, &sub, &inner)
		if isWord(kw, "SET") {
			// The settings apply to the one statement; a read-only one
			// among them is still read (SET STATEMENT tx_read_only=0 FOR …).
			eff |= scanBody(sqlscan.MySQL, mode, q, true) | effSession
		}
		return eff, true
	}
	switch {
	case isWord(kw, "SET") && userVariablesOnly(mode, q):
		return scanBody(sqlscan.MySQL, mode, q, true), true
	case isWord(kw, "BEGIN") && st.Is("BEGIN", "NOT", "ATOMIC"):
		return effWrite | effDDL | effCalls, true
	}
	return 0, false
}

// innerStatement returns the statement that st runs when st is SET
// STATEMENT … FOR stmt, MariaDB's ANALYZE stmt (which runs stmt and
// reports on it; ANALYZE TABLE is a statement of its own) or EXECUTE
// IMMEDIATE of a plain literal, with a scanner positioned just past it.
func innerStatement(mode sqlscan.Mode, text string, st *sqlscan.Statement) (sqlscan.Scanner, sqlscan.Statement, bool) {
	q := text[st.Start:st.End]
	from := -1
	switch {
	case st.Is("SET", "STATEMENT"):
		sc := sqlscan.New(sqlscan.MySQL, mode, q)
		depth := 0
		for from < 0 {
			t := sc.Next()
			switch {
			case t.Kind == sqlscan.EOF:
				return sqlscan.Scanner{}, sqlscan.Statement{}, false
			case t.Kind == sqlscan.Punct && q[t.Start] == '(':
				depth++
			case t.Kind == sqlscan.Punct && q[t.Start] == ')':
				depth--
			case t.Kind == sqlscan.Word && depth == 0 && strings.EqualFold(q[t.Start:t.End], "FOR"):
				from = t.End
			}
		}
	case isWord(st.Keyword(), "ANALYZE"):
		// ANALYZE stmt, or ANALYZE FORMAT=JSON stmt; ANALYZE [LOCAL] TABLE t
		// is a statement of its own.
		at := 0 // which word starts the statement
		switch strings.ToUpper(st.Word(1)) {
		case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "VALUES":
			at = 1
		case "FORMAT":
			at = 3 // ANALYZE FORMAT = JSON stmt
		default:
			return sqlscan.Scanner{}, sqlscan.Statement{}, false
		}
		sc := sqlscan.New(sqlscan.MySQL, mode, q)
		for seen := -1; from < 0; {
			t := sc.Next()
			if t.Kind == sqlscan.EOF {
				return sqlscan.Scanner{}, sqlscan.Statement{}, false
			}
			if t.Kind == sqlscan.Word {
				if seen++; seen == at {
					from = t.Start
				}
			}
		}
	case st.Is("EXECUTE", "IMMEDIATE"):
		// EXECUTE IMMEDIATE 'stmt': a literal without escapes is read as
		// the statement it holds; any other operand (a variable, an
		// expression) stays a statement that may do anything.
		sc := sqlscan.New(sqlscan.MySQL, mode, q)
		for words := 0; words < 2; {
			switch sc.Next().Kind {
			case sqlscan.Word:
				words++
			case sqlscan.EOF:
				return sqlscan.Scanner{}, sqlscan.Statement{}, false
			}
		}
		t := sc.Next()
		for t.Kind == sqlscan.Comment {
			t = sc.Next()
		}
		if t.Kind != sqlscan.String || t.End-t.Start < 2 || (q[t.Start] != '\'' && q[t.Start] != '"') {
			return sqlscan.Scanner{}, sqlscan.Statement{}, false
		}
		body := q[t.Start+1 : t.End-1]
		if strings.IndexByte(body, '\\') >= 0 || strings.IndexByte(body, q[t.Start]) >= 0 {
			return sqlscan.Scanner{}, sqlscan.Statement{}, false
		}
		sub := sqlscan.New(sqlscan.MySQL, mode, body)
		inner, ok := sub.NextStatement()
		if !ok || !inner.Code {
			return sqlscan.Scanner{}, sqlscan.Statement{}, false
		}
		return sub, inner, true
	default:
		return sqlscan.Scanner{}, sqlscan.Statement{}, false
	}
	sub := sqlscan.New(sqlscan.MySQL, mode, q[from:])
	inner, ok := sub.NextStatement()
	if !ok || !inner.Code {
		return sqlscan.Scanner{}, sqlscan.Statement{}, false
	}
	return sub, inner, true
}

func (mysqlBackend) identQuote() byte { return '`' }

// mysqlLevels: go-sql-driver refuses Snapshot, WriteCommitted and
// Linearizable.
var mysqlLevels = []sql.IsolationLevel{sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted,
	sql.LevelRepeatableRead, sql.LevelSerializable}

func (mysqlBackend) checkTxOptions(opts driver.TxOptions) error {
	return checkLevel(mysqlLevels, dsn.MySQL, opts)
}

func (mysqlBackend) beginsItself() bool    { return false }
func (mysqlBackend) implicitCommits() bool { return true }
func (mysqlBackend) leakFlags() txEffect   { return effBegin | effAutocommit | effUnknown }

// txOpen asks @@in_transaction, and @@autocommit, since autocommit off
// makes the next statement open a transaction.
func (mysqlBackend) txOpen(ctx context.Context, r *realConn) (bool, error) {
	rows, st, err := r.queryOrPrepare(ctx, "SELECT @@in_transaction, @@autocommit", nil)
	if err != nil {
		return false, err
	}
	if st != nil {
		defer st.Close()
	}
	defer rows.Close()
	row := make([]driver.Value, 2)
	if err := rows.Next(row); err != nil {
		return false, err
	}
	inTx, autocommit := fmt.Sprint(row[0]), fmt.Sprint(row[1])
	return inTx != "0" || autocommit != "1", nil
}

func (mysqlBackend) inProcess() bool                                       { return false }
func (mysqlBackend) explainError(_ *dsn.Config, _ string, err error) error { return err }
func (mysqlBackend) connectError(_ *dsn.Config, err error) error           { return err }

// connector: with credentials, go-sql-driver's connector that gets them at
// each new connection (newCredentials allows no other driver).
func (mysqlBackend) connector(cfg *dsn.Config, dsn string, creds *credentials) (driver.Connector, bool, error) {
	if creds == nil {
		return nil, false, nil
	}
	c, err := creds.mysqlConnector(cfg, dsn)
	return c, true, err
}

// hostList: go-sql-driver takes one address, so that a list, or a choice
// among hosts, is the package's.
func (mysqlBackend) hostList(cfg *dsn.Config, creds *credentials) (*hostList, error) {
	if len(cfg.Hosts) <= 1 && cfg.Pick == (dsn.HostPick{}) {
		return nil, nil
	}
	real, err := lookupDriver(cfg)
	if err != nil {
		return nil, err
	}
	return newMySQLHosts(cfg, real, creds)
}

// stmtCache: go-sql-driver prepares, runs and closes a query with
// arguments (three round trips) and sends one without in one: cache the
// first kind. 64 per connection keeps 100 connections at 6 400
// statements, within the server's default max_prepared_stmt_count of
// 16 382.
func (mysqlBackend) stmtCache() (int, int) { return 64, 1 }

func (mysqlBackend) sharedStmtBudget() bool { return true }

func (mysqlBackend) execsKeptReads() bool { return false }

// sendsText reports interpolateParams=true, with which go-sql-driver sends
// every query as text.
func (mysqlBackend) sendsText(cfg *dsn.Config) bool {
	if cfg.DriverName != cfg.Dialect.DefaultDriver {
		return false
	}
	mc, err := mysql.ParseDSN(cfg.DSN)
	return err == nil && mc.InterpolateParams
}

func (mysqlBackend) bindsArrays(*dsn.Config) bool { return false }

func (mysqlBackend) beginStatement() string { return "START TRANSACTION" }
func (mysqlBackend) sessionIDQuery() string { return "SELECT CONNECTION_ID()" }

// cancelStatement runs KILL QUERY on a second connection.
func (mysqlBackend) cancelStatement(ctx context.Context, s *shared) {
	killer, err := s.connector.raw.Connect(ctx)
	if err != nil {
		return
	}
	defer killer.Close()
	k := newRealConn(killer)
	k.execOrPrepare(ctx, fmt.Sprintf("KILL QUERY %d", s.mysqlID), nil)
}

func (mysqlBackend) statementSavepoints() bool { return false }

func (mysqlBackend) readOnlySession() string { return "SET SESSION TRANSACTION READ ONLY" }

// positions: MySQL's GTIDs or MariaDB's, asked of the server once.
func (mysqlBackend) positions() (flavor, error) { return flavorUnknown, nil }

func (mysqlBackend) foldsNames() bool       { return false }
func (mysqlBackend) copyLoader() copyLoader { return copyMySQL }
func (mysqlBackend) atomicCopy() bool       { return false }
