package databases_test

import (
	"database/sql"
	"fmt"
	"log"
	"strings"
)

// A slice bound to IN (?) or IN (:name) becomes one placeholder per element
// on every backend; an empty one makes IN match nothing and NOT IN match
// everything. Anywhere else a slice goes to the real driver unchanged (pgx
// binds it as an array for = ANY(?)).
func Example_inList() {
	db, err := sql.Open("databases", "sqlite:///:memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, team TEXT)")
	db.Exec("INSERT INTO users (name, team) VALUES ('Ada', 'a'), ('Grace', 'b'), ('Edsger', 'a'), ('Barbara', 'c')")

	names := func(query string, args ...any) string {
		rows, err := db.Query(query, args...)
		if err != nil {
			return err.Error()
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name string
			rows.Scan(&name)
			out = append(out, name)
		}
		return "[" + strings.Join(out, " ") + "]"
	}
	fmt.Println(names("SELECT name FROM users WHERE id IN (?) AND team = ? ORDER BY id", []int64{1, 2, 3}, "a"))
	fmt.Println(names("SELECT name FROM users WHERE team IN (:teams) OR id IN (:ids) ORDER BY id",
		sql.Named("teams", []string{"b", "c"}), sql.Named("ids", []int{1})))
	fmt.Println(names("SELECT name FROM users WHERE id IN (?) ORDER BY id", []int64{}))
	fmt.Println(names("SELECT name FROM users WHERE id NOT IN (?) ORDER BY id", []int64{}))
	fmt.Println(names("SELECT name FROM users WHERE id = ?", []int64{1}))
	// Output:
	// [Ada Edsger]
	// [Ada Grace Barbara]
	// []
	// [Ada Grace Edsger Barbara]
	// sql: converting argument $1 type: unsupported type []int64, a slice of int64
}
