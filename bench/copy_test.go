package bench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/go-databases/databases"
)

// copyN is the rows of each load.
const copyN = 100_000

// copyBatch is the rows of one multi-row VALUES of the raw paths.
const copyBatch = 500

var copyCols = []string{"id", "name", "score", "at"}

// copyData is the rows every load writes: (int, text, float, timestamp).
var copyData = func() [][]any {
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rows := make([][]any, copyN)
	for i := range rows {
		rows[i] = []any{int64(i), fmt.Sprintf("name %d", i), float64(i) * 1.5, base.Add(time.Duration(i) * time.Millisecond)}
	}
	return rows
}()

// copyBackend is one server the loads run against.
type copyBackend struct {
	name   string
	url    string // for databases.Open
	driver string // the raw driver's name for sql.Open
	dsn    string // and its DSN
	ddl    string
}

func copyBackends(b *testing.B) []copyBackend {
	dir := b.TempDir()
	out := []copyBackend{{
		name: "sqlite", url: "sqlite:///" + filepath.Join(dir, "copy.db"), driver: "sqlite", dsn: filepath.Join(dir, "copy.db"),
		ddl: "CREATE TABLE %s (id INTEGER PRIMARY KEY, name TEXT, score REAL, at TIMESTAMP)",
	}}
	if u := os.Getenv("DATABASES_TEST_POSTGRES_URL"); u != "" {
		out = append(out, copyBackend{name: "postgres", url: u, driver: "pgx", dsn: u,
			ddl: "CREATE TABLE %s (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, at TIMESTAMPTZ)"})
	}
	if u := os.Getenv("DATABASES_TEST_MYSQL_URL"); u != "" {
		p, err := url.Parse(u)
		if err != nil {
			b.Fatal(err)
		}
		dsn := p.User.String() + "@tcp(" + p.Host + ")" + p.Path + "?parseTime=true"
		out = append(out, copyBackend{name: "mysql", url: u, driver: "mysql", dsn: dsn,
			ddl: "CREATE TABLE %s (id BIGINT PRIMARY KEY, name VARCHAR(64), score DOUBLE, at DATETIME(6)) DEFAULT CHARSET=utf8mb4"})
	}
	return out
}

// BenchmarkCopy loads 100 000 rows of (int, text, float, timestamp) by
// every path, paired in one run: databases' CopyFrom and its prepared COPY
// statement (lib/pq's convention) beside pgx's native CopyFrom and
// SendBatch on PostgreSQL, and on every backend the raw driver's
// multi-row VALUES of 500 rows in one transaction (Exec per batch, and one
// statement prepared for all batches) and one Exec per row in one
// transaction. ns/row is the wall time per row, cpu-ns/row this process's
// CPU (user + system) per row.
func BenchmarkCopy(b *testing.B) {
	for _, be := range copyBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			db, err := databases.Open(be.url)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			raw, err := sql.Open(be.driver, be.dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			table := fmt.Sprintf("bench_copy_%d", os.Getpid())
			db.Exec("DROP TABLE IF EXISTS " + table)
			if _, err := db.Exec(fmt.Sprintf(be.ddl, table)); err != nil {
				b.Fatal(err)
			}
			defer db.Exec("DROP TABLE " + table)
			run := func(name string, load func(ctx context.Context) (int64, error)) {
				b.Run(name, func(b *testing.B) { measureCopy(b, db, table, load) })
			}
			ctx := context.Background()
			if be.name == "postgres" {
				pc, err := pgx.Connect(ctx, be.url)
				if err != nil {
					b.Fatal(err)
				}
				defer pc.Close(ctx)
				run("pgx.CopyFrom", func(ctx context.Context) (int64, error) {
					return pc.CopyFrom(ctx, pgx.Identifier{table}, copyCols, pgx.CopyFromRows(copyData))
				})
			}
			run("databases.CopyFrom", func(ctx context.Context) (int64, error) {
				return databases.CopyFrom(ctx, db, table, copyCols, databases.CopyRows(copyData))
			})
			run("databases.PreparedCOPY", func(ctx context.Context) (int64, error) {
				return preparedCopy(ctx, db, table)
			})
			if be.name == "postgres" {
				pc, err := pgx.Connect(ctx, be.url)
				if err != nil {
					b.Fatal(err)
				}
				defer pc.Close(ctx)
				run("pgx.SendBatch", func(ctx context.Context) (int64, error) {
					return sendBatch(ctx, pc, table)
				})
			}
			run("raw.VALUES500", func(ctx context.Context) (int64, error) {
				return rawValues(ctx, raw, be.name, table, false)
			})
			run("raw.VALUES500prepared", func(ctx context.Context) (int64, error) {
				return rawValues(ctx, raw, be.name, table, true)
			})
			if be.name == "mysql" {
				run("raw.LOADDATA", func(ctx context.Context) (int64, error) {
					return loadData(ctx, raw, table)
				})
			}
			run("raw.ExecPerRow", func(ctx context.Context) (int64, error) {
				return rawPerRow(ctx, raw, be.name, table)
			})
		})
	}
}

