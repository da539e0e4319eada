package databases_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/go-sql-driver/mysql"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// benchRows is the size of the table point queries pick from.
const benchRows = 1000

// benchTarget is one backend the point-SELECT benchmarks run on.
type benchTarget struct {
	name      string
	rawDriver string // database/sql name of the real driver
	rawDSN    string
	url       string // the same database as a databases URL
	native    string // the placeholder the raw driver takes
}

func benchTargets(b *testing.B) []benchTarget {
	path := filepath.Join(b.TempDir(), "bench.db")
	targets := []benchTarget{{
		name:      "sqlite",
		rawDriver: "sqlite",
		rawDSN:    "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)",
		url:       "sqlite:///" + path,
		native:    "?",
	}}
	if url := os.Getenv("DATABASES_TEST_POSTGRES_URL"); url != "" {
		targets = append(targets, benchTarget{name: "postgres", rawDriver: "pgx", rawDSN: url, url: url, native: "$1"})
	}
	if url := os.Getenv("DATABASES_TEST_MYSQL_URL"); url != "" {
		targets = append(targets, benchTarget{name: "mysql", rawDriver: "mysql", rawDSN: mysqlDSN(b, url), url: url, native: "?"})
	}
	return targets
}

// mysqlDSN turns a mysql:// URL of the test setup (user, host, port,
// database, parseTime) into go-sql-driver's DSN, for the raw side.
func mysqlDSN(b *testing.B, raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = u.Query().Get("parseTime") == "true"
	return cfg.FormatDSN()
}

