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
}

var (
	dialectSQLite   = &dialect{name: "sqlite", defaultDriver: "sqlite", rewrite: rewrite.SQLite, scan: sqlscan.SQLite}
	dialectPostgres = &dialect{name: "postgres", defaultDriver: "pgx", rewrite: rewrite.Postgres, scan: sqlscan.Postgres}
	dialectMySQL    = &dialect{name: "mysql", defaultDriver: "mysql", rewrite: rewrite.MySQL, scan: sqlscan.MySQL}
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

// levels lists the isolation levels each dialect can give. SQLite runs every
// transaction serializable, which gives each weaker level too.
var levels = map[*dialect][]sql.IsolationLevel{
	dialectSQLite:   {sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSerializable},
	dialectPostgres: {sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSerializable},
	dialectMySQL:    {sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSerializable},
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
