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
// statements and calls, which may hold anything.
func (mysqlBackend) statementEffect(text string, st sqlscan.Statement) (txEffect, bool) {
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
func (mysqlBackend) otherEffect(mode sqlscan.Mode, text string, st sqlscan.Statement) (stmtEffect, bool) {
	kw := st.Keyword()
	q := text[st.Start:st.End]
	switch {
	case isWord(kw, "SET") && userVariablesOnly(mode, q):
		return scanBody(sqlscan.MySQL, mode, q, true), true
	case isWord(kw, "BEGIN") && st.Is("BEGIN", "NOT", "ATOMIC"):
		return effWrite | effDDL | effCalls, true
	}
	return 0, false
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

// cachedPrepareError: go-sql-driver/mysql's own Query and Exec with
// arguments prepare too (driver.ErrSkip), and return the prepare's error
// as it is.
func (mysqlBackend) cachedPrepareError(err error) error { return err }

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
