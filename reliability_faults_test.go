package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/pgtemp"
)

// withQuery returns u with the query options opts added.
func withQuery(u string, opts ...string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + strings.Join(opts, "&")
}

// drillBound bounds how long a drill waits for what must happen (a count
// of events, a condition): generous, so that a loaded machine slows a
// drill rather than failing it. A drill that works stops waiting as soon
// as the condition holds.
const drillBound = 90 * time.Second

// eventually polls f every 20 ms for up to d and reports whether it held.
func eventually(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Transfer workload: accounts with a starting balance, a ledger row per
// transfer. A transfer moves money between two accounts and records itself
// in the ledger, all in one Transact.
const (
	transferAccounts = 20
	transferStart    = 1000
)

type transferTables struct{ accounts, ledger string }

func createTransferTables(t *testing.T, db *sql.DB, dialect string) transferTables {
	t.Helper()
	ctx := context.Background()
	tt := transferTables{accounts: dbtest.Name("rel_acct"), ledger: dbtest.Name("rel_ledger")}
	serial := "SERIAL PRIMARY KEY"
	if dialect == "mysql" {
		serial = "INT AUTO_INCREMENT PRIMARY KEY"
	}
	for _, q := range []string{
		"CREATE TABLE " + tt.accounts + " (id INT PRIMARY KEY, balance INT NOT NULL)",
		"CREATE TABLE " + tt.ledger + " (id " + serial + ", src INT NOT NULL, dst INT NOT NULL, amount INT NOT NULL)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= transferAccounts; i++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO "+tt.accounts+" (id, balance) VALUES (?, ?)", i, transferStart); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		db.ExecContext(context.Background(), "DROP TABLE "+tt.accounts)
		db.ExecContext(context.Background(), "DROP TABLE "+tt.ledger)
	})
	return tt
}

// transfer runs one transfer of amount from src to dst.
func (tt transferTables) transfer(ctx context.Context, db *sql.DB, src, dst, amount int) error {
	return Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
		// Lock in id order, so transfers do not deadlock one another.
		first, second := src, dst
		if first > second {
			first, second = second, first
		}
		for _, id := range []int{first, second} {
			delta := amount
			if id == src {
				delta = -amount
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+tt.accounts+" SET balance = balance + ? WHERE id = ?", delta, id); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+tt.ledger+" (src, dst, amount) VALUES (?, ?, ?)", src, dst, amount)
		return err
	})
}

// transferStats counts what a workload saw.
type transferStats struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       map[string]int // error kind -> count
	samples    map[string]string
}

func (s *transferStats) fail(kind string, err error) {
	s.failed.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errs == nil {
		s.errs, s.samples = map[string]int{}, map[string]string{}
	}
	s.errs[kind]++
	if _, ok := s.samples[kind]; !ok {
		s.samples[kind] = err.Error()
	}
}

// runTransfers runs transfers from workers goroutines until stop is closed.
// classify names the kind of an error, or returns "" for an error the test
// does not expect, which fails it.
func runTransfers(t *testing.T, db *sql.DB, tt transferTables, workers int, stop <-chan struct{}, classify func(error) string) (*transferStats, func()) {
	t.Helper()
	st := &transferStats{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				src := rand.IntN(transferAccounts) + 1
				dst := rand.IntN(transferAccounts-1) + 1
				if dst >= src {
					dst++
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := tt.transfer(ctx, db, src, dst, rand.IntN(50)+1)
				cancel()
				if err == nil {
					st.ok.Add(1)
					continue
				}
				kind := classify(err)
				if kind == "" {
					t.Errorf("unexpected error from a transfer: %v (%T)", err, err)
					kind = "unexpected"
				}
				st.fail(kind, err)
			}
		})
	}
	return st, wg.Wait
}

// checkTransfers checks that every transfer was applied whole or not at
// all: the money is conserved, each balance is what the ledger says, and the
// ledger holds every acknowledged transfer and at most the ones whose
// outcome was an error (a connection lost during COMMIT leaves the outcome
// unknown to the client).
func checkTransfers(t *testing.T, db *sql.DB, tt transferTables, st *transferStats) int64 {
	t.Helper()
	ctx := context.Background()
	var sum int64
	if err := db.QueryRowContext(ctx, "SELECT SUM(balance) FROM "+tt.accounts).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != transferAccounts*transferStart {
		t.Errorf("sum of balances = %d, want %d: a transfer was applied in part", sum, transferAccounts*transferStart)
	}
	rows, err := db.QueryContext(ctx, "SELECT a.id, a.balance, "+
		"COALESCE((SELECT SUM(amount) FROM "+tt.ledger+" l WHERE l.dst = a.id), 0) - "+
		"COALESCE((SELECT SUM(amount) FROM "+tt.ledger+" l WHERE l.src = a.id), 0) FROM "+tt.accounts+" a")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, balance, net int64
		if err := rows.Scan(&id, &balance, &net); err != nil {
			t.Fatal(err)
		}
		if balance != transferStart+net {
			t.Errorf("account %d: balance %d, ledger says %d", id, balance, transferStart+net)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tt.ledger).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ok, failed := st.ok.Load(), st.failed.Load(); n < ok || n > ok+failed {
		t.Errorf("ledger has %d transfers; %d were acknowledged and %d failed", n, ok, failed)
	}
	return n
}

