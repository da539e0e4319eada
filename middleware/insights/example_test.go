package insights_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/insights"
)

// The URL option insights=on aggregates every query; databases.Insights
// gives the result back. The counts are exact; latencies vary.
func Example() {
	db, err := databases.Open("sqlite:///:memory:?insights=on")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
	for i := range 3 {
		db.Exec("INSERT INTO users (id, name) VALUES (?, ?)", i, "user")
	}
	var name string
	for i := range 5 {
		db.QueryRow("SELECT name FROM users WHERE id = ?", i%3).Scan(&name)
	}
	db.Exec("DELETE FROM orders") // no such table

	for _, q := range databases.Insights(db).Queries() {
		fmt.Printf("%-45s calls=%d errors=%d rows=%d %v\n", q.Summary, q.Calls, q.Errors, q.RowsReturned+q.RowsAffected, q.ErrorsByClass)
	}
	// Unordered output:
	// CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT) calls=1 errors=0 rows=0 map[]
	// INSERT INTO users (id, name) VALUES (...)     calls=3 errors=0 rows=3 map[]
	// SELECT name FROM users WHERE id = ?           calls=5 errors=0 rows=5 map[]
	// DELETE FROM orders                            calls=1 errors=1 rows=0 map[1:1]
}

// A request that runs one query per item, an N+1, is reported once: a
// warning naming the query and a count. ScopeHandler makes each request a
// scope of its own.
func ExampleScopeHandler() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	ins := insights.New(insights.WithLogger(logger))
	db, err := databases.Open("sqlite:///:memory:", databases.WithMiddleware(ins))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var name string
		for id := range 50 {
			db.QueryRowContext(r.Context(), "SELECT name FROM items WHERE id = ?", id).Scan(&name)
		}
	})
	srv := httptest.NewServer(insights.ScopeHandler(app))
	defer srv.Close()
	for range 2 { // two requests, two scopes: two reports
		resp, err := http.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	fmt.Println("reports:", ins.Stats().NPlusOne)
	// Output:
	// level=WARN msg="databases: N+1 query: the same query ran more than 10 times in one scope" db.query.summary="SELECT name FROM items WHERE id = ?" count=11 db.query.text="SELECT name FROM items WHERE id = ?"
	// level=WARN msg="databases: N+1 query: the same query ran more than 10 times in one scope" db.query.summary="SELECT name FROM items WHERE id = ?" count=11 db.query.text="SELECT name FROM items WHERE id = ?"
	// reports: 2
}

// Handler serves the queries as an HTML page, or as JSON with
// ?format=json; mount it where only operators reach it.
func ExampleInsights_Handler() {
	ins := insights.New()
	db, err := databases.Open("sqlite:///:memory:", databases.WithMiddleware(ins))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.Exec("CREATE TABLE t (x)")
	db.Exec("INSERT INTO t VALUES (1), (2), (3)")

	mux := http.NewServeMux()
	mux.Handle("/debug/databases", ins.Handler())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), "GET", "/debug/databases?format=json&sort=rows", nil))
	body, _ := io.ReadAll(rec.Body)
	fmt.Println(rec.Header().Get("Content-Type"))
	fmt.Println(strings.Contains(string(body), `"summary":"INSERT INTO t VALUES (...)","calls":1,"errors":0,"rows":3`))
	// Output:
	// application/json
	// true
}
