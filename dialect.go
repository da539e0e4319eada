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

// levels lists the isolation levels each dialect gives; checkTxOptions
// refuses the others. Where the real driver maps a level rightly, it is
// followed: pgx runs Snapshot as REPEATABLE READ (snapshot isolation on
// PostgreSQL) and refuses WriteCommitted and Linearizable; go-sql-driver
// refuses those three; modernc accepts every level, and SQLite runs every
// transaction serializable (strictly: one writer at a time, and each
// transaction reads the latest commit), which gives each of them. The README's
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

// startsRawTx reports whether a statement run outside BeginTx may have left
// a transaction open on the connection: BEGIN, START TRANSACTION, a SQLite
// SAVEPOINT, or changing MySQL's autocommit. It reads only the first
// keyword, so the normal path costs no round trip.
func (d *dialect) startsRawTx(query string) bool {
	// First the statements that run all the time, without a scan: a query
	// starting with a letter other than b or s, or with SEL.
	if query != "" && isLetter(query[0]) {
		switch query[0] | 0x20 {
		case 'b', 's':
			if len(query) > 2 && query[1]|0x20 == 'e' && query[2]|0x20 == 'l' {
				return false
			}
		default:
			return false
		}
	}
	kw := leadingKeyword(query)
	switch len(kw) { // SELECT, INSERT, UPDATE, ... end here, with one compare
	case 3:
		return d == dialectMySQL && strings.EqualFold(kw, "SET") && containsFold(query, "autocommit")
	case 5:
		return strings.EqualFold(kw, "BEGIN") || strings.EqualFold(kw, "START")
	case 9:
		return d == dialectSQLite && strings.EqualFold(kw, "SAVEPOINT")
	}
	return false
}

// leadingKeyword returns the first word of a statement, after white space
// and comments.
func leadingKeyword(q string) string {
	i := 0
	for i < len(q) {
		switch c := q[i]; {
		case isLetter(c):
			j := i + 1
			for j < len(q) && isLetter(q[j]) {
				j++
			}
			return q[i:j]
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ';':
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
			return ""
		}
	}
	return ""
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}
