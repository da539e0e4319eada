package rewrite

import "strconv"

// Dialect names the SQL dialect a query is rewritten for. Each dialect has its
// own lexical rules and its own native placeholder style.
type Dialect uint8

const (
	// SQLite understands ?, ?NNN, :name, @name and $name natively, so its
	// queries are passed through as written and never lexed.
	SQLite Dialect = iota + 1
	// Postgres takes $1…$n; portable placeholders are renumbered into that form.
	Postgres
	// MySQL takes ?; named placeholders become ? with their arguments repeated.
	MySQL
)

// String returns the dialect's lower-case name: "sqlite", "postgres" or "mysql".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}
