package integration

import (
	"reflect"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/go-databases/databases/internal/dbtest"
)

type person struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
	Age  int64  `db:"age"`
}

// sqlx does not know the driver name "databases", so its bind type is
// UNKNOWN and Rebind and named queries produce '?', which the driver then
// rewrites for the backend. No sqlx.BindDriver call is needed.
func TestSQLxBindTypeIsQuestion(t *testing.T) {
	if got := sqlx.BindType("databases"); got != sqlx.UNKNOWN {
		t.Fatalf("sqlx.BindType(databases) = %d; want UNKNOWN", got)
	}
	db := sqlx.NewDb(nil, "databases")
	if got, want := db.Rebind("SELECT ? WHERE x = ?"), "SELECT ? WHERE x = ?"; got != want {
		t.Fatalf("Rebind = %q; want %q", got, want)
	}
}

func TestSQLx(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table := dbtest.Name("sqlx_people")
		sdb := open(t, b)
		createPeople(t, sdb, table)
		db := sqlx.NewDb(sdb, "databases")

		var p person
		if err := db.Get(&p, "SELECT id, name, age FROM "+table+" WHERE name = ?", "Grace"); err != nil {
			t.Fatal(err)
		}
		if want := (person{2, "Grace", 85}); p != want {
			t.Fatalf("Get = %+v; want %+v", p, want)
		}

		var young []person
		if err := db.Select(&young, "SELECT id, name, age FROM "+table+" WHERE age < ? ORDER BY id", 50); err != nil {
			t.Fatal(err)
		}
		if want := []person{{1, "Ada", 36}, {3, "Linus", 28}}; !reflect.DeepEqual(young, want) {
			t.Fatalf("Select = %+v; want %+v", young, want)
		}

		// NamedExec binds :name from the struct; sqlx sends '?'.
		res, err := db.NamedExec("INSERT INTO "+table+" (id, name, age) VALUES (:id, :name, :age)", person{4, "Barbara", 79})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("NamedExec affected %d, %v; want 1", n, err)
		}
		var name string
		if err := db.Get(&name, "SELECT name FROM "+table+" WHERE id = ?", 4); err != nil || name != "Barbara" {
			t.Fatalf("row written by NamedExec: %q, %v", name, err)
		}

		// sqlx.In expands the slice to ?, ?, ?; Rebind leaves them for the driver.
		query, args, err := sqlx.In("SELECT name FROM "+table+" WHERE id IN (?) AND age > ? ORDER BY id", []int{1, 2, 4}, 40)
		if err != nil {
			t.Fatal(err)
		}
		query = db.Rebind(query)
		var names []string
		if err := db.Select(&names, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if want := []string{"Grace", "Barbara"}; !reflect.DeepEqual(names, want) {
			t.Fatalf("sqlx.In = %q; want %q", names, want)
		}

		// Named queries with a map, in a transaction.
		tx, err := db.Beginx()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.NamedExec("UPDATE "+table+" SET age = :age WHERE name = :name", map[string]any{"age": 37, "name": "Ada"}); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var age int
		if err := db.Get(&age, "SELECT age FROM "+table+" WHERE id = ?", 1); err != nil || age != 37 {
			t.Fatalf("age after named update = %d, %v; want 37", age, err)
		}
	})
}
