package rewrite

import (
	"database/sql/driver"
	"strings"
	"testing"
)

// benchQuery is a realistic 200-byte SELECT with six positional parameters.
const benchQuery = `SELECT u.id, u.email, u.created_at, o.total FROM users u JOIN orders o ON o.user_id = u.id ` +
	`WHERE u.status = ? AND o.created_at >= ? AND o.created_at < ? AND o.total > ? ` +
	`ORDER BY o.created_at DESC LIMIT ? OFFSET ?`

var sinkString string

func BenchmarkRewrite(b *testing.B) {
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchQuery)))
		for b.Loop() {
			p, err := Parse(Postgres, benchQuery)
			if err != nil {
				b.Fatal(err)
			}
			sinkString = p.Query()
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := NewCache(Postgres, 0)
		if _, err := c.Plan(benchQuery); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			p, _ := c.Plan(benchQuery)
			sinkString = p.Query()
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		c := NewCache(Postgres, 0)
		if _, err := c.Plan(benchQuery); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Plan(benchQuery); err != nil {
					b.Error(err)
				}
			}
		})
	})
	b.Run("mysql-uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := Parse(MySQL, benchQuery)
			if err != nil {
				b.Fatal(err)
			}
			sinkString = p.Query()
		}
	})
}

var sinkArgs []driver.NamedValue

func BenchmarkBind(b *testing.B) {
	b.Run("positional", func(b *testing.B) {
		p, err := Parse(Postgres, benchQuery)
		if err != nil {
			b.Fatal(err)
		}
		args := pos("active", 1, 2, 3.5, 10, 20)
		b.ReportAllocs()
		for b.Loop() {
			sinkArgs, err = p.Bind(args)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("named", func(b *testing.B) {
		p, err := Parse(Postgres, "SELECT * FROM t WHERE a = :a AND b = :b AND c = :c AND a2 = :a")
		if err != nil {
			b.Fatal(err)
		}
		args := named("c", 3, "b", 2, "a", 1)
		b.ReportAllocs()
		for b.Loop() {
			sinkArgs, err = p.Bind(args)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParse measures uncached parsing of other common shapes of query.
func BenchmarkParse(b *testing.B) {
	bulk := "INSERT INTO events (id, kind, payload, created_at, user_id) VALUES " +
		strings.Repeat("(?, ?, ?, ?, ?), ", 99) + "(?, ?, ?, ?, ?)"
	for _, bc := range []struct {
		name string
		d    Dialect
		q    string
	}{
		{"postgres-named", Postgres, `SELECT u.id, u.email, u.created_at FROM users u ` +
			`WHERE u.status = :status AND u.created_at >= :since AND u.org_id = :org ORDER BY u.id LIMIT :limit`},
		{"postgres-literals", Postgres, `SELECT id, data->>'name' AS name FROM items /* list? */ ` +
			`WHERE kind = 'a?b' AND owner = ? AND data ?? 'tag' AND created_at > now() - interval '1 day' LIMIT ?`},
		{"postgres-none", Postgres, `CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_created ON orders (user_id, created_at DESC)`},
		{"postgres-bulk", Postgres, bulk},
		{"mysql-named", MySQL, `SELECT u.id, u.email, u.created_at FROM users u ` +
			`WHERE u.status = :status AND u.created_at >= :since AND u.org_id = :org ORDER BY u.id LIMIT :limit`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.q)))
			for b.Loop() {
				p, err := Parse(bc.d, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				sinkString = p.Query()
			}
		})
	}
}
