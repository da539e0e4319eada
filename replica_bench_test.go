package databases

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-databases/databases/internal/cluster"
)

// BenchmarkReplicaRead compares a point SELECT on a replica through the raw
// driver with the same read through ReadReplica: with nothing written since
// the replica was seen caught up, read-your-writes adds no round trip. The
// write-then-read pairs show what a read after a write costs: the
// primary's position is read once and the replica checked (PostgreSQL) or
// waited on (MariaDB) once.
//
//	go test -run '^$' -bench ReplicaRead -count 5 .
func BenchmarkReplicaRead(b *testing.B) {
	type target struct {
		name, rawDriver, primaryDSN, replicaDSN, url string
	}
	start := map[string]func(b *testing.B) target{
		"postgres": func(b *testing.B) target {
			p := cluster.StartPostgres(b, cluster.PostgresOptions{})
			return target{"postgres", "pgx", p.Primary.URLFor("test"), p.Standby.URLFor("test"),
				p.Primary.URLFor("test") + "&replicas=" + p.Standby.Addr()}
		},
		"mariadb": func(b *testing.B) target {
			m := cluster.StartMariaDB(b, cluster.MariaDBOptions{})
			return target{"mariadb", "mysql", m.Primary.DSN(), m.Replica.DSN(), m.Primary.URL() + "?replicas=" + m.Replica.Addr()}
		},
	}
	for _, name := range []string{"postgres", "mariadb"} {
		b.Run(name, func(b *testing.B) {
			tg := start[name](b)
			open := func(driverName, dsn string) *sql.DB {
				db, err := sql.Open(driverName, dsn)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				return db
			}
			rawPrimary, rawReplica := open(tg.rawDriver, tg.primaryDSN), open(tg.rawDriver, tg.replicaDSN)
			db := open("databases", tg.url)
			if _, err := db.Exec("CREATE TABLE replicas_bench (id INT PRIMARY KEY, v INT NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO replicas_bench VALUES (1, 0)"); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			rctx := ReadReplica(ctx)
			var v int
			if err := db.QueryRowContext(rctx, "SELECT v FROM replicas_bench WHERE id = ?", 1).Scan(&v); err != nil {
				b.Fatal(err) // also makes the replica seen caught up
			}
			rawQ, rawU := "SELECT v FROM replicas_bench WHERE id = ?", "UPDATE replicas_bench SET v = v + 1 WHERE id = ?"
			if tg.rawDriver == "pgx" {
				rawQ, rawU = "SELECT v FROM replicas_bench WHERE id = $1", "UPDATE replicas_bench SET v = v + 1 WHERE id = $1"
			}
			read := func(b *testing.B, q interface {
				QueryRowContext(context.Context, string, ...any) *sql.Row
			}, ctx context.Context, query string) {
				if err := q.QueryRowContext(ctx, query, 1).Scan(&v); err != nil {
					b.Fatal(err)
				}
			}
			write := func(b *testing.B, db *sql.DB, query string) {
				if _, err := db.ExecContext(ctx, query, 1); err != nil {
					b.Fatal(err)
				}
			}
			var set *replicaSet
			sc, err := db.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			sc.Raw(func(dc any) error {
				set = dc.(interface{ self() *conn }).self().connector.replicas
				return nil
			})
			sc.Close()
			// report gives the round trips read-your-writes added per
			// iteration: primary positions read, replica checks or waits.
			report := func(b *testing.B) func() {
				reads, waits := set.reads.Load(), set.waits.Load()
				return func() {
					n := float64(b.N)
					b.ReportMetric(float64(set.reads.Load()-reads)/n, "positions/op")
					b.ReportMetric(float64(set.waits.Load()-waits)/n, "waits/op")
				}
			}
			b.Run("raw-replica-read", func(b *testing.B) {
				for b.Loop() {
					read(b, rawReplica, ctx, rawQ)
				}
			})
			b.Run("ReadReplica-read", func(b *testing.B) {
				defer report(b)()
				for b.Loop() {
					read(b, db, rctx, "SELECT v FROM replicas_bench WHERE id = ?")
				}
			})
			b.Run("raw-write-then-replica-read", func(b *testing.B) {
				for b.Loop() {
					write(b, rawPrimary, rawU)
					read(b, rawReplica, ctx, rawQ)
				}
			})
			b.Run("write-then-ReadReplica-read", func(b *testing.B) {
				defer report(b)()
				for b.Loop() {
					write(b, db, "UPDATE replicas_bench SET v = v + 1 WHERE id = ?")
					read(b, db, rctx, "SELECT v FROM replicas_bench WHERE id = ?")
				}
			})
		})
	}
}
