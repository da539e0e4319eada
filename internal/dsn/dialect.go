package dsn

// Dialect is a backend as the URL names it: the name, and the
// database/sql driver used by default. What package databases does
// differently for it is its backend (backend.go there); its DSN is
// dsn.go's.
type Dialect struct {
	Name          string // "sqlite", "postgres", "mysql"
	DefaultDriver string // name the real driver registers with database/sql
}

var (
	SQLite   = &Dialect{Name: "sqlite", DefaultDriver: "sqlite"}
	Postgres = &Dialect{Name: "postgres", DefaultDriver: "pgx"}
	MySQL    = &Dialect{Name: "mysql", DefaultDriver: "mysql"}
)

// Schemes maps every accepted URL scheme to its dialect.
var Schemes = map[string]*Dialect{
	"sqlite":     SQLite,
	"sqlite3":    SQLite,
	"postgres":   Postgres,
	"postgresql": Postgres,
	"mysql":      MySQL,
	"mariadb":    MySQL,
}

// driverAliases maps the `+driver` part of a scheme to the name that driver
// registers with database/sql when the two differ (lib/pq registers as
// "postgres").
var driverAliases = map[string]string{
	"pq": "postgres",
}

func (d *Dialect) String() string { return d.Name }
