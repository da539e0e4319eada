package databases

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"

	"github.com/go-databases/databases/rewrite"
)

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

// startsRawTx reports whether a statement run outside BeginTx may have left
// a transaction open on the connection: BEGIN, START TRANSACTION, a SQLite
// SAVEPOINT, or changing MySQL's autocommit. It reads only the first
// keyword, so the normal path costs no round trip.
func (d *dialect) startsRawTx(query string) bool {
	kw := leadingKeyword(query)
	switch {
	case strings.EqualFold(kw, "BEGIN"), strings.EqualFold(kw, "START"):
		return true
	case strings.EqualFold(kw, "SAVEPOINT"):
		return d == dialectSQLite
	case strings.EqualFold(kw, "SET"):
		return d == dialectMySQL && containsFold(query, "autocommit")
	}
	return false
}

// leadingKeyword returns the first word of a statement, after white space
// and comments.
func leadingKeyword(q string) string {
	i := 0
	for i < len(q) {
		switch {
		case q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r' || q[i] == '(' || q[i] == ';':
			i++
		case strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				return ""
			}
			i += end + 1
		case strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += end + 4
		default:
			j := i
			for j < len(q) && (q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z') {
				j++
			}
			return q[i:j]
		}
	}
	return ""
}

func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}
