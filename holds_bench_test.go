package databases_test

import (
	"context"
	"testing"
)

// BenchmarkLeakThreshold measures what leak_threshold costs per Query and
// per Begin: the point SELECT of BenchmarkPointSelect and an empty
// transaction (BeginTx, Commit), without the option and with it (30s, never
// reached: the hold, its call site, the list), on each backend.
func BenchmarkLeakThreshold(b *testing.B) {
	for _, bt := range benchTargets(b) {
		b.Run(bt.name, func(b *testing.B) {
			_, table := bt.setup(b)
			for _, v := range []struct{ name, url string }{
				{"off", bt.url},
				{"leak_threshold=30s", withOption(bt.url, "leak_threshold=30s")},
			} {
				db := openBench(b, v.url)
				b.Run("select/"+v.name, func(b *testing.B) { pointSelect(b, db, table, bt.native) })
				b.Run("begin-commit/"+v.name, func(b *testing.B) {
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						tx, err := db.BeginTx(ctx, nil)
						if err != nil {
							b.Fatal(err)
						}
						if err := tx.Commit(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
