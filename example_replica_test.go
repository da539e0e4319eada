package databases_test

// Examples of read replicas: ReadReplica, and WritePosition/AfterPosition
// carrying read-your-writes from one process to the next.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/go-databases/databases"
)

// Reads that may be served by a replica say so with ReadReplica. On a DB
// without replicas (here SQLite) they run on the one server, so code
// written for replicas works unchanged in tests and on a laptop; with
// ?replicas=host:port in a PostgreSQL or MySQL URL they go to a replica,
// after it has replayed this DB's own writes.
func ExampleReadReplica() {
	db, _ := databases.Open("sqlite:///:memory:")
	defer db.Close()
	ctx := context.Background()
	db.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
	db.ExecContext(ctx, "INSERT INTO orders VALUES (1, 42)")

	var total int
	err := db.QueryRowContext(databases.ReadReplica(ctx), "SELECT total FROM orders WHERE id = ?", 1).Scan(&total)
	fmt.Println(total, err)

	// A read-only transaction runs on a replica from BEGIN to COMMIT.
	err = databases.Transact(ctx, db, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&total)
	})
	fmt.Println(total, err)
	// Output:
	// 42 <nil>
	// 1 <nil>
}

// A web app behind a load balancer: the instance that handles a write puts
// its position in a cookie, and whichever instance handles the next request
// of that user waits for it before reading from its replica.
func ExampleWritePosition() {
	db, err := databases.Open("postgres://app@primary:5432/shop?replicas=replica1:5432,replica2:5432")
	if err != nil {
		panic(err)
	}
	http.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		if _, err := db.ExecContext(r.Context(), "INSERT INTO orders (total) VALUES (?)", r.FormValue("total")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if token, err := databases.WritePosition(r.Context(), db); err == nil && token != "" {
			http.SetCookie(w, &http.Cookie{Name: "db_pos", Value: token, MaxAge: 60, HttpOnly: true})
		}
		http.Redirect(w, r, "/orders", http.StatusSeeOther)
	})
	http.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		ctx := databases.ReadReplica(r.Context())
		if c, err := r.Cookie("db_pos"); err == nil {
			ctx = databases.AfterPosition(ctx, c.Value)
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&n); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%d orders\n", n)
	})
}
