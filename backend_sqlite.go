package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/rewrite"
	"github.com/go-databases/databases/sqlscan"
)

// sqliteBackend is SQLite through modernc.org/sqlite: a database in this
// process, one writer at a time, BEGIN run by the package (sqlitetx.go).
type sqliteBackend struct{}

var _ backend = sqliteBackend{}

func (sqliteBackend) scanDialect() sqlscan.Dialect { return sqlscan.SQLite }

// rewriteCache checks the placeholders as on the other backends, so that
// a query SQLite would take and they refuse fails here too.
func (sqliteBackend) rewriteCache(*dsn.Config) *rewrite.Cache {
	return rewrite.NewCache(rewrite.SQLite, rewriteCacheSize)
}

func (sqliteBackend) statementEffect(sqlscan.Mode, string, sqlscan.Statement) (txEffect, bool) {
	return 0, false
}

func (sqliteBackend) otherEffect(sqlscan.Mode, string, sqlscan.Statement) (stmtEffect, bool) {
	return 0, false
}

func (sqliteBackend) identQuote() byte { return '"' }

// sqliteLevels: modernc accepts every level, and SQLite runs every
// transaction serializable (strictly: one writer at a time, and each
// transaction reads the latest commit), which gives each of them.
// docs/transactions.md's transaction table gives the reason for each row.
var sqliteLevels = []sql.IsolationLevel{sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted,
	sql.LevelWriteCommitted, sql.LevelRepeatableRead, sql.LevelSnapshot, sql.LevelSerializable, sql.LevelLinearizable}

func (sqliteBackend) checkTxOptions(opts driver.TxOptions) error {
	return checkLevel(sqliteLevels, dsn.SQLite, opts)
}

func (sqliteBackend) beginsItself() bool    { return true }
func (sqliteBackend) implicitCommits() bool { return false }

// leakFlags: a SAVEPOINT outside a transaction opens one.
func (sqliteBackend) leakFlags() txEffect { return effBegin | effSavepoint }

// txOpen: modernc does not export sqlite3_get_autocommit; a BEGIN inside a
// transaction fails, and outside one is rolled back at once.
func (sqliteBackend) txOpen(ctx context.Context, r *realConn) (bool, error) {
	if _, err := r.execOrPrepare(ctx, "BEGIN", nil); err != nil {
		return true, nil
	}
	if _, err := r.execOrPrepare(ctx, "ROLLBACK", nil); err != nil {
		return false, err
	}
	return false, nil
}

func (sqliteBackend) inProcess() bool { return true }

func (sqliteBackend) explainError(cfg *dsn.Config, what string, err error) error {
	return explainSQLiteLock(cfg, what, err)
}

func (sqliteBackend) connectError(cfg *dsn.Config, err error) error { return sqliteOpenError(cfg, err) }

func (sqliteBackend) connector(*dsn.Config, string, *credentials) (driver.Connector, bool, error) {
	return nil, false, nil
}

func (sqliteBackend) hostList(*dsn.Config, *credentials) (*hostList, error) { return nil, nil }

// stmtCache: SQLite prepares every query it is not given prepared: cache
// them all.
func (sqliteBackend) stmtCache() (int, int) { return 64, 0 }

func (sqliteBackend) sharedStmtBudget() bool { return false }

func (sqliteBackend) execsKeptReads() bool { return true }

func (sqliteBackend) sendsText(*dsn.Config) bool   { return false }
func (sqliteBackend) bindsArrays(*dsn.Config) bool { return false }

func (sqliteBackend) beginStatement() string { return "BEGIN" }
func (sqliteBackend) sessionIDQuery() string { return "" }

// cancelStatement does nothing: an interrupted write rolls back the whole
// transaction.
func (sqliteBackend) cancelStatement(context.Context, *shared) {}

func (sqliteBackend) statementSavepoints() bool { return false }

// readOnlySession is never run: SQLite has no replicas.
func (sqliteBackend) readOnlySession() string { return "" }

func (sqliteBackend) positions() (flavor, error) {
	return flavorUnknown, errors.New("SQLite has no replication position")
}

func (sqliteBackend) foldsNames() bool       { return false }
func (sqliteBackend) copyLoader() copyLoader { return copySQLite }
func (sqliteBackend) atomicCopy() bool       { return false }