// checkPool checks that the pool serves queries again and holds no
// connection after them.
func checkPool(t *testing.T, db *sql.DB) {
	t.Helper()
	for i := range 20 {
		var one int
		if err := db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
			t.Fatalf("query %d on the recovered pool: %v", i, err)
		}
	}
	// database/sql counts a connection it is opening for a waiting caller as
	// open from the moment it asks for it (the opener goroutine dials while
	// the caller waits), so a connection asked for during the last kill
	// round is "in use" until its dial ends, well after the workload. A
	// leaked connection stays in use; one being opened lands in the idle
	// list within the bound.
	var s sql.DBStats
	if !eventually(drillBound, func() bool { s = db.Stats(); return s.InUse == 0 }) {
		t.Errorf("%d connections still in use after %v: %+v", s.InUse, drillBound, s)
	}
}

// classifyPostgres names the errors a pgx connection gives when its backend
// is terminated: the server's FATAL 57P01 (admin_shutdown) when the
// connection was reading, driver.ErrBadConn from pgx when it already knew
// the connection was closed. Nothing else is expected.
func classifyPostgres(err error) string {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "57P01":
		return "PgError 57P01 admin_shutdown"
	case errors.Is(err, driver.ErrBadConn):
		return "driver.ErrBadConn"
	}
	return ""
}

