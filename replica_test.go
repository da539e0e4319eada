package databases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/go-databases/databases/internal/cluster"
	"github.com/go-databases/databases/middleware"
)

// replicaBackend is a primary with one replica on private servers, made
// deliberately stale when asked (PostgreSQL recovery_min_apply_delay
// 700ms, MariaDB MASTER_DELAY=1).
type replicaBackend struct {
	name        string
	primary     string // the primary's URL, without replicas
	replica     string // the replica's host:port
	replicaPort int
	primaryPort int
	stop, start func() // stop and start the replica server
	rawReplica  func(t testing.TB) *sql.DB
	// setDelay changes a MariaDB replica's MASTER_DELAY; nil on PostgreSQL.
	setDelay func(time.Duration) error
}

// url returns the primary's URL with the replica and the options given.
func (b *replicaBackend) url(opts string) string {
	sep := "?"
	if strings.Contains(b.primary, "?") {
		sep = "&"
	}
	u := b.primary + sep + "replicas=" + b.replica
	if opts != "" {
		u += "&" + opts
	}
	return u
}

// where is the query that says, on the server, which server ran it.
func (b *replicaBackend) where() string {
	if b.name == "postgres" {
		return "SELECT pg_is_in_recovery(), inet_server_port()"
	}
	return "SELECT @@read_only = 1, @@port"
}

// forEachReplicaBackend runs fn on a PostgreSQL primary and standby and on
// a MariaDB primary and GTID replica, each started for the subtest. The
// subtests run in parallel (parallelServers): their servers are their own,
// so the caller, which starts none, calls t.Parallel too.
func forEachReplicaBackend(t *testing.T, stale bool, fn func(t *testing.T, b *replicaBackend)) {
	t.Run("postgres", func(t *testing.T) {
		parallelServers(t)
		var opts cluster.PostgresOptions
		if stale {
			opts.ApplyDelay = 700 * time.Millisecond
		}
		p := cluster.StartPostgres(t, opts)
		fn(t, &replicaBackend{
			name: "postgres", primary: p.Primary.URLFor("test"), replica: p.Standby.Addr(),
			replicaPort: p.Standby.Port, primaryPort: p.Primary.Port,
			stop: p.Standby.StopServer, start: p.Standby.StartServer,
			rawReplica: func(t testing.TB) *sql.DB { return rawDB(t, "pgx", p.Standby.URLFor("test")) },
		})
	})
	t.Run("mariadb", func(t *testing.T) {
		parallelServers(t)
		var opts cluster.MariaDBOptions
		if stale {
			opts.Delay = time.Second
		}
		m := cluster.StartMariaDB(t, opts)
		fn(t, &replicaBackend{
			name: "mariadb", primary: m.Primary.URL(), replica: m.Replica.Addr(),
			replicaPort: m.Replica.Port, primaryPort: m.Primary.Port,
			stop: m.Replica.Stop, start: func() {
				if err := m.Replica.Run(); err != nil {
					t.Fatal(err)
				}
			},
			rawReplica: func(t testing.TB) *sql.DB { return rawDB(t, "mysql", m.Replica.DSN()) },
			setDelay:   m.SetDelay,
		})
	})
}

