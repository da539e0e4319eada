package databases

import "github.com/go-databases/databases/rewrite"

// dialect holds what differs between backends: the URL schemes that select
// it, the database/sql driver used by default and the placeholder rules.
type dialect struct {
	name          string // "sqlite", "postgres", "mysql"
	defaultDriver string // name the real driver registers with database/sql
	rewrite       rewrite.Dialect
}

var (
	dialectSQLite   = &dialect{name: "sqlite", defaultDriver: "sqlite", rewrite: rewrite.SQLite}
	dialectPostgres = &dialect{name: "postgres", defaultDriver: "pgx", rewrite: rewrite.Postgres}
	dialectMySQL    = &dialect{name: "mysql", defaultDriver: "mysql", rewrite: rewrite.MySQL}
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
