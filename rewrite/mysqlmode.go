package rewrite

import "github.com/go-databases/databases/sqlscan"

// ParseMySQL is Parse for MySQL on a server whose sql_mode has the flags m.
func ParseMySQL(m sqlscan.Mode, query string) (*Plan, error) {
	return parseMode(MySQL, m, query)
}

// NewMySQLCache is NewCache for MySQL on a server whose sql_mode has the
// flags m.
func NewMySQLCache(m sqlscan.Mode, size int) *Cache {
	c := NewCache(MySQL, size)
	c.mode = m
	return c
}
