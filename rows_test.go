package databases_test

import (
	"context"
	"strings"
	"testing"
)

// TestMiddlewareOverlappingRows reads two result sets of one connection at
// once (SQLite allows it): each query keeps its own call until its rows
// close, and each OpRows reports its own query and count.
func TestMiddlewareOverlappingRows(t *testing.T) {
	rec := &recorder{}
	db := openWith(t, "sqlite:///:memory:", rec)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO t VALUES (1), (2), (3)"); err != nil {
		t.Fatal(err)
	}
	rec.take()
	a, err := tx.Query("SELECT id FROM t")
	if err != nil {
		t.Fatal(err)
	}
	b, err := tx.Query("SELECT id FROM t WHERE id < ?", 3)
	if err != nil {
		t.Fatal(err)
	}
	for a.Next() && b.Next() { // b reaches its end, and closes, on the third round
	}
	if _, err := tx.Exec("UPDATE t SET id = id"); err != nil { // a call while a's rows are open
		t.Fatal(err)
	}
	for a.Next() {
	}
	a.Close()
	want := []string{
		"prepare tx=true ctx=", // each query's first run keeps its statement
		"query tx=true ctx= cache=miss",
		"prepare tx=true ctx=",
		"query tx=true ctx= cache=miss",
		`rows tx=true ctx= returned=2 query="SELECT id FROM t WHERE id < ?"`,
		"prepare tx=true ctx=",
		`exec tx=true ctx= affected=3 native="UPDATE t SET id = id" cache=miss`,
		`rows tx=true ctx= returned=3 query="SELECT id FROM t"`,
	}
	if got := rec.take(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
