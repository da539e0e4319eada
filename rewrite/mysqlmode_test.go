package rewrite

import (
	"github.com/go-databases/databases/sqlscan"

	"testing"
)

// TestMySQLModeKept: a Plan and a Cache keep the sql_mode flags, so that the
// errors that lex the query again find the placeholder at fault.
func TestMySQLModeKept(t *testing.T) {
	const q = `SELECT 'C:\', ?, "D:\", ?`
	if _, err := Parse(MySQL, q); err == nil {
		t.Fatal("Parse under the default sql_mode accepted a string that ends in a backslash")
	}
	c := NewMySQLCache(sqlscan.NoBackslashEscapes, 0)
	for _, get := range []func() (*Plan, error){
		func() (*Plan, error) { return ParseMySQL(sqlscan.NoBackslashEscapes, q) },
		func() (*Plan, error) { return c.Plan(q) },
		func() (*Plan, error) { return c.Plan(q) }, // a hit
	} {
		p, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if p.Query() != q || p.NumInput() != 2 {
			t.Fatalf("Query, NumInput = %q, %d; want the query as written, 2", p.Query(), p.NumInput())
		}
		_, err = p.Bind(pos(1))
		checkError(t, err, "query has 2 positional parameters, got 1 argument", 24)
		_, err = p.Bind(pos(1, 2, 3))
		checkError(t, err, "query has 2 positional parameters, got 3 arguments", 24)
		_, err = p.Bind(named("a", 1))
		checkError(t, err, `query uses positional ? parameters, got named argument "a"`, 14)
	}
	p, err := ParseMySQL(sqlscan.ANSIQuotes, `SELECT "a\" FROM t WHERE x = :x`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Bind(pos(1))
	checkError(t, err, "query uses named parameters, got positional argument 1", 29)
}
