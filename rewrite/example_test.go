package rewrite_test

import (
	"github.com/go-databases/databases/sqlscan"

	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/go-databases/databases/rewrite"
)

// args returns arguments as database/sql hands them to a driver.
func args(values ...any) []driver.NamedValue {
	out := make([]driver.NamedValue, len(values))
	for i, v := range values {
		if n, ok := v.(sql.NamedArg); ok {
			out[i] = driver.NamedValue{Ordinal: i + 1, Name: n.Name, Value: n.Value}
			continue
		}
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

func ExampleParse_postgres() {
	p, err := rewrite.Parse(rewrite.Postgres,
		"SELECT name FROM users WHERE id = :id AND tags ?? :tag AND :id > 0")
	if err != nil {
		panic(err)
	}
	bound, err := p.Bind(args(sql.Named("tag", "admin"), sql.Named("id", 42)))
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Query())
	fmt.Println(p.Operation(), p.NumInput())
	for _, a := range bound {
		fmt.Printf("$%d = %v\n", a.Ordinal, a.Value)
	}
	// Output:
	// SELECT name FROM users WHERE id = $1 AND tags ? $2 AND $1 > 0
	// SELECT -1
	// $1 = 42
	// $2 = admin
}

func ExampleParse_positional() {
	p, err := rewrite.Parse(rewrite.Postgres, "UPDATE t SET note = '-- ok?' WHERE a=?AND b = ?")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Query())
	fmt.Println(p.NumInput())
	// Output:
	// UPDATE t SET note = '-- ok?' WHERE a=$1 AND b = $2
	// 2
}

func ExampleParse_mysql() {
	p, err := rewrite.Parse(rewrite.MySQL,
		"SELECT * FROM t WHERE a = :x OR b = :x /* :not_a_param */ AND @v = :y")
	if err != nil {
		panic(err)
	}
	bound, err := p.Bind(args(sql.Named("x", 1), sql.Named("y", "two")))
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Query())
	for _, a := range bound {
		fmt.Printf("%d: %v\n", a.Ordinal, a.Value)
	}
	// Output:
	// SELECT * FROM t WHERE a = ? OR b = ? /* :not_a_param */ AND @v = ?
	// 1: 1
	// 2: 1
	// 3: two
}

func ExampleError() {
	_, err := rewrite.Parse(rewrite.Postgres, "SELECT $1, ?")
	fmt.Println(err)
	p, _ := rewrite.Parse(rewrite.Postgres, "SELECT :a, :b")
	_, err = p.Bind(args(sql.Named("a", 1)))
	fmt.Println(err)
	// Output:
	// rewrite: parameter ? follows native $n parameters (one style per query) at offset 11
	// rewrite: named parameter :b has no argument at offset 11
}

func ExampleCache() {
	cache := rewrite.NewCache(rewrite.Postgres, 0)
	p1, _ := cache.Plan("SELECT * FROM t WHERE id = ?")
	p2, _ := cache.Plan("SELECT * FROM t WHERE id = ?")
	fmt.Println(p1.Query(), p1 == p2)
	// Output:
	// SELECT * FROM t WHERE id = $1 true
}

func ExampleParseMySQL() {
	mode, err := sqlscan.ParseMySQLMode("'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES'")
	if err != nil {
		panic(err)
	}
	p, err := rewrite.ParseMySQL(mode, `SELECT * FROM files WHERE dir = 'C:\' AND name = :name`)
	if err != nil {
		panic(err)
	}
	fmt.Println(mode)
	fmt.Println(p.Query())
	_, err = rewrite.Parse(rewrite.MySQL, `SELECT * FROM files WHERE dir = 'C:\' AND name = :name`)
	fmt.Println(err)
	// Output:
	// NO_BACKSLASH_ESCAPES
	// SELECT * FROM files WHERE dir = 'C:\' AND name = ?
	// rewrite: unterminated quoted string (the \ at offset 35 escapes the quote after it; if the server's sql_mode has NO_BACKSLASH_ESCAPES, say so: sql_mode in the URL) at offset 32
}
