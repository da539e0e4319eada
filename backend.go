package databases

// What differs between the database servers, past the URL: one
// implementation of backend per file, backend_sqlite.go,
// backend_postgres.go and backend_mysql.go, and nowhere else a test of
// which backend a connection has. The URL's side (schemes, the DSN each
// real driver receives, the options each dialect refuses) is package
// internal/dsn's.
//
// To support a fourth backend: give it a dialect and schemes
// (internal/dsn/dialect.go) and its DSN builder (internal/dsn/dsn.go),
// write backend_x.go with a type that implements backend (the compiler
// lists what is missing), and add it to backends;
// TestEveryDialectHasABackend checks that none is left out.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/rewrite"
	"github.com/go-databases/databases/sqlscan"
)

// backend is what the package does differently for one kind of server.
// Its methods are called off the hot path (on a connection's first use of
// a text, at begin, on errors, at connect); what a call needs on every
// statement the connector keeps in a field.
type backend interface {
	// SQL text.

	// scanDialect is how the server reads SQL text (package sqlscan).
	scanDialect() sqlscan.Dialect
	// rewriteCache returns the placeholder rewriter of cfg's queries,
	// nil when they go to the real driver as written.
	rewriteCache(cfg *dsn.Config) *rewrite.Cache
	// statementEffect is what st, a statement of text, does to a
	// transaction when it is of the server's own grammar (txeffect.go); ok
	// is false for a statement the shared rules read (BEGIN, COMMIT,
	// ROLLBACK, SAVEPOINT, …). st is a copy, so that the caller's does not
	// escape: classify allocates nothing.
	statementEffect(mode sqlscan.Mode, text string, st sqlscan.Statement) (eff txEffect, ok bool)
	// otherEffect is what st, a statement of text, of the server's own
	// grammar does beyond the transaction; ok is false where the shared
	// rules apply.
	otherEffect(mode sqlscan.Mode, text string, st sqlscan.Statement) (eff stmtEffect, ok bool)
	// identQuote is the character the server quotes identifiers with.
	identQuote() byte

	// Transactions.

	// checkTxOptions refuses an isolation level the server cannot give,
	// naming it, rather than letting the real driver fail with a number.
	checkTxOptions(opts driver.TxOptions) error
	// beginsItself reports whether the package runs BEGIN itself rather
	// than the real driver (SQLite's txlock, sqlitetx.go).
	beginsItself() bool
	// implicitCommits reports whether some statements commit the open
	// transaction (MySQL's DDL): effImplicitCommit, and effUnknown, which
	// may hide one, are commit points.
	implicitCommits() bool
	// leakFlags is the effect that flags a connection outside a
	// transaction as maybe inside one (leak.go).
	leakFlags() txEffect
	// txOpen asks the server whether the connection is inside a
	// transaction (MySQL: or has autocommit off); a round trip.
	txOpen(ctx context.Context, r *realConn) (bool, error)

	// The server.

	// inProcess reports whether the database runs in this process (SQLite):
	// no user, password, replica or host list, and no lost connection
	// whose COMMIT's outcome is unknown.
	inProcess() bool
	// explainError gives an error of the real driver the cause the server
	// does not name (SQLite's lock waits); what names the call. Others
	// come back as they are.
	explainError(cfg *dsn.Config, what string, err error) error
	// connectError does the same for a failed connect (SQLite's file).
	connectError(cfg *dsn.Config, err error) error
	// connector returns the real driver's connector for dsn when the
	// backend builds it itself (pgx's parsed once, credentials); ok false
	// leaves it to database/sql's registry.
	connector(cfg *dsn.Config, dsn string, creds *credentials) (c driver.Connector, ok bool, err error)
	// hostList returns the connector of cfg's host list (hosts.go), nil
	// for a URL that names one server.
	hostList(cfg *dsn.Config, creds *credentials) (*hostList, error)
	// stmtCache is the prepared-statement cache with the default driver:
	// statements kept per connection unless stmt_cache says otherwise (0:
	// off), and the fewest arguments a query needs to be cached.
	// docs/statement-cache.md gives the measurements behind them.
	stmtCache() (size, minArgs int)
	// sharedStmtBudget reports whether the server bounds the prepared
	// statements of all its sessions together (MySQL's
	// max_prepared_stmt_count, error 1461): the cache is sized from it and
	// shared out (stmtcache_budget.go).
	sharedStmtBudget() bool
	// execsKeptReads reports whether a kept statement may serve an Exec of
	// a read. go-sql-driver (v1.10) waits forever on the second Exec of a
	// prepared SELECT: such an Exec is not sent through the cache there.
	execsKeptReads() bool
	// sendsText reports whether cfg's real driver sends every query as
	// text, never prepared (go-sql-driver's interpolateParams).
	sendsText(cfg *dsn.Config) bool
	// bindsArrays reports whether a list may go to the real driver as one
	// array parameter (rewrite.Array).
	bindsArrays(cfg *dsn.Config) bool

	// force_rollback's shared connection.

	// beginStatement begins the outer transaction.
	beginStatement() string
	// sessionIDQuery reads the connection's id for cancelStatement; ""
	// when it needs none.
	sessionIDQuery() string
	// cancelStatement interrupts the statement running on s's real
	// connection, from outside it; a no-op where that would lose more than
	// the statement.
	cancelStatement(ctx context.Context, s *shared)
	// statementSavepoints reports whether each statement runs under a
	// savepoint of its own, since an error aborts the whole transaction
	// (PostgreSQL).
	statementSavepoints() bool

	// Read replicas.

	// readOnlySession makes a replica connection's session read-only.
	readOnlySession() string
	// positions is how replication positions are read: the flavor, or
	// flavorUnknown to ask the server; an error says the server has none.
	positions() (flavor, error)

	// COPY (CopyFrom).

	// foldsNames reports whether bare identifiers fold to lower case.
	foldsNames() bool
	// copyLoader is the backend's loader.
	copyLoader() copyLoader
	// atomicCopy reports whether the loader is one statement, all or
	// nothing by itself, needing no transaction or savepoint around it.
	atomicCopy() bool
}

// backends gives each dialect its backend.
var backends = map[*dsn.Dialect]backend{
	dsn.SQLite:   sqliteBackend{},
	dsn.Postgres: postgresBackend{},
	dsn.MySQL:    mysqlBackend{},
}

// backendOf returns d's backend.
func backendOf(d *dsn.Dialect) backend { return backends[d] }

// checkLevel refuses an isolation level not among levels, naming it and
// the dialect.
func checkLevel(levels []sql.IsolationLevel, d *dsn.Dialect, opts driver.TxOptions) error {
	level := sql.IsolationLevel(opts.Isolation)
	if !slices.Contains(levels, level) {
		return fmt.Errorf("databases: isolation level %s is not supported by %s", level, d.Name)
	}
	return nil
}

// explainLock is what the backend of cfg adds to err, the error of a call
// what names: the cause SQLite's lock waits do not say. It returns nil for
// nil.
func explainLock(cfg *dsn.Config, what string, err error) error {
	if err == nil {
		return nil
	}
	return backendOf(cfg.Dialect).explainError(cfg, what, err)
}