// measureCopy runs load b.N times on an empty table, timing the loads
// only, and reports wall and CPU time per row.
func measureCopy(b *testing.B, db *sql.DB, table string, load func(context.Context) (int64, error)) {
	ctx := context.Background()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := db.Exec("DELETE FROM " + table); err != nil {
			b.Fatal(err)
		}
		before := cpuTime()
		b.StartTimer()
		n, err := load(ctx)
		b.StopTimer()
		cpu += cpuTime() - before
		if err != nil {
			b.Fatal(err)
		}
		if n != copyN {
			b.Fatalf("loaded %d rows, want %d", n, copyN)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*copyN), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*copyN), "cpu-ns/row")
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// preparedCopy is lib/pq's convention: Exec per row, Exec() to flush.
func preparedCopy(ctx context.Context, db *sql.DB, table string) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, "COPY "+table+" (id, name, score, at) FROM STDIN")
	if err != nil {
		return 0, err
	}
	for _, r := range copyData {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return 0, err
		}
	}
	res, err := st.ExecContext(ctx)
	if err != nil {
		return 0, err
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sendBatch queues one INSERT per row in one pgx batch, in one transaction.
func sendBatch(ctx context.Context, pc *pgx.Conn, table string) (int64, error) {
	tx, err := pc.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var batch pgx.Batch
	q := "INSERT INTO " + table + " (id, name, score, at) VALUES ($1, $2, $3, $4)"
	for _, r := range copyData {
		batch.Queue(q, r...)
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return 0, err
	}
	return copyN, tx.Commit(ctx)
}

// values writes an INSERT of rows rows in the dialect's placeholders.
func values(dialect, table string, rows int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + " (id, name, score, at) VALUES ")
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		if dialect == "postgres" {
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d)", 4*i+1, 4*i+2, 4*i+3, 4*i+4)
		} else {
			sb.WriteString("(?,?,?,?)")
		}
	}
	return sb.String()
}

// rawValues is the best hand-written path: multi-row VALUES of copyBatch
// rows in one transaction, through the raw driver; with prepared, one
// statement prepared for every batch.
func rawValues(ctx context.Context, raw *sql.DB, dialect, table string, prepared bool) (int64, error) {
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	q := values(dialect, table, copyBatch)
	var st *sql.Stmt
	if prepared {
		if st, err = tx.PrepareContext(ctx, q); err != nil {
			return 0, err
		}
		defer st.Close()
	}
	args := make([]any, 0, 4*copyBatch)
	for i := 0; i < copyN; i += copyBatch {
		args = args[:0]
		for _, r := range copyData[i : i+copyBatch] {
			args = append(args, r...)
		}
		if prepared {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return 0, err
		}
	}
	return copyN, tx.Commit()
}