func rawDB(t testing.TB, driverName, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openReplicaDB(t testing.TB, url string, opts ...Option) *sql.DB {
	t.Helper()
	db, err := Open(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ranOn is what a query reports of the server that ran it.
type ranOn struct {
	replica bool
	port    int
}

// queryer is what runs a query: a *sql.DB, *sql.Tx or *sql.Conn.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func whereRan(t *testing.T, b *replicaBackend, q queryer, ctx context.Context) ranOn {
	t.Helper()
	var s ranOn
	if err := q.QueryRowContext(ctx, b.where()).Scan(&s.replica, &s.port); err != nil {
		t.Fatal(err)
	}
	return s
}

// createReplicated creates a table on the primary and waits until the
// replica has it.
func createReplicated(t *testing.T, b *replicaBackend, db *sql.DB, table string) {
	t.Helper()
	if _, err := db.Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, v INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	raw := b.rawReplica(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := raw.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica has no table %s after 30s: %v", table, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReplicaRouting checks every routing rule on the server that ran the
// statement: pg_is_in_recovery() and inet_server_port() on PostgreSQL,
// @@read_only and @@port on MariaDB.
func TestReplicaRouting(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, false, func(t *testing.T, b *replicaBackend) {
		db := openReplicaDB(t, b.url(""))
		ctx := t.Context()
		rctx := ReadReplica(ctx)
		onReplica := ranOn{true, b.replicaPort}
		onPrimary := ranOn{false, b.primaryPort}
		tests := []struct {
			name string
			run  func(t *testing.T) []ranOn
			want []ranOn
		}{
			{"plain statement: primary", func(t *testing.T) []ranOn { return []ranOn{whereRan(t, b, db, ctx)} }, []ranOn{onPrimary}},
			{"ReadReplica statement: replica", func(t *testing.T) []ranOn { return []ranOn{whereRan(t, b, db, rctx)} }, []ranOn{onReplica}},
			{"read-only transaction, BEGIN to COMMIT: replica", func(t *testing.T) []ranOn {
				tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				s := []ranOn{whereRan(t, b, tx, ctx), whereRan(t, b, tx, rctx)}
				st, err := tx.PrepareContext(ctx, b.where())
				if err != nil {
					t.Fatal(err)
				}
				var x ranOn
				if err := st.QueryRowContext(ctx).Scan(&x.replica, &x.port); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				return append(s, x)
			}, []ranOn{onReplica, onReplica, onReplica}},
			{"Transact read-only: replica", func(t *testing.T) []ranOn {
				var s ranOn
				err := Transact(ctx, db, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx *sql.Tx) error {
					s = whereRan(t, b, tx, ctx)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return []ranOn{s}
			}, []ranOn{onReplica}},
			{"ReadReplica inside a read-write transaction: primary", func(t *testing.T) []ranOn {
				tx, err := db.BeginTx(rctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				return []ranOn{whereRan(t, b, tx, rctx)}
			}, []ranOn{onPrimary}},
			{"one sql.Conn: replica, primary, replica, primary", func(t *testing.T) []ranOn {
				c, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				return []ranOn{whereRan(t, b, c, rctx), whereRan(t, b, c, ctx), whereRan(t, b, c, rctx), whereRan(t, b, c, ctx)}
			}, []ranOn{onReplica, onPrimary, onReplica, onPrimary}},
			{"prepared under ReadReplica outside a transaction: replica", func(t *testing.T) []ranOn {
				st, err := db.PrepareContext(rctx, b.where())
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				var x ranOn
				if err := st.QueryRowContext(rctx).Scan(&x.replica, &x.port); err != nil {
					t.Fatal(err)
				}
				return []ranOn{x}
			}, []ranOn{onReplica}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := tt.run(t)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("ran on %v, want %v", got, tt.want)
				}
			})
		}
	})
}

// TestReplicaWriteRefused: a write sent to a replica, by ReadReplica or in
// a read-only transaction, fails because the server refuses it, and
// nothing is written on either server.
func TestReplicaWriteRefused(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, false, func(t *testing.T, b *replicaBackend) {
		db := openReplicaDB(t, b.url(""))
		createReplicated(t, b, db, "replicas_refused")
		ctx := t.Context()
		if _, err := db.ExecContext(ReadReplica(ctx), "INSERT INTO replicas_refused VALUES (1, 1)"); err == nil {
			t.Error("INSERT under ReadReplica succeeded")
		} else {
			t.Logf("INSERT under ReadReplica: %v", err)
		}
		err := Transact(ctx, db, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO replicas_refused VALUES (2, 2)")
			return err
		})
		if err == nil {
			t.Error("INSERT in a read-only transaction succeeded")
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM replicas_refused").Scan(&n); err != nil || n != 0 {
			t.Errorf("primary has %d rows (%v), want 0", n, err)
		}
		if err := b.rawReplica(t).QueryRow("SELECT COUNT(*) FROM replicas_refused").Scan(&n); err != nil || n != 0 {
			t.Errorf("replica has %d rows (%v), want 0", n, err)
		}
	})
}

// TestReplicaReadYourWrites runs INSERT-then-read rounds on stale
// replicas: with read_your_writes=false the read misses the row (so the
// replica served it); with read_your_writes=true 100 rounds never miss, and
// most reads are still served by the replica, having waited for it.
func TestReplicaReadYourWrites(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, true, func(t *testing.T, b *replicaBackend) {
		ctx := t.Context()
		read := func(db *sql.DB, ctx context.Context, id int) (found, replica bool) {
			t.Helper()
			var n int
			q := "SELECT COUNT(*), pg_is_in_recovery() FROM replicas_ryw WHERE id = ?"
			if b.name != "postgres" {
				q = "SELECT COUNT(*), @@read_only = 1 FROM replicas_ryw WHERE id = ?"
			}
			if err := db.QueryRowContext(ReadReplica(ctx), q, id).Scan(&n, &replica); err != nil {
				t.Fatal(err)
			}
			return n == 1, replica
		}

		off := openReplicaDB(t, b.url("read_your_writes=false"))
		createReplicated(t, b, off, "replicas_ryw")
		if _, err := off.Exec("INSERT INTO replicas_ryw VALUES (?, 0)", 0); err != nil {
			t.Fatal(err)
		}
		if found, replica := read(off, ctx, 0); found || !replica {
			t.Fatalf("read_your_writes=false: found %v on replica %v; want the stale replica to miss the row", found, replica)
		}

		reader := metric.NewManualReader()
		on := openReplicaDB(t, b.url("max_replica_wait=30s"), WithMeterProvider(metric.NewMeterProvider(metric.WithReader(reader))))
		var misses, onReplica atomic.Int64
		var wg sync.WaitGroup
		const workers, rounds = 20, 5
		for w := range workers {
			wg.Go(func() {
				for r := range rounds {
					id := 1 + w*rounds + r
					if _, err := on.ExecContext(ctx, "INSERT INTO replicas_ryw VALUES (?, ?)", id, w); err != nil {
						t.Error(err)
						return
					}
					found, replica := read(on, ctx, id)
					if !found {
						misses.Add(1)
					}
					if replica {
						onReplica.Add(1)
					}
				}
			})
		}
		wg.Wait()
		t.Logf("%d rounds: %d misses, %d served by the replica", workers*rounds, misses.Load(), onReplica.Load())
		if misses.Load() != 0 {
			t.Errorf("read_your_writes=true: %d of %d reads missed their own write", misses.Load(), workers*rounds)
		}
		if onReplica.Load() < workers*rounds/2 {
			t.Errorf("only %d of %d reads ran on the replica", onReplica.Load(), workers*rounds)
		}

		// Once the replica was seen caught up, reads wait no more.
		waits := func() uint64 {
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(ctx, &rm); err != nil {
				t.Fatal(err)
			}
			var n uint64
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "db.client.replica.wait.duration" {
						for _, p := range h.DataPoints {
							n += p.Count
						}
					}
				}
			}
			return n
		}
		if _, err := on.ExecContext(ctx, "INSERT INTO replicas_ryw VALUES (?, 0)", 1000); err != nil {
			t.Fatal(err)
		}
		if found, _ := read(on, ctx, 1000); !found {
			t.Fatal("missed row 1000")
		}
		before := waits()
		for range 20 {
			if found, replica := read(on, ctx, 1000); !found || !replica {
				t.Fatalf("found %v on replica %v", found, replica)
			}
		}
		if after := waits(); after != before {
			t.Errorf("20 reads with no write between them waited %d times", after-before)
		}
	})
}

