package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/jackc/pgx/v5"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/rewrite"
	"github.com/go-databases/databases/sqlscan"
)

// postgresBackend is PostgreSQL, through pgx by default: an error aborts
// the whole transaction, pgx reports the transaction status without a
// round trip, and a statement is cancelled by a cancel request.
type postgresBackend struct{}

var _ backend = postgresBackend{}

func (postgresBackend) scanDialect() sqlscan.Dialect { return sqlscan.Postgres }

func (postgresBackend) rewriteCache(*dsn.Config) *rewrite.Cache {
	return rewrite.NewCache(rewrite.Postgres, rewriteCacheSize)
}

// statementEffect: PREPARE TRANSACTION ends the transaction (two-phase
// commit).
func (postgresBackend) statementEffect(_ sqlscan.Mode, _ string, st sqlscan.Statement) (txEffect, bool) {
	if st.Is("PREPARE", "TRANSACTION") {
		return effEnd, true
	}
	return 0, false
}

func (postgresBackend) otherEffect(sqlscan.Mode, string, sqlscan.Statement) (stmtEffect, bool) {
	return 0, false
}

func (postgresBackend) identQuote() byte { return '"' }

// postgresLevels: pgx runs Snapshot as REPEATABLE READ (snapshot
// isolation on PostgreSQL) and refuses WriteCommitted and Linearizable.
var postgresLevels = []sql.IsolationLevel{sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted,
	sql.LevelRepeatableRead, sql.LevelSnapshot, sql.LevelSerializable}

func (postgresBackend) checkTxOptions(opts driver.TxOptions) error {
	return checkLevel(postgresLevels, dsn.Postgres, opts)
}

func (postgresBackend) beginsItself() bool    { return false }
func (postgresBackend) implicitCommits() bool { return false }
func (postgresBackend) leakFlags() txEffect   { return effBegin | effAutocommit | effUnknown }

// txOpen reads pgx's transaction status; another driver cannot tell.
func (postgresBackend) txOpen(_ context.Context, r *realConn) (bool, error) {
	if r.pg != nil {
		return r.pg.TxStatus() != 'I', nil
	}
	return false, errCannotTellTx
}

func (postgresBackend) inProcess() bool                                       { return false }
func (postgresBackend) explainError(_ *dsn.Config, _ string, err error) error { return err }
func (postgresBackend) connectError(_ *dsn.Config, err error) error           { return err }

// connector: pgx's own connector parses its DSN at every Connect; parsing
// once here also reports a bad option when the DB is opened.
func (postgresBackend) connector(cfg *dsn.Config, dsn string, creds *credentials) (driver.Connector, bool, error) {
	if cfg.DriverName != cfg.Dialect.DefaultDriver {
		return nil, false, nil
	}
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, true, cfg.DriverError(err)
	}
	return creds.pgConnector(*pc), true, nil
}

// hostList: pgx is given one host at a time, so that the package picks.
func (postgresBackend) hostList(cfg *dsn.Config, creds *credentials) (*hostList, error) {
	if cfg.DriverName != cfg.Dialect.DefaultDriver || len(cfg.Hosts) <= 1 {
		return nil, nil
	}
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, cfg.DriverError(err)
	}
	return newPostgresHosts(cfg, pc, creds), nil
}

// stmtCache is off: pgx caches prepared statements itself.
func (postgresBackend) stmtCache() (int, int) { return 0, 0 }

func (postgresBackend) sharedStmtBudget() bool { return false }

func (postgresBackend) execsKeptReads() bool { return true }

func (postgresBackend) sendsText(*dsn.Config) bool { return false }

// bindsArrays: pgx encodes a Go slice as an array whatever the query
// execution mode.
func (postgresBackend) bindsArrays(cfg *dsn.Config) bool {
	return cfg.DriverName == cfg.Dialect.DefaultDriver
}

func (postgresBackend) beginStatement() string { return "BEGIN" }
func (postgresBackend) sessionIDQuery() string { return "" }

// cancelStatement sends pgx's cancel request.
func (postgresBackend) cancelStatement(ctx context.Context, s *shared) {
	if s.real.pg != nil {
		s.real.pg.CancelRequest(ctx)
	}
}

func (postgresBackend) statementSavepoints() bool { return true }

func (postgresBackend) readOnlySession() string { return "SET default_transaction_read_only = on" }

func (postgresBackend) positions() (flavor, error) { return flavorPostgres, nil }

func (postgresBackend) foldsNames() bool       { return true }
func (postgresBackend) copyLoader() copyLoader { return copyPostgres }
func (postgresBackend) atomicCopy() bool       { return true }
