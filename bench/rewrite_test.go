package bench

import (
	"database/sql/driver"
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

// BenchmarkInList compares binding a 1 000-element list to IN (?) for
// PostgreSQL: sqlx.In, which expands the ? and flattens the arguments,
// then sqlx.Rebind to make $n, against the rewrite package's cached Plan
// and Expand (the List built from the slice, as the driver builds it,
// included), for one length and for a length that changes on every call.
func BenchmarkInList(b *testing.B) {
	const query = "SELECT id, name FROM users WHERE status = ? AND id IN (?) ORDER BY id"
	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = int64(i)
	}
	sqlxIn := func(b *testing.B, ids []int64) {
		q, args, err := sqlx.In(query, "active", ids)
		if err != nil {
			b.Fatal(err)
		}
		sinkString = sqlx.Rebind(sqlx.DOLLAR, q)
		sinkArgs = args
	}
	c := rewrite.NewCache(rewrite.Postgres, 0)
	expand := func(b *testing.B, ids []int64) {
		p, err := c.Plan(query)
		if err != nil {
			b.Fatal(err)
		}
		l := make(rewrite.List, len(ids))
		for i, id := range ids {
			l[i] = id
		}
		q, args, err := p.Expand([]driver.NamedValue{{Ordinal: 1, Value: "active"}, {Ordinal: 2, Value: l}})
		if err != nil {
			b.Fatal(err)
		}
		sinkString, sinkNamed = q, args
	}
	for _, f := range []struct {
		name string
		bind func(*testing.B, []int64)
	}{{"sqlx.In-Rebind", sqlxIn}, {"rewrite.Expand", expand}} {
		b.Run("1000/"+f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.bind(b, ids)
			}
		})
		b.Run("varying/"+f.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f.bind(b, ids[:i%1000+1])
				i += 7
			}
		})
	}
}

var (
	sinkArgs  []any
	sinkNamed []driver.NamedValue
)