// setup creates and fills the table the benchmarks read.
func (bt benchTarget) setup(b *testing.B) (raw *sql.DB, table string) {
	raw, err := sql.Open(bt.rawDriver, bt.rawDSN)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	table = dbtest.Name("bench")
	if _, err := raw.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Exec("DROP TABLE " + table) })
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchRows {
		if _, err := tx.Exec(fmt.Sprintf("INSERT INTO %s (id, name) VALUES (%d, 'user %d')", table, i, i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return raw, table
}

// pointSelect measures QueryRowContext + Scan of one row by primary key.
// Besides time it reports cpu-ns/op, the CPU time the whole process (every
// thread, the garbage collector's too) spent per query: against a server,
// wall time is mostly waiting, and what a wrapper adds is CPU.
func pointSelect(b *testing.B, db *sql.DB, table, param string) {
	ctx := context.Background()
	query := "SELECT name FROM " + table + " WHERE id = " + param
	var name string
	b.ReportAllocs()
	i := 0
	cpu := processCPU()
	for b.Loop() {
		if err := db.QueryRowContext(ctx, query, i%benchRows).Scan(&name); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(i), "cpu-ns/op")
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// withOption adds a query option to a URL.
func withOption(url, opt string) string {
	if strings.Contains(url, "?") {
		return url + "&" + opt
	}
	return url + "?" + opt
}

func openBench(b *testing.B, url string, opts ...databases.Option) *sql.DB {
	db, err := databases.Open(url, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkPointSelect compares a point SELECT through the raw driver and
// through databases with no middleware, on SQLite, PostgreSQL and MySQL, in
// one run: drop-in QueryRowContext + Scan with one argument, never
// prepared by the caller. "databases" sends the raw driver's native query
// and keeps its statement (stmt_cache's default); "databases-stmt_cache=0"
// turns that off; "databases-portable" writes it with ? and lets the
// rewrite make it $1. On MySQL, the "-interpolateParams" pair has
// go-sql-driver send the query as text with its arguments written in.
func BenchmarkPointSelect(b *testing.B) {
	for _, bt := range benchTargets(b) {
		b.Run(bt.name, func(b *testing.B) {
			raw, table := bt.setup(b)
			db := openBench(b, bt.url)
			b.Run("raw", func(b *testing.B) { pointSelect(b, raw, table, bt.native) })
			b.Run("databases", func(b *testing.B) { pointSelect(b, db, table, bt.native) })
			b.Run("databases-stmt_cache=0", func(b *testing.B) {
				pointSelect(b, openBench(b, withOption(bt.url, "stmt_cache=0")), table, bt.native)
			})
			if bt.native != "?" {
				b.Run("databases-portable", func(b *testing.B) { pointSelect(b, db, table, "?") })
			}
			if bt.name == "mysql" {
				// go-sql-driver writes the arguments into the query text
				// itself: no statement is prepared, and the cache is off.
				b.Run("raw-interpolateParams", func(b *testing.B) {
					cfg, err := mysql.ParseDSN(bt.rawDSN)
					if err != nil {
						b.Fatal(err)
					}
					cfg.InterpolateParams = true
					raw, err := sql.Open(bt.rawDriver, cfg.FormatDSN())
					if err != nil {
						b.Fatal(err)
					}
					defer raw.Close()
					pointSelect(b, raw, table, bt.native)
				})
				b.Run("databases-interpolateParams", func(b *testing.B) {
					pointSelect(b, openBench(b, withOption(bt.url, "interpolateParams=true")), table, bt.native)
				})
			}
		})
	}
}

// BenchmarkObservability compares, on the same point SELECT: the raw
// driver; databases with an empty middleware chain; with logging at a
// disabled level; with insights (middleware/insights); with tracing (SDK, always sample, in-memory recorder);
// otelsql wrapping the raw driver with the same SDK setup, as configured
// by default and recording the semantic-convention attributes tracing
// records (otelsql-semconv); and the raw driver inside one span of that
// SDK with tracing's attributes (spanFloor).
func BenchmarkObservability(b *testing.B) {
	newTP := func() *sdktrace.TracerProvider {
		return sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	for _, bt := range benchTargets(b) {
		b.Run(bt.name, func(b *testing.B) {
			raw, table := bt.setup(b)
			b.Run("raw", func(b *testing.B) { pointSelect(b, raw, table, bt.native) })
			b.Run("empty-chain", func(b *testing.B) {
				pointSelect(b, openBench(b, bt.url, databases.WithMiddleware()), table, bt.native)
			})
			b.Run("logging-disabled", func(b *testing.B) {
				pointSelect(b, openBench(b, bt.url, databases.WithLogger(quiet)), table, bt.native)
			})
			b.Run("insights", func(b *testing.B) {
				pointSelect(b, openBench(b, bt.url, databases.WithInsights()), table, bt.native)
			})
			b.Run("tracing", func(b *testing.B) {
				pointSelect(b, openBench(b, bt.url, databases.WithTracerProvider(newTP())), table, bt.native)
			})
			b.Run("otelsql", func(b *testing.B) {
				db, err := otelsql.Open(bt.rawDriver, bt.rawDSN, otelsql.WithTracerProvider(newTP()))
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				pointSelect(b, db, table, bt.native)
			})
			b.Run("otelsql-semconv", func(b *testing.B) {
				// otelsql recording the semantic-convention attributes
				// tracing records: the database's on every span
				// (WithAttributes has no other scope), the summary on the
				// query's; it has no db.response.returned_rows.
				common, summary := semconvAttrs(bt, table)
				rec := tracetest.NewSpanRecorder()
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(rec))
				db, err := otelsql.Open(bt.rawDriver, bt.rawDSN, otelsql.WithTracerProvider(tp),
					otelsql.WithAttributes(common...),
					otelsql.WithAttributesGetter(func(_ context.Context, m otelsql.Method, _ string, _ []driver.NamedValue) []attribute.KeyValue {
						if m == otelsql.MethodConnQuery {
							return summary
						}
						return nil
					}))
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				pointSelect(b, db, table, bt.native)
				checkQuerySpan(b, rec.Ended(), append(common, summary...))
			})
			b.Run("sdk-span", func(b *testing.B) { spanFloor(b, raw, bt, table, newTP()) })
		})
	}
}

// checkQuerySpan fails b unless one of spans, a query's (db.query.text),
// carries every attribute of want.
func checkQuerySpan(b *testing.B, spans []sdktrace.ReadOnlySpan, want []attribute.KeyValue) {
	b.Helper()
	for _, s := range spans {
		got := attribute.NewSet(s.Attributes()...)
		if _, ok := got.Value("db.query.text"); !ok {
			continue
		}
		for _, kv := range want {
			if v, ok := got.Value(kv.Key); !ok || v != kv.Value {
				b.Fatalf("span %q: %s = %v, want %v", s.Name(), kv.Key, v.String(), kv.Value.String())
			}
		}
		return
	}
	b.Fatalf("no query span among %d", len(spans))
}

// BenchmarkTxExec compares an Exec inside an open transaction, through the
// raw driver and through databases with no middleware: an UPDATE by
// primary key with two arguments, the transaction begun once and rolled
// back at the end.
func BenchmarkTxExec(b *testing.B) {
	for _, bt := range benchTargets(b) {
		b.Run(bt.name, func(b *testing.B) {
			raw, table := bt.setup(b)
			query := "UPDATE " + table + " SET name = ? WHERE id = ?"
			if bt.native == "$1" {
				query = "UPDATE " + table + " SET name = $1 WHERE id = $2"
			}
			b.Run("raw", func(b *testing.B) { txExec(b, raw, query) })
			b.Run("databases", func(b *testing.B) { txExec(b, openBench(b, bt.url), query) })
		})
	}
}

func txExec(b *testing.B, db *sql.DB, query string) {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := tx.ExecContext(ctx, query, "renamed", i%benchRows); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
