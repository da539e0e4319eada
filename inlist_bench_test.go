package databases_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkInList compares a query with an IN list through the raw driver,
// written with one native placeholder per element and the []int64 copied
// into a []any, as a program must do there, and through databases, written
// IN (?) with the []int64: a list of 1 000 elements, and a list whose
// length changes on every call (1…1 000).
func BenchmarkInList(b *testing.B) {
	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = int64(i * 7 % benchRows)
	}
	anys := func(ids []int64) []any {
		a := make([]any, len(ids))
		for i, id := range ids {
			a[i] = id
		}
		return a
	}
	for _, bt := range benchTargets(b) {
		b.Run(bt.name, func(b *testing.B) {
			raw, table := bt.setup(b)
			db := openBench(b, bt.url)
			ctx := context.Background()
			query := "SELECT COUNT(*) FROM " + table + " WHERE id IN (?)"
			rawQuery := func(n int) string {
				var s strings.Builder
				s.WriteString("SELECT COUNT(*) FROM " + table + " WHERE id IN (")
				for i := range n {
					if i > 0 {
						s.WriteString(", ")
					}
					if bt.native == "?" {
						s.WriteByte('?')
					} else {
						s.WriteString("$" + strconv.Itoa(i+1))
					}
				}
				s.WriteByte(')')
				return s.String()
			}
			count := func(b *testing.B, db *sql.DB, q string, args ...any) {
				var n int
				if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			q1000 := rawQuery(1000)
			b.Run("1000/raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					count(b, raw, q1000, anys(ids)...)
				}
			})
			b.Run("1000/databases", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					count(b, db, query, ids)
				}
			})
			b.Run("varying/raw", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					n := i%1000 + 1
					count(b, raw, rawQuery(n), anys(ids[:n])...)
					i += 7
				}
			})
			b.Run("varying/databases", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					n := i%1000 + 1
					count(b, db, query, ids[:n])
					i += 7
				}
			})
		})
	}
}
