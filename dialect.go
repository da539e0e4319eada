package databases

// dialect is a backend as the URL names it: the name, and the
// database/sql driver used by default. What the package does differently
// for it is its backend (backend.go); its DSN is dsn.go's.
type dialect struct {
	name          string // "sqlite", "postgres", "mysql"
	defaultDriver string // name the real driver registers with database/sql
}

var (
	dialectSQLite   = &dialect{name: "sqlite", defaultDriver: "sqlite"}
	dialectPostgres = &dialect{name: "postgres", defaultDriver: "pgx"}
	dialectMySQL    = &dialect{name: "mysql", defaultDriver: "mysql"}
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