// TestFaultPostgresTerminateBackends terminates every backend of a pool
// (found by its own application_name) again and again while 16 goroutines
// run transfers through Transact.
func TestFaultPostgresTerminateBackends(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	app := dbtest.Name("rel_terminate")
	db, err := Open(withQuery(b.URL, "application_name="+app, "max_open_conns=8"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin, err := Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	tt := createTransferTables(t, admin, "postgres")

	killDuringTransfers(t, admin, db, tt, classifyPostgres, func() int {
		var n int
		err := admin.QueryRowContext(context.Background(),
			"SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()) k WHERE killed", app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}, "backends terminated", "PgError 57P01 admin_shutdown")
}

// classifyMySQL names the errors go-sql-driver gives when its connection is
// killed on the server: mysql.ErrInvalidConn when the connection broke
// under a call, driver.ErrBadConn when the driver knew it before sending.
// Nothing else is expected.
func classifyMySQL(err error) string {
	switch {
	case errors.Is(err, mysql.ErrInvalidConn):
		return "mysql.ErrInvalidConn"
	case errors.Is(err, driver.ErrBadConn):
		return "driver.ErrBadConn"
	}
	return ""
}

// quietMySQL silences go-sql-driver's log of broken packets for the test:
// the test provokes them on purpose.
func quietMySQL(t *testing.T) {
	mysql.SetLogger(log.New(io.Discard, "", 0))
	t.Cleanup(func() { mysql.SetLogger(log.New(os.Stderr, "[mysql] ", log.Ldate|log.Ltime|log.Lshortfile)) })
}

// TestFaultMySQLKillConnection kills every connection of a pool with KILL
// CONNECTION while 16 goroutines run transfers through Transact. The pool
// uses a database of its own, and only connections in that database are
// killed, so no other connection of the server is touched.
func TestFaultMySQLKillConnection(t *testing.T) {
	b := dbtest.Backends()[2]
	b.Require(t)
	quietMySQL(t)
	admin, err := Open(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	schema := dbtest.Name("rel_kill")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+schema); err != nil {
		t.Fatal(err)
	}
	defer admin.ExecContext(ctx, "DROP DATABASE "+schema)
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + schema
	db, err := Open(withQuery(u.String(), "max_open_conns=8"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tt := createTransferTables(t, db, "mysql")

	killDuringTransfers(t, db, db, tt, classifyMySQL, func() int {
		rows, err := admin.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", schema)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		n := 0
		for _, id := range ids {
			_, err := admin.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10))
			var myErr *mysql.MySQLError
			if errors.As(err, &myErr) && myErr.Number == 1094 { // gone already
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}, "connections killed", "mysql.ErrInvalidConn")
}

// killDuringTransfers runs 16 transfer workers on db and calls kill, which
// kills connections and returns how many, every 100 ms for 1.5 s (0.6 s with
// -short), and on until the fault was exercised (a kill, and a call that
// saw wantErr) or drillBound passed. It then lets the workers run on until
// 16 more transfers were acknowledged (or drillBound passed), stops them,
// checks the ledger and the pool, and that the fault was exercised and
// recovered from. Counts, not times, end each phase, so that a loaded
// machine slows the drill rather than failing it.
func killDuringTransfers(t *testing.T, ledger, db *sql.DB, tt transferTables, classify func(error) string, kill func() int, what, wantErr string) {
	t.Helper()
	stop := make(chan struct{})
	st, wait := runTransfers(t, db, tt, 16, stop, classify)
	killing := 1500 * time.Millisecond
	if testing.Short() {
		killing = 600 * time.Millisecond
	}
	var kills, rounds int
	exercised := func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return kills > 0 && st.errs[wantErr] > 0
	}
	for start := time.Now(); time.Since(start) < killing || !exercised() && time.Since(start) < drillBound; {
		time.Sleep(100 * time.Millisecond)
		n := kill()
		kills += n
		if n > 0 {
			rounds++
		}
	}

	okAtLastKill := st.ok.Load()
	eventually(drillBound, func() bool { return st.ok.Load()-okAtLastKill >= 16 })
	close(stop)
	wait()

	n := checkTransfers(t, ledger, tt, st)
	checkPool(t, db)
	after := st.ok.Load() - okAtLastKill
	t.Logf("%d transfers acknowledged (%d after the last kill), %d failed %v, %d in the ledger; %d %s in %d rounds",
		st.ok.Load(), after, st.failed.Load(), st.errs, n, kills, what, rounds)
	for kind, msg := range st.samples {
		t.Logf("  %s: %s", kind, msg)
	}
	if st.errs[wantErr] == 0 {
		t.Errorf("no call saw %s", wantErr)
	}
	if kills == 0 || st.failed.Load() == 0 {
		t.Errorf("%d %s and %d errors seen; the fault was not exercised", kills, what, st.failed.Load())
	}
	if after < 16 {
		t.Errorf("%d transfers succeeded within %v of the last kill; want 16: the pool did not recover", after, drillBound)
	}
}

// TestFaultContextDeadline cancels a long query by a 200 ms deadline: the
// call returns well before the query would end (10 s, generous for a loaded
// machine; the queries run 30 s or for ever) with an error errors.Is finds
// context.DeadlineExceeded in, and the pool's one connection is either
// reused in working order or replaced.
func TestFaultContextDeadline(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		marker := dbtest.Name("rel_deadline")
		query := map[string]string{
			"postgres": "SELECT pg_sleep(30) /* " + marker + " */",
			"mysql":    "SELECT SLEEP(30) /* " + marker + " */",
			"sqlite":   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c",
		}[b.Dialect]
		db, err := Open(withQuery(b.URL, "max_open_conns=1"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if b.Dialect == "mysql" {
			// go-sql-driver closes the connection on cancel; the server
			// notices only when SLEEP ends, so end it here.
			defer func() {
				admin, err := Open(b.URL)
				if err != nil {
					return
				}
				defer admin.Close()
				rows, err := admin.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()", "%"+marker+"%")
				if err != nil {
					return
				}
				var ids []int64
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					ids = append(ids, id)
				}
				rows.Close()
				for _, id := range ids {
					admin.Exec("KILL QUERY " + strconv.FormatInt(id, 10))
				}
			}()
		}
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			start := time.Now()
			var n int64
			err = db.QueryRowContext(ctx, query).Scan(&n)
			took := time.Since(start)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("round %d: err = %v (%T), want one errors.Is finds context.DeadlineExceeded in", round, err, err)
			}
			if took > 10*time.Second {
				t.Errorf("round %d: the cancelled query returned after %v", round, took)
			}
			t.Logf("round %d: returned after %v: %v", round, took.Round(time.Millisecond), err)
			checkPool(t, db)
		}
		if s := db.Stats(); s.OpenConnections > 1 {
			t.Errorf("%d connections open with max_open_conns=1", s.OpenConnections)
		}
	})
}

// TestFaultPostgresRestart stops a private PostgreSQL server under a
// running pool and starts it again: while it is down queries fail at once
// with a connection error (within 10 s, where waiting would take their 30 s
// deadline), after it is back they succeed, and closing the
// pool leaves no goroutine or connection behind.
func TestFaultPostgresRestart(t *testing.T) {
	srv := pgtemp.Start(t)
	goroutines := runtime.NumGoroutine()
	db, err := Open(withQuery(srv.URL(), "max_open_conns=4", "application_name=rel_restart"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	query := func(n int) (errs []error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				var one int
				err := db.QueryRowContext(ctx, "SELECT 1 FROM pg_sleep(0.01)").Scan(&one)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			})
		}
		wg.Wait()
		return errs
	}
	for _, err := range query(8) {
		if err != nil {
			t.Fatalf("before the restart: %v", err)
		}
	}
	if s := db.Stats(); s.OpenConnections == 0 || s.OpenConnections > 4 {
		t.Fatalf("%d connections open before the restart", s.OpenConnections)
	}

	srv.StopServer()
	start := time.Now()
	kinds := map[string]int{}
	for _, err := range query(8) {
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			t.Error("a query succeeded while the server was down")
		case errors.Is(err, syscall.ECONNREFUSED):
			kinds["connection refused"]++
			if !strings.Contains(err.Error(), "connect") {
				t.Errorf("error does not say it could not connect: %v", err)
			}
		case errors.As(err, &pgErr) && pgErr.Code == "57P01":
			kinds["PgError 57P01"]++
		default:
			t.Errorf("unexpected error while the server was down: %v (%T)", err, err)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("queries took %v to fail while the server was down", took)
	}

	srv.StartServer()
	for _, err := range query(8) {
		if err != nil {
			t.Fatalf("after the restart: %v", err)
		}
	}
	checkPool(t, db)
	s := db.Stats()
	t.Logf("while down: %v; after restart: %d open, %d in use", kinds, s.OpenConnections, s.InUse)
	if s.OpenConnections > 4 {
		t.Errorf("%d connections open with max_open_conns=4", s.OpenConnections)
	}
	db.Close()
	if s := db.Stats(); s.OpenConnections != 0 {
		t.Errorf("%d connections open after Close", s.OpenConnections)
	}
	if !eventually(drillBound, func() bool { return runtime.NumGoroutine() <= goroutines+2 }) {
		t.Errorf("goroutines: %d before opening the pool, %d after closing it", goroutines, runtime.NumGoroutine())
	}
}

