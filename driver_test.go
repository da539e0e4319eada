package databases_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// ddl creates the table every behavioural case uses, per dialect.
var ddl = map[string]string{
	"sqlite":   "CREATE TABLE %s (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, born TIMESTAMP, data BLOB, price DECIMAL(10,2))",
	"postgres": "CREATE TABLE %s (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, born TIMESTAMPTZ, data BYTEA, price NUMERIC(10,2))",
	"mysql":    "CREATE TABLE %s (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, note TEXT, born DATETIME(6), data BLOB, price DECIMAL(10,2))",
}

// behaviour is one case of the table every dialect runs.
type behaviour struct {
	name string
	run  func(t *testing.T, db *sql.DB, table string, b dbtest.Backend)
}

var behaviours = []behaviour{
	{"insert and select", func(t *testing.T, db *sql.DB, table string, _ dbtest.Backend) {
		ctx := context.Background()
		res, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id, name) VALUES (?, ?), (?, ?)", 1, "ada", 2, "grace")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 2 {
			t.Fatalf("RowsAffected = %d, %v; want 2", n, err)
		}
		var name string
		if err := db.QueryRowContext(ctx, "SELECT name FROM "+table+" WHERE id = ?", 2).Scan(&name); err != nil || name != "grace" {
			t.Fatalf("name = %q, %v; want grace", name, err)
		}
		err = db.QueryRowContext(ctx, "SELECT name FROM "+table+" WHERE id = ?", 99).Scan(&name)
		if !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("missing row: err = %v; want sql.ErrNoRows", err)
		}
	}},
	{"NULL", func(t *testing.T, db *sql.DB, table string, _ dbtest.Backend) {
		if _, err := db.Exec("INSERT INTO "+table+" (id, name, note) VALUES (?, ?, ?)", 1, "n", nil); err != nil {
			t.Fatal(err)
		}
		var note sql.NullString
		var born sql.NullTime
		if err := db.QueryRow("SELECT note, born FROM "+table+" WHERE id = ?", 1).Scan(&note, &born); err != nil {
			t.Fatal(err)
		}
		if note.Valid || born.Valid {
			t.Fatalf("note = %+v, born = %+v; want both NULL", note, born)
		}
	}},
	{"time", func(t *testing.T, db *sql.DB, table string, _ dbtest.Backend) {
		want := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
		if _, err := db.Exec("INSERT INTO "+table+" (id, name, born) VALUES (?, ?, ?)", 1, "t", want); err != nil {
			t.Fatal(err)
		}
		var got time.Time
		if err := db.QueryRow("SELECT born FROM "+table+" WHERE id = ?", 1).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Fatalf("born = %v; want %v", got, want)
		}
	}},
	{"bytes", func(t *testing.T, db *sql.DB, table string, _ dbtest.Backend) {
		want := []byte{0, 1, 2, 0xfe, 0xff, '\'', '?'}
		if _, err := db.Exec("INSERT INTO "+table+" (id, name, data) VALUES (?, ?, ?)", 1, "b", want); err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := db.QueryRow("SELECT data FROM "+table+" WHERE id = ?", 1).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("data = %x; want %x", got, want)
		}
	}},
	{"column types", func(t *testing.T, db *sql.DB, table string, b dbtest.Backend) {
		if _, err := db.Exec("INSERT INTO "+table+" (id, name, note, price) VALUES (?, ?, ?, ?)", 1, "c", "n", 9.5); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("SELECT id, name, note, price FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cts, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ct := range cts {
			names = append(names, ct.Name())
			if ct.ScanType() == nil {
				t.Errorf("column %s: no ScanType", ct.Name())
			}
		}
		if fmt.Sprint(names) != "[id name note price]" {
			t.Fatalf("columns = %v", names)
		}
		// modernc sqlite reports no decimal size; the others must.
		if p, s, ok := cts[3].DecimalSize(); b.Dialect != "sqlite" && (!ok || p != 10 || s != 2) {
			t.Errorf("price DecimalSize = %d, %d, %v; want 10, 2, true", p, s, ok)
		}
	}},
	{"transaction", func(t *testing.T, db *sql.DB, table string, _ dbtest.Backend) {
		ctx := context.Background()
		for _, commit := range []bool{false, true} {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, name) VALUES (?, ?)", 7, "tx"); err != nil {
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 0, true: 1}[commit]; n != want {
				t.Fatalf("commit=%v: %d rows; want %d", commit, n, want)
			}
		}
	}},
	{"driver error", func(t *testing.T, db *sql.DB, _ string, b dbtest.Backend) {
		_, err := db.Exec("SELECT * FROM no_such_table_here")
		if err == nil {
			t.Fatal("query on a missing table succeeded")
		}
		switch b.Dialect {
		case "postgres":
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
				t.Fatalf("err = %#v; want *pgconn.PgError 42P01", err)
			}
		case "mysql":
			var myErr *mysql.MySQLError
			if !errors.As(err, &myErr) || myErr.Number != 1146 {
				t.Fatalf("err = %#v; want *mysql.MySQLError 1146", err)
			}
		case "sqlite":
			var liteErr *sqlite.Error
			if !errors.As(err, &liteErr) || liteErr.Code() != 1 {
				t.Fatalf("err = %#v; want *sqlite.Error code 1", err)
			}
		}
	}},
	{"raw connection", func(t *testing.T, db *sql.DB, table string, b dbtest.Backend) {
		ctx := context.Background()
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		err = c.Raw(func(dc any) error {
			real := databases.DriverConn(dc)
			switch b.Dialect {
			case "postgres":
				pc, ok := real.(*stdlib.Conn)
				if !ok {
					return fmt.Errorf("DriverConn = %T; want *stdlib.Conn", real)
				}
				n, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "name"},
					pgx.CopyFromRows([][]any{{1, "copy1"}, {2, "copy2"}, {3, "copy3"}}))
				if err != nil || n != 3 {
					return fmt.Errorf("CopyFrom = %d, %v", n, err)
				}
			case "sqlite":
				s, ok := real.(interface{ Serialize() ([]byte, error) })
				if !ok {
					return fmt.Errorf("DriverConn = %T; want the modernc connection", real)
				}
				if buf, err := s.Serialize(); err != nil || len(buf) == 0 {
					return fmt.Errorf("Serialize = %d bytes, %v", len(buf), err)
				}
			case "mysql":
				if got := fmt.Sprintf("%T", real); got != "*mysql.mysqlConn" {
					return fmt.Errorf("DriverConn = %s; want *mysql.mysqlConn", got)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if b.Dialect == "postgres" {
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != 3 {
				t.Fatalf("after CopyFrom: %d rows, %v; want 3", n, err)
			}
		}
	}},
	{"driver argument types", func(t *testing.T, db *sql.DB, _ string, b dbtest.Backend) {
		// Types only the real driver knows must still bind.
		var got string
		var err error
		switch b.Dialect {
		case "postgres":
			err = db.QueryRow("SELECT array_to_string(?::int[], ',')", []int64{1, 2, 3}).Scan(&got)
			if got != "1,2,3" {
				t.Errorf("pgx array: %q", got)
			}
		case "mysql":
			err = db.QueryRow("SELECT CAST(? AS CHAR)", uint64(1<<63+5)).Scan(&got)
			if got != "9223372036854775813" {
				t.Errorf("uint64: %q", got)
			}
		case "sqlite":
			err = db.QueryRow("SELECT CAST(? AS TEXT)", uint64(1<<62)).Scan(&got)
			if got != "4611686018427387904" {
				t.Errorf("uint64: %q", got)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}},
	{"20 goroutines", func(t *testing.T, db *sql.DB, table string, _ dbtest.Backend) {
		const workers, each = 20, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					id := w*each + i
					if _, err := db.Exec("INSERT INTO "+table+" (id, name) VALUES (?, ?)", id, fmt.Sprint("w", id)); err != nil {
						errs <- err
						return
					}
					var name string
					if err := db.QueryRow("SELECT name FROM "+table+" WHERE id = ?", id).Scan(&name); err != nil || name != fmt.Sprint("w", id) {
						errs <- fmt.Errorf("id %d: name %q, %v", id, name, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != workers*each {
			t.Fatalf("count = %d, %v; want %d", n, err, workers*each)
		}
	}},
}

// TestBehaviour runs every case of the table against every dialect, each on
// a fresh table.
func TestBehaviour(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := sql.Open("databases", b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, c := range behaviours {
			t.Run(c.name, func(t *testing.T) {
				table := dbtest.Name("behaviour")
				if _, err := db.Exec(fmt.Sprintf(ddl[b.Dialect], table)); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
				c.run(t, db, table, b)
			})
		}
	})
}