// TestReplicaWritePosition hands a write position from one DB to another,
// as from one process to the next: the second DB, which wrote nothing
// itself, misses the row on the stale replica without the token, and sees
// it with AfterPosition.
func TestReplicaWritePosition(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, true, func(t *testing.T, b *replicaBackend) {
		ctx := t.Context()
		writer := openReplicaDB(t, b.url(""))
		createReplicated(t, b, writer, "replicas_pos")
		if tok, err := WritePosition(ctx, writer); err != nil || tok != "" {
			// The CREATE TABLE counted as a write.
			t.Logf("token after CREATE: %q %v", tok, err)
		}
		reader := openReplicaDB(t, b.url("max_replica_wait=30s"))
		count := func(ctx context.Context) int {
			var n int
			if err := reader.QueryRowContext(ReadReplica(ctx), "SELECT COUNT(*) FROM replicas_pos").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if _, err := writer.ExecContext(ctx, "INSERT INTO replicas_pos VALUES (1, 1)"); err != nil {
			t.Fatal(err)
		}
		token, err := WritePosition(ctx, writer)
		if err != nil || token == "" {
			t.Fatalf("WritePosition = %q, %v", token, err)
		}
		if n := count(ctx); n != 0 {
			t.Fatalf("without the token the stale replica shows %d rows; the test needs it stale", n)
		}
		if n := count(AfterPosition(ctx, token)); n != 1 {
			t.Errorf("with AfterPosition(%q): %d rows, want 1", token, n)
		}
		var pe *badPositionError
		if _, err := reader.QueryContext(AfterPosition(ReadReplica(ctx), "garbage!"), "SELECT 1"); !errors.As(err, &pe) {
			t.Errorf("a bad token: %v, want the error saying so", err)
		}
	})
}

