package databases_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-sql-driver/mysql"
)

// TestCopyFromPacketLimit: on MySQL a load's batches stay within the
// connection's packet limit, the server's max_allowed_packet (16 MiB on
// the test server) or the driver's maxAllowedPacket when the URL sets a
// smaller one: rows each within it but together past it load, through a
// *sql.DB, a *sql.Conn, a *sql.Tx and under force_rollback; a row past it
// alone fails with the server's error naming that row, and nothing is
// kept. The other backends, which have no such limit, load the same rows.
func TestCopyFromPacketLimit(t *testing.T) {
	t.Parallel()
	huge := make([]byte, 6<<20)
	for i := range huge {
		huge[i] = byte(i)
	}
	tooLarge := make([]byte, 17<<20)
	small := strings.Repeat("x", 300)
	type tc struct {
		name  string
		door  string // "db", "conn", "tx", "force_rollback"
		opts  string // URL options on MySQL
		rows  func() [][]any
		myRow int64 // the row MySQL refuses, or -1
	}
	hugeRows := func() [][]any { return [][]any{{0, huge}, {1, huge}, {2, huge}, {3, []byte("x")}} }
	// 4 KiB packets: a few rows a batch, and the INSERT of 1000 rows would
	// not fit in one either.
	smallRows := func() [][]any {
		rows := make([][]any, 3000)
		for i := range rows {
			rows[i] = []any{i, []byte(small)}
		}
		return rows
	}
	cases := []tc{
		{"huge rows", "db", "", hugeRows, -1},
		{"huge rows in a conn", "conn", "", hugeRows, -1},
		{"huge rows in a tx", "tx", "", hugeRows, -1},
		{"huge rows under force_rollback", "force_rollback", "", hugeRows, -1},
		{"driver limit of 4 KiB", "db", "maxAllowedPacket=4096", smallRows, -1},
		{"driver limit of 4 KiB in a tx", "tx", "maxAllowedPacket=4096", smallRows, -1},
		{"a row past the limit", "db", "", func() [][]any { return [][]any{{0, []byte("a")}, {1, []byte("b")}, {2, tooLarge}, {3, []byte("x")}} }, 2},
		{"a row past the limit in a tx", "tx", "", func() [][]any { return [][]any{{0, huge}, {1, huge}, {2, huge}, {3, tooLarge}} }, 3},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				url := b.URL
				if b.Dialect == "sqlite" {
					url = "sqlite:///" + t.TempDir() + "/packet.db"
				}
				if b.Dialect == "mysql" && c.opts != "" {
					url += "&" + c.opts
				}
				db, err := databases.Open(url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				blob := map[string]string{"sqlite": "BLOB", "postgres": "BYTEA", "mysql": "LONGBLOB"}[b.Dialect]
				table := createTable(t, db, "cpacket", "id INT PRIMARY KEY, b "+blob)
				if c.door == "force_rollback" { // the schema first: DDL commits on MySQL
					if db, err = databases.Open(url + sep(url) + "force_rollback=true"); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { db.Close() })
				}
				ctx := context.Background()
				var q any = db
				var tx *sql.Tx
				switch c.door {
				case "conn":
					conn, err := db.Conn(ctx)
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
					q = conn
				case "tx":
					if tx, err = db.Begin(); err != nil {
						t.Fatal(err)
					}
					defer tx.Rollback()
					q = tx
				}
				rows := c.rows()
				n, err := databases.CopyFrom(ctx, q, table, []string{"id", "b"}, databases.CopyRows(rows))
				if b.Dialect == "mysql" && c.myRow >= 0 {
					// The server answers 1153 and closes the connection; a
					// driver still writing the packet may meet the reset
					// first and say only that, or (in a transaction, seen
					// under load) only driver.ErrBadConn, without the row.
					var ce *databases.CopyError
					var me *mysql.MySQLError
					reset := errors.Is(err, driver.ErrBadConn) && c.door == "tx"
					if !reset && (!errors.As(err, &ce) || ce.Row != c.myRow || !(errors.As(err, &me) && me.Number == 1153 || strings.Contains(err.Error(), "connection reset"))) {
						t.Fatalf("CopyFrom: %d, %v; want the server's error 1153 for row %d", n, err, c.myRow)
					}
					if tx != nil {
						tx.Rollback()
					}
					if got := count(t, db, table); got != 0 {
						t.Fatalf("%d rows kept", got)
					}
					if _, err := databases.CopyFrom(ctx, db, table, []string{"id", "b"}, databases.CopyRows(rows[:1])); err != nil {
						t.Fatalf("the next load: %v", err)
					}
					return
				}
				if err != nil || n != int64(len(rows)) {
					t.Fatalf("CopyFrom: %d, %v; want %d rows", n, err, len(rows))
				}
				if tx != nil {
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				var got, bytes int64
				if err := db.QueryRow("SELECT COUNT(*), SUM(LENGTH(b)) FROM "+table).Scan(&got, &bytes); err != nil {
					t.Fatal(err)
				}
				var want int64
				for _, r := range rows {
					want += int64(len(r[1].([]byte)))
				}
				if got != int64(len(rows)) || bytes != want {
					t.Fatalf("%d rows of %d bytes; want %d of %d", got, bytes, len(rows), want)
				}
			})
		}
	})
}