// sqliteWriterEnv selects the writer mode of TestFaultSQLiteTwoProcesses in
// a child process: "path|writer|rows".
const sqliteWriterEnv = "DATABASES_RELIABILITY_SQLITE_WRITER"

// TestFaultSQLiteTwoProcesses runs two processes that write the same SQLite
// file at once, half in autocommit and half through Transact (BEGIN
// IMMEDIATE, busy timeout): every write lands.
func TestFaultSQLiteTwoProcesses(t *testing.T) {
	t.Parallel()
	if spec := os.Getenv(sqliteWriterEnv); spec != "" {
		sqliteWriter(t, spec)
		return
	}
	rowsPer := 400
	if testing.Short() {
		rowsPer = 100
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	db, err := Open("sqlite:///" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE w (writer INT NOT NULL, seq INT NOT NULL, PRIMARY KEY (writer, seq))"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for w := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultSQLiteTwoProcesses$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|%d", sqliteWriterEnv, path, w+1, rowsPer))
		wg.Go(func() { outs[w], errs[w] = cmd.CombinedOutput() })
	}
	wg.Wait()
	for w := range 2 {
		if errs[w] != nil || !strings.Contains(string(outs[w]), fmt.Sprintf("writer %d inserted %d rows", w+1, rowsPer)) {
			t.Fatalf("writer %d: %v\n%s", w+1, errs[w], outs[w])
		}
	}
	for w := 1; w <= 2; w++ {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM w WHERE writer = ?", w).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != rowsPer {
			t.Errorf("writer %d: %d rows in the file, it inserted %d", w, n, rowsPer)
		}
	}
	t.Logf("2 processes × %d rows in %v", rowsPer, time.Since(start).Round(time.Millisecond))
}

func sqliteWriter(t *testing.T, spec string) {
	parts := strings.Split(spec, "|")
	writer, _ := strconv.Atoi(parts[1])
	rows, _ := strconv.Atoi(parts[2])
	db, err := Open("sqlite:///" + parts[0] + "?txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for seq := range rows {
		const insert = "INSERT INTO w (writer, seq) VALUES (?, ?)"
		if seq%2 == 0 {
			_, err = db.ExecContext(ctx, insert, writer, seq)
		} else {
			err = Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				var n int
				if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM w WHERE writer = ?", writer).Scan(&n); err != nil {
					return err
				}
				if n != seq {
					return fmt.Errorf("writer %d sees %d of its rows before row %d", writer, n, seq)
				}
				_, err := tx.ExecContext(ctx, insert, writer, seq)
				return err
			})
		}
		if err != nil {
			t.Fatalf("writer %d row %d: %v", writer, seq, err)
		}
	}
	t.Logf("writer %d inserted %d rows", writer, rows)
}