// rawPerRow is one Exec per row in one transaction, through the raw driver.
func rawPerRow(ctx context.Context, raw *sql.DB, dialect, table string) (int64, error) {
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	q := values(dialect, table, 1)
	for _, r := range copyData {
		if _, err := tx.ExecContext(ctx, q, r...); err != nil {
			return 0, err
		}
	}
	return copyN, tx.Commit()
}

// loadData is MySQL's LOAD DATA LOCAL INFILE, the rows written as
// tab-separated text and streamed from memory through go-sql-driver's
// reader handler, in one transaction.
func loadData(ctx context.Context, raw *sql.DB, table string) (int64, error) {
	var buf bytes.Buffer
	for _, r := range copyData {
		buf.WriteString(strconv.FormatInt(r[0].(int64), 10))
		buf.WriteByte('\t')
		buf.WriteString(r[1].(string)) // no tab, newline or backslash to escape
		buf.WriteByte('\t')
		buf.WriteString(strconv.FormatFloat(r[2].(float64), 'g', -1, 64))
		buf.WriteByte('\t')
		buf.WriteString(r[3].(time.Time).Format("2006-01-02 15:04:05.999999"))
		buf.WriteByte('\n')
	}
	mysql.RegisterReaderHandler("bench_copy", func() io.Reader { return &buf })
	defer mysql.DeregisterReaderHandler("bench_copy")
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "LOAD DATA LOCAL INFILE 'Reader::bench_copy' INTO TABLE "+table+" CHARACTER SET utf8mb4 (id, name, score, at)")
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// BenchmarkCopyPaired interleaves databases' CopyFrom with the best raw
// path of each backend (pgx native CopyFrom on PostgreSQL, multi-row VALUES
// of 500 prepared once in one transaction elsewhere), alternating which
// goes first, so that a server whose speed drifts during the run (a shared
// machine) weighs on both alike. It reports each one's wall and CPU time
// per row, and the ratios.
func BenchmarkCopyPaired(b *testing.B) {
	for _, be := range copyBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := databases.Open(be.url)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			raw, err := sql.Open(be.driver, be.dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			table := fmt.Sprintf("bench_copy_%d", os.Getpid())
			db.Exec("DROP TABLE IF EXISTS " + table)
			if _, err := db.Exec(fmt.Sprintf(be.ddl, table)); err != nil {
				b.Fatal(err)
			}
			defer db.Exec("DROP TABLE " + table)
			best := func(ctx context.Context) (int64, error) { return rawValues(ctx, raw, be.name, table, true) }
			if be.name == "postgres" {
				pc, err := pgx.Connect(ctx, be.url)
				if err != nil {
					b.Fatal(err)
				}
				defer pc.Close(ctx)
				best = func(ctx context.Context) (int64, error) {
					return pc.CopyFrom(ctx, pgx.Identifier{table}, copyCols, pgx.CopyFromRows(copyData))
				}
			}
			paths := []func(context.Context) (int64, error){
				func(ctx context.Context) (int64, error) {
					return databases.CopyFrom(ctx, db, table, copyCols, databases.CopyRows(copyData))
				},
				best,
			}
			var wall, cpu [2]time.Duration
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				for k := range 2 {
					p := (i + k) % 2
					if _, err := db.Exec("DELETE FROM " + table); err != nil {
						b.Fatal(err)
					}
					c0, w0 := cpuTime(), time.Now()
					n, err := paths[p](ctx)
					wall[p] += time.Since(w0)
					cpu[p] += cpuTime() - c0
					if err != nil || n != copyN {
						b.Fatalf("path %d: %d rows, %v", p, n, err)
					}
				}
			}
			rows := float64(b.N * copyN)
			b.ReportMetric(float64(wall[0].Nanoseconds())/rows, "databases-ns/row")
			b.ReportMetric(float64(wall[1].Nanoseconds())/rows, "best-raw-ns/row")
			b.ReportMetric(float64(wall[0])/float64(wall[1]), "wall-ratio")
			b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "cpu-ratio")
		})
	}
}