// TestReplicaObservability: spans and log records of a replica call name
// the replica's address and say it is a replica.
func TestReplicaObservability(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, false, func(t *testing.T, b *replicaBackend) {
		var mu sync.Mutex
		var seen []string
		db := openReplicaDB(t, b.url(""), WithMiddleware(middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
			err := next(ctx, c)
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s %s:%d replica=%v", c.Op, c.DB.Address, c.DB.Port, c.DB.Replica))
			mu.Unlock()
			return err
		})))
		var x int
		if err := db.QueryRowContext(ReadReplica(t.Context()), "SELECT 1").Scan(&x); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(t.Context(), "SELECT 1").Scan(&x); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		all := strings.Join(seen, "\n")
		for _, want := range []string{
			fmt.Sprintf("connect 127.0.0.1:%d replica=true", b.replicaPort),
			fmt.Sprintf("query 127.0.0.1:%d replica=true", b.replicaPort),
			fmt.Sprintf("query 127.0.0.1:%d replica=false", b.primaryPort),
		} {
			if !strings.Contains(all, want) {
				t.Errorf("middleware saw\n%s\nwith no %q", all, want)
			}
		}
	})
}

// TestReplicaMaxLag: a replica further behind than max_replica_lag is
// skipped, and with replica_fallback=error the error says why; once it has
// caught up (and its lag is read again) it serves reads again.
func TestReplicaMaxLag(t *testing.T) {
	t.Parallel()
	forEachReplicaBackend(t, true, func(t *testing.T, b *replicaBackend) {
		ctx := t.Context()
		setup := openReplicaDB(t, b.url(""))
		createReplicated(t, b, setup, "replicas_lag")
		reader := metric.NewManualReader()
		db := openReplicaDB(t, b.url("max_replica_lag=100ms&read_your_writes=false&replica_fallback=error"),
			WithMeterProvider(metric.NewMeterProvider(metric.WithReader(reader))))
		if b.setDelay != nil {
			// MariaDB's lag is whole seconds since the event's timestamp:
			// a delay of 1 s keeps it at 0 most of the time; 3 s shows 1–2.
			if err := b.setDelay(3 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
		// A trickle of writes keeps the stale replica behind.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				setup.Exec("INSERT INTO replicas_lag VALUES (?, 0)", i)
			}
		})
		time.Sleep(1500 * time.Millisecond)
		// MariaDB reports the lag in whole seconds, read once a second: try
		// for up to drillBound (a loaded machine slows the writes that keep
		// it behind); the loop ends at the first read refused.
		var err error
		for end := time.Now().Add(drillBound); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			var rows *sql.Rows
			if rows, err = db.QueryContext(ReadReplica(ctx), "SELECT 1"); err == nil {
				rows.Close()
				continue
			}
			break
		}
		close(stop)
		wg.Wait()
		if err == nil {
			sc, _ := db.Conn(ctx)
			sc.Raw(func(dc any) error {
				for _, r := range dc.(interface{ self() *conn }).self().connector.replicas.list {
					lag, known := r.health.lastLag()
					t.Logf("replica %s: lag %v (known %v)", r.addr, lag, known)
				}
				return nil
			})
			sc.Close()
		}
		if !errors.Is(err, ErrNoReplica) || !strings.Contains(fmtErr(err), "exceeds max_replica_lag 100ms") {
			t.Fatalf("read of a lagging replica: %v; want ErrNoReplica saying its lag exceeds max_replica_lag", err)
		}
		t.Logf("lagging: %v", err)
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx, &rm); err != nil {
			t.Fatal(err)
		}
		var lag float64
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if g, ok := m.Data.(metricdata.Gauge[float64]); ok && m.Name == "db.client.replica.lag" {
					for _, p := range g.DataPoints {
						lag = p.Value
					}
				}
			}
		}
		if lag <= 0.1 {
			t.Errorf("db.client.replica.lag = %v s, want the lag that made the replica skipped", lag)
		}
		deadline := time.Now().Add(drillBound)
		for {
			var s ranOn
			err := db.QueryRowContext(ReadReplica(ctx), b.where()).Scan(&s.replica, &s.port)
			if err == nil && s.replica {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica not used %v after writes stopped: %v", drillBound, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
