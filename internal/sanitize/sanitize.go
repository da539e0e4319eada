// Package sanitize replaces the literals of query text with '?', as the
// OpenTelemetry database conventions ask of query text that is recorded
// (db.query.text) without being parameterised: the literals of such a query
// are where its values are, a password in an UPDATE among them. It reads
// the text with package sqlscan, so that a literal is what the database
// would take for one, in each dialect:
//
//	postgres  '…', E'…', U&'…', B'…', X'…', N'…', $$…$$, $tag$…$tag$
//	mysql     '…' and "…" (backslash escapes), X'…', b'…', N'…', 0x1F
//	sqlite    '…', X'…'
//	all       numbers: 42, 1.5, .5, 1.5e3, 0x1F
//
// Digits inside names (t1, a$1, MySQL's 1abc) and placeholders ($1, ?1)
// are not literals; comments, names and keywords are kept as written.
package sanitize

import "github.com/go-databases/databases/sqlscan"

// Dialect returns the sqlscan dialect of a dialect name of package
// databases ("sqlite", "postgres", "mysql"), SQLite's for any other.
func Dialect(name string) sqlscan.Dialect {
	if d := sqlscan.ParseDialect(name); d != 0 {
		return d
	}
	return sqlscan.SQLite
}

// Query returns q with every string and numeric literal replaced by '?',
// unless q has a placeholder: a parameterised query carries its values as
// arguments, and its literals are constants of the program, kept for the
// reader. A literal left open at the end of q (an unterminated string)
// runs to the end and is replaced too. Query returns q itself, without
// allocating, when it replaces nothing.
func Query(d sqlscan.Dialect, mode sqlscan.Mode, q string) string {
	s := sqlscan.New(d, mode, q)
	var b []byte
	last := 0
	for {
		t := s.Next()
		switch t.Kind {
		case sqlscan.EOF:
			if b == nil {
				return q
			}
			return string(append(b, q[last:]...))
		case sqlscan.Param:
			return q
		case sqlscan.String, sqlscan.Number:
			if b == nil {
				b = make([]byte, 0, len(q))
			}
			b = append(append(b, q[last:t.Start]...), '?')
			last = t.End
		}
	}
}
