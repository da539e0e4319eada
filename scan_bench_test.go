package databases_test

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

// BenchmarkScanRows reads 10 000 rows of four columns (bigint, text,
// double precision, timestamptz) from PostgreSQL into *int64, *string,
// *float64 and *time.Time: raw pgx stdlib, databases without middleware
// (the statement cache keeps the query, which has an argument, and wraps
// its rows), and with a middleware that passes every call on.
// From Go 1.27 on, database/sql scans through the rows' ScanColumn when
// they have one, as pgx's do.
func BenchmarkScanRows(b *testing.B) {
	url := os.Getenv("DATABASES_TEST_POSTGRES_URL")
	if url == "" {
		b.Skip("DATABASES_TEST_POSTGRES_URL is not set")
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	table := dbtest.Name("scanbench")
	if _, err := raw.Exec("CREATE TABLE " + table + " AS SELECT i::bigint AS id, 'name ' || i AS name, i * 0.5 AS score, " +
		"timestamptz '2024-01-01' + i * interval '1 minute' AS at FROM generate_series(1, 10000) AS i"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Exec("DROP TABLE " + table) })
	query := "SELECT id, name, score::float8, at FROM " + table + " WHERE id > $1"
	ctx := context.Background()
	pass := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error { return next(ctx, c) })
	scan := func(b *testing.B, db *sql.DB) {
		b.ReportAllocs()
		var (
			id    int64
			name  string
			score float64
			at    time.Time
		)
		for b.Loop() {
			rows, err := db.QueryContext(ctx, query, 0)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				if err := rows.Scan(&id, &name, &score, &at); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if err := rows.Close(); err != nil || n != 10000 {
				b.Fatalf("%d rows, %v", n, err)
			}
		}
	}
	b.Run("raw", func(b *testing.B) { scan(b, raw) })
	b.Run("databases", func(b *testing.B) { scan(b, openBench(b, url)) })
	b.Run("databases-middleware", func(b *testing.B) { scan(b, openBench(b, url, databases.WithMiddleware(pass))) })
}
