package rewrite

import "github.com/go-databases/databases/sqlscan"

// Dialect names the SQL dialect a query is rewritten for: sqlscan's, since
// the lexical rules are the same facts. Each dialect also has its own native
// placeholder style:
//
//   - SQLite understands ?, ?NNN, :name, @name and $name natively, so its
//     queries are passed through as written, checked as on the others.
//   - Postgres takes $1…$n; portable placeholders are renumbered into that form.
//   - MySQL takes ?; named placeholders become ? with their arguments repeated.
type Dialect = sqlscan.Dialect

// The dialects.
const (
	SQLite   = sqlscan.SQLite
	Postgres = sqlscan.Postgres
	MySQL    = sqlscan.MySQL
)
