package bench

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/go-databases/databases/rewrite"
)

// benchQuery is a realistic 212-byte SELECT with six positional parameters.
const benchQuery = `SELECT u.id, u.email, u.created_at, o.total FROM users u JOIN orders o ON o.user_id = u.id ` +
	`WHERE u.status = ? AND o.created_at >= ? AND o.created_at < ? AND o.total > ? ` +
	`ORDER BY o.created_at DESC LIMIT ? OFFSET ?`

var sinkString string

// BenchmarkRewrite compares turning the ? of benchQuery into PostgreSQL's
// $n: sqlx.Rebind, which renumbers every ? it finds, against the rewrite
// package parsing the query (it also skips literals and comments and keeps
// a plan to bind arguments by), uncached and from its cache.
func BenchmarkRewrite(b *testing.B) {
	b.Run("sqlx.Rebind", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchQuery)))
		for b.Loop() {
			sinkString = sqlx.Rebind(sqlx.DOLLAR, benchQuery)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchQuery)))
		for b.Loop() {
			p, err := rewrite.Parse(rewrite.Postgres, benchQuery)
			if err != nil {
				b.Fatal(err)
			}
			sinkString = p.Query()
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := rewrite.NewCache(rewrite.Postgres, 0)
		if _, err := c.Plan(benchQuery); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(benchQuery)))
		for b.Loop() {
			p, err := c.Plan(benchQuery)
			if err != nil {
				b.Fatal(err)
			}
			sinkString = p.Query()
		}
	})
}
