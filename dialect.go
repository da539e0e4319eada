package databases

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"

	"github.com/go-databases/databases/rewrite"
	"github.com/go-databases/databases/sqlscan"
)

// dialect holds what differs between backends: the URL schemes that select
// it, the database/sql driver used by default and the placeholder rules.
type dialect struct {
	name          string // "sqlite", "postgres", "mysql"
	defaultDriver string // name the real driver registers with database/sql
	rewrite       rewrite.Dialect
	scan          sqlscan.Dialect

	// The prepared-statement cache with the default driver: statements
	// kept per connection unless stmt_cache says otherwise (0: off), and
	// the fewest arguments a query needs to be cached. docs/statement-cache.md
	// gives the measurements behind them.
	stmtCache        int
	stmtCacheMinArgs int
}

var (
	// SQLite prepares every query it is not given prepared: cache them all.
	dialectSQLite = &dialect{name: "sqlite", defaultDriver: "sqlite", rewrite: rewrite.SQLite, scan: sqlscan.SQLite,
		stmtCache: 64}
	// pgx caches prepared statements itself.
	dialectPostgres = &dialect{name: "postgres", defaultDriver: "pgx", rewrite: rewrite.Postgres, scan: sqlscan.Postgres}
	// go-sql-driver prepares, runs and closes a query with arguments (three
	// round trips) and sends one without in one: cache the first kind. 64
	// per connection keeps 100 connections at 6 400 statements, within
	// the server's default max_prepared_stmt_count of 16 382.
	dialectMySQL = &dialect{name: "mysql", defaultDriver: "mysql", rewrite: rewrite.MySQL, scan: sqlscan.MySQL,
		stmtCache: 64, stmtCacheMinArgs: 1}
)

// schemes maps every accepted URL scheme to its dialect.
var schemes = map[string]*dialect{
	"sqlite":     dialectSQLite,
	"sqlite3":    dialectSQLite,
	"postgres":   dialectPostgres,
	"postgresql": dialectPostgres,
	"mysql":      dialectMySQL,
	"mariadb":    dialectMySQL,
}

// driverAliases maps the `+driver` part of a scheme to the name that driver
// registers with database/sql when the two differ (lib/pq registers as
// "postgres").
var driverAliases = map[string]string{
	"pq": "postgres",
}

func (d *dialect) String() string { return d.name }

// levels lists the isolation levels each dialect gives; checkTxOptions
// refuses the others. Where the real driver maps a level rightly, it is
// followed: pgx runs Snapshot as REPEATABLE READ (snapshot isolation on
// PostgreSQL) and refuses WriteCommitted and Linearizable; go-sql-driver
// refuses those three; modernc accepts every level, and SQLite runs every
// transaction serializable (strictly: one writer at a time, and each
// transaction reads the latest commit), which gives each of them. docs/transactions.md's
// transaction table gives the reason for each row.
var levels = map[*dialect][]sql.IsolationLevel{
	dialectSQLite: {sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelWriteCommitted,
		sql.LevelRepeatableRead, sql.LevelSnapshot, sql.LevelSerializable, sql.LevelLinearizable},
	dialectPostgres: {sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead,
		sql.LevelSnapshot, sql.LevelSerializable},
	dialectMySQL: {sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead,
		sql.LevelSerializable},
}

// checkTxOptions refuses an isolation level the backend cannot give, naming
// it, rather than letting the real driver fail with a number.
func (d *dialect) checkTxOptions(opts driver.TxOptions) error {
	level := sql.IsolationLevel(opts.Isolation)
	if !slices.Contains(levels[d], level) {
		return fmt.Errorf("databases: isolation level %s is not supported by %s", level, d.name)
	}
	return nil
}
