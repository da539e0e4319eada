package bench

import (
	"context"
	"database/sql"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// dbTarget is one backend the end-to-end comparisons run on: the raw
// driver and the same database as a databases URL.
type dbTarget struct {
	name, rawDriver, rawDSN, url string
	bind                         int // sqlx's bind type of the raw driver
}

func dbTargets(b *testing.B) []dbTarget {
	path := filepath.Join(b.TempDir(), "bench.db")
	ts := []dbTarget{{name: "sqlite", rawDriver: "sqlite", rawDSN: "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)",
		url: "sqlite:///" + path, bind: sqlx.QUESTION}}
	if u := os.Getenv("DATABASES_TEST_POSTGRES_URL"); u != "" {
		ts = append(ts, dbTarget{name: "postgres", rawDriver: "pgx", rawDSN: u, url: u, bind: sqlx.DOLLAR})
	}
	if u := os.Getenv("DATABASES_TEST_MYSQL_URL"); u != "" {
		pu, err := neturl.Parse(u)
		if err != nil {
			b.Fatal(err)
		}
		cfg := mysql.NewConfig()
		cfg.User = pu.User.Username()
		cfg.Passwd, _ = pu.User.Password()
		cfg.Net, cfg.Addr, cfg.DBName = "tcp", pu.Host, strings.TrimPrefix(pu.Path, "/")
		cfg.ParseTime = true
		ts = append(ts, dbTarget{name: "mysql", rawDriver: "mysql", rawDSN: cfg.FormatDSN(), url: u, bind: sqlx.QUESTION})
	}
	return ts
}

// setup opens the raw driver and databases on t's database and fills a
// table of 1 000 rows.
func (t dbTarget) setup(b *testing.B) (raw, db *sql.DB, table string) {
	raw, err := sql.Open(t.rawDriver, t.rawDSN)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	db, err = databases.Open(t.url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	table = dbtest.Name("inbench")
	if _, err := raw.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Exec("DROP TABLE " + table) })
	var vals []string
	for i := range 1000 {
		vals = append(vals, fmt.Sprintf("(%d, 'user %d')", i, i))
	}
	if _, err := raw.Exec("INSERT INTO " + table + " (id, name) VALUES " + strings.Join(vals, ", ")); err != nil {
		b.Fatal(err)
	}
	return raw, db, table
}

// BenchmarkInListQuery runs SELECT COUNT(*) … WHERE id IN (…) with a list
// of 100 int64 end to end: "hand-built" writes the 100 native placeholders
// and copies the []int64 into a []any for the raw driver, as a program must
// do there; "sqlx.In-Rebind" lets sqlx expand IN (?) and rebind it for the
// raw driver; "databases" passes the []int64 to IN (?).
func BenchmarkInListQuery(b *testing.B) {
	const n = 100
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i * 7 % 1000)
	}
	ctx := context.Background()
	count := func(b *testing.B, db *sql.DB, q string, args ...any) {
		var c int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&c); err != nil {
			b.Fatal(err)
		}
		if c != n {
			b.Fatalf("count %d, want %d", c, n)
		}
	}
	for _, t := range dbTargets(b) {
		b.Run(t.name, func(b *testing.B) {
			raw, db, table := t.setup(b)
			query := "SELECT COUNT(*) FROM " + table + " WHERE id IN (?)"
			var hand strings.Builder
			hand.WriteString("SELECT COUNT(*) FROM " + table + " WHERE id IN (")
			for i := range n {
				if i > 0 {
					hand.WriteString(", ")
				}
				if t.bind == sqlx.DOLLAR {
					hand.WriteString("$" + strconv.Itoa(i+1))
				} else {
					hand.WriteByte('?')
				}
			}
			hand.WriteByte(')')
			handQuery := hand.String()
			b.Run("hand-built", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					args := make([]any, len(ids))
					for i, id := range ids {
						args[i] = id
					}
					count(b, raw, handQuery, args...)
				}
			})
			b.Run("sqlx.In-Rebind", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					q, args, err := sqlx.In(query, ids)
					if err != nil {
						b.Fatal(err)
					}
					count(b, raw, sqlx.Rebind(t.bind, q), args...)
				}
			})
			b.Run("databases", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					count(b, db, query, ids)
				}
			})
		})
	}
}
