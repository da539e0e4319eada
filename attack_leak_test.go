package databases_test

// Attacks on docs/leaks.md: leak_threshold, who holds the pool, the
// insights Connections table.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// attackLeakHelper is the user's own helper between the caller and
// database/sql: opened_at must name the line in it.
func attackLeakHelper(ctx context.Context, db *sql.DB, q string) (*sql.Rows, string) {
	rows, err := db.QueryContext(ctx, q)
	at := lineAbove()
	if err != nil {
		panic(err)
	}
	return rows, at
}

// attackLeakGeneric is a generic, sqlx-like wrapper.
func attackLeakGeneric[T any](ctx context.Context, db *sql.DB, q string) (*sql.Rows, string) {
	rows, err := db.QueryContext(ctx, q)
	at := lineAbove()
	if err != nil {
		panic(err)
	}
	return rows, at
}

// leakRecords are the WARN leak records, by query summary.
func attackLeakByQuery(log *holdLog) map[string][]holdRecord {
	out := map[string][]holdRecord{}
	for _, r := range log.matching(slog.LevelWarn, "databases: leak:") {
		out[r.attrs["query"]] = append(out[r.attrs["query"]], r)
	}
	return out
}

// TestAttackLeakCallSites: leaks opened in many ways are each reported
// once, naming the first frame of the user's code.
func TestAttackLeakCallSites(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL)
		ctx := context.Background()
		want := map[string]string{} // query summary → opened_at

		// QueryRow never scanned.
		_ = db.QueryRowContext(ctx, "SELECT 1 AS unscanned")
		want["SELECT ? AS unscanned"] = lineAbove()

		// A helper of the user's.
		r1, at := attackLeakHelper(ctx, db, "SELECT 2 AS via_helper")
		_ = r1
		want["SELECT ? AS via_helper"] = at

		// A generic wrapper.
		r2, at := attackLeakGeneric[int](ctx, db, "SELECT 3 AS via_generic")
		_ = r2
		want["SELECT ? AS via_generic"] = at

		// A goroutine.
		var wg sync.WaitGroup
		var gAt string
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.QueryContext(ctx, "SELECT 4 AS in_goroutine")
			gAt = lineAbove()
			if err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		want["SELECT ? AS in_goroutine"] = gAt

		// A sql.Conn.
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.QueryContext(ctx, "SELECT 5 AS on_conn")
		want["SELECT ? AS on_conn"] = lineAbove()
		if err != nil {
			t.Fatal(err)
		}

		// A prepared statement: the line of Stmt.Query, not of Prepare.
		stmt, err := db.PrepareContext(ctx, "SELECT 6 AS prepared_stmt")
		if err != nil {
			t.Fatal(err)
		}
		_, err = stmt.QueryContext(ctx)
		want["SELECT ? AS prepared_stmt"] = lineAbove()
		if err != nil {
			t.Fatal(err)
		}

		// A statement of a sql.Conn (SQLite only: the servers cannot
		// run a second query on a connection with rows unread).
		if b.Dialect != "sqlite" {
			goto wait
		}
		{
			cstmt, err := conn.PrepareContext(ctx, "SELECT 7 AS conn_stmt")
			if err != nil {
				t.Fatal(err)
			}
			// (the Conn's connection is held by the rows above; a second
			// rows on it is allowed by database/sql)
			_, err = cstmt.QueryContext(ctx)
			want["SELECT ? AS conn_stmt"] = lineAbove()
			if err != nil {
				t.Fatal(err)
			}
		}
	wait:

		if !waitFor(testLeakThreshold+15*time.Second, func() bool { return len(attackLeakByQuery(log)) >= len(want) }) {
			t.Errorf("leak records %v; want one for each of %v", attackLeakByQuery(log), want)
		}
		time.Sleep(testLeakThreshold) // no second report
		got := attackLeakByQuery(log)
		for q, at := range want {
			rs := got[q]
			if len(rs) != 1 {
				t.Errorf("%q: %d records; want 1: %+v", q, len(rs), rs)
				continue
			}
			if rs[0].attrs["opened_at"] != at {
				t.Errorf("%q: opened_at %q; want %q", q, rs[0].attrs["opened_at"], at)
			}
		}
		for q, rs := range got {
			if _, ok := want[q]; !ok {
				t.Errorf("unexpected leak records for %q: %+v", q, rs)
			}
		}
	})
}

// TestAttackLeakRowsInTx: rows left open inside a transaction left open
// are reported as rows, with their line, besides the transaction.
func TestAttackLeakRowsInTx(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL)
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, nil)
		txAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		_, err = tx.QueryContext(ctx, "SELECT 1 AS rows_in_tx")
		rowsAt := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		leaks := func() []holdRecord { return log.matching(slog.LevelWarn, "databases: leak:") }
		waitFor(testLeakThreshold+15*time.Second, func() bool { return len(leaks()) >= 2 })
		time.Sleep(testLeakThreshold)
		var sawRows, sawTx bool
		for _, r := range leaks() {
			switch {
			case strings.Contains(r.msg, "rows") && r.attrs["opened_at"] == rowsAt:
				sawRows = true
			case strings.Contains(r.msg, "transaction") && r.attrs["opened_at"] == txAt:
				sawTx = true
			default:
				t.Errorf("unexpected record %+v", r)
			}
		}
		if !sawTx {
			t.Errorf("no transaction record at %s: %+v", txAt, leaks())
		}
		if !sawRows {
			t.Errorf("no rows record at %s: %+v", rowsAt, leaks())
		}
	})
}

// TestAttackLeakNotLeaks: what database/sql ends by itself is not a leak:
// rows read to the end without Close, a scanned QueryRow, rows and a
// transaction whose context was cancelled, rows left open in a Transact
// that committed or failed.
func TestAttackLeakNotLeaks(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL)
		ctx := context.Background()

		rows, err := db.QueryContext(ctx, "SELECT 1 AS read_to_end")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT 2 AS scanned").Scan(&n); err != nil {
			t.Fatal(err)
		}

		cctx, cancel := context.WithCancel(ctx)
		if _, err := db.QueryContext(cctx, "SELECT 3 AS cancelled_rows"); err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginTx(cctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(cctx, "SELECT 4 AS cancelled_tx"); err != nil {
			t.Fatal(err)
		}
		cancel()

		if err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.QueryContext(ctx, "SELECT 5 AS in_transact_committed")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_ = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.QueryContext(ctx, "SELECT 6 AS in_transact_failed"); err != nil {
				return err
			}
			return fmt.Errorf("fail")
		})

		time.Sleep(2*testLeakThreshold + time.Second)
		if got := log.matching(slog.LevelWarn, "databases: leak"); len(got) != 0 {
			t.Errorf("leak records for what ended: %+v", got)
		}
		if got := db.Stats().InUse; got != 0 {
			t.Errorf("in use %d; want 0", got)
		}
	})
}

// TestAttackLeakThresholdValues: bad values are errors naming the option;
// a tiny threshold works without a panic.
func TestAttackLeakThresholdValues(t *testing.T) {
	t.Parallel()
	url := "sqlite:///:memory:"
	for _, v := range []string{"-1s", "abc", "1", "10x"} {
		db, err := databases.Open(url + "?leak_threshold=" + v)
		if err == nil {
			db.Close()
			t.Errorf("leak_threshold=%s: no error", v)
		} else if !strings.Contains(err.Error(), "leak_threshold") {
			t.Errorf("leak_threshold=%s: error %q does not name the option", v, err)
		}
	}
	for _, v := range []string{"0", "off"} {
		db, err := databases.Open(url + "?leak_threshold=" + v)
		if err != nil {
			t.Errorf("leak_threshold=%s: %v", v, err)
			continue
		}
		db.Close()
	}
	if db, err := databases.Open(url, databases.WithLeakThreshold(-time.Second)); err == nil {
		rows, err := db.Query("SELECT 1")
		if err == nil {
			time.Sleep(1500 * time.Millisecond)
			rows.Close()
		}
		db.Close()
	}
	for _, tiny := range []string{"1ns", "3ns", "1us"} {
		log := &holdLog{}
		db, err := databases.Open(url+"?leak_threshold="+tiny, databases.WithLogger(slog.New(log)))
		if err != nil {
			t.Errorf("leak_threshold=%s: %v", tiny, err)
			continue
		}
		rows, err := db.Query("SELECT 1 AS tiny")
		if err != nil {
			t.Fatal(err)
		}
		if !waitFor(10*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "databases: leak:")) == 1 }) {
			t.Errorf("leak_threshold=%s: %d leak records; want 1", tiny, len(log.matching(slog.LevelWarn, "databases: leak:")))
		}
		rows.Close()
		db.Close()
	}
	for _, tiny := range []time.Duration{time.Nanosecond, 3} {
		log := &holdLog{}
		db, err := databases.Open(url, databases.WithLeakThreshold(tiny), databases.WithLogger(slog.New(log)))
		if err != nil {
			t.Errorf("WithLeakThreshold(%v): %v", tiny, err)
			continue
		}
		rows, err := db.Query("SELECT 1 AS tiny")
		if err != nil {
			t.Fatal(err)
		}
		if !waitFor(10*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "databases: leak:")) == 1 }) {
			t.Errorf("WithLeakThreshold(%v): %d leak records; want 1", tiny, len(log.matching(slog.LevelWarn, "databases: leak:")))
		}
		rows.Close()
		db.Close()
	}
}

// TestAttackLeakMany: 1000 rows left open in one transaction: one record
// each and one for the transaction, no more.
func TestAttackLeakMany(t *testing.T) {
	t.Parallel()
	db, log := openLeaky(t, "sqlite:///:memory:")
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const n = 1000
	for i := 0; i < n; i++ {
		if _, err := tx.QueryContext(ctx, "SELECT 1 AS many"); err != nil {
			t.Fatal(err)
		}
	}
	leaks := func() []holdRecord { return log.matching(slog.LevelWarn, "databases: leak:") }
	if !waitFor(testLeakThreshold+20*time.Second, func() bool { return len(leaks()) >= n+1 }) {
		t.Fatalf("%d records; want %d", len(leaks()), n+1)
	}
	time.Sleep(2 * testLeakThreshold)
	if got := len(leaks()); got != n+1 {
		t.Errorf("%d records; want %d", got, n+1)
	}
}

// TestAttackLeakClose: closing the DB with leaks open: no panic, no
// goroutine left once the leaks end, no report after Close. It is not
// parallel: it counts the process's goroutines.
func TestAttackLeakClose(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		base := runtime.NumGoroutine()
		log := &holdLog{}
		db, err := databases.Open(withURLOption(b.URL, "leak_threshold=1s"), databases.WithLogger(slog.New(log)))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT 1 AS open_at_close")
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		tx.Rollback()
		time.Sleep(2*testLeakThreshold + time.Second)
		if got := log.matching(slog.LevelWarn, "databases: leak"); len(got) != 0 {
			t.Errorf("records after Close: %+v", got)
		}
		if !waitFor(10*time.Second, func() bool { return runtime.NumGoroutine() <= base }) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines after Close; %d before Open:\n%s", runtime.NumGoroutine(), base, buf)
		}
	})
}

// TestAttackLeakSecrets: no password, literal or argument value in any
// record, in the pool-ran-dry record, or on the insights page; query text
// is escaped on the page.
func TestAttackLeakSecrets(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		url := b.URL
		if b.Dialect == "postgres" {
			url = strings.Replace(url, "postgres@", "postgres:S3cretPW%2F@", 1)
		}
		log := &holdLog{}
		u := withURLOption(url, "leak_threshold=1s")
		u = withURLOption(u, "max_open_conns=2")
		u = withURLOption(u, "insights=on")
		db, err := databases.Open(u, databases.WithLogger(slog.New(log)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT 'hunter2lit' AS a, ? AS b /* <script>alert(1)</script> */", "argsecret42")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SELECT 'txlit77' AS \"<script>x</script>\", ?", "txarg88"); err != nil {
			t.Fatal(err)
		}
		// A third caller waits: the pool ran dry.
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, _ = db.ExecContext(wctx, "SELECT 1")
		cancel()

		waitFor(testLeakThreshold+15*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "databases: leak:")) >= 2 })
		if len(log.matching(slog.LevelWarn, "pool ran dry")) == 0 {
			t.Errorf("no pool-ran-dry record")
		}
		var texts []string
		log.mu.Lock()
		for _, r := range log.records {
			if strings.HasPrefix(r.msg, "db ") {
				// The per-call log writes a query with
				// placeholders as written (middleware/logging,
				// Redaction): only passwords and argument values
				// must stay out of it.
				texts = append(texts, strings.ReplaceAll(strings.ReplaceAll(fmt.Sprint(r.msg, r.attrs), "hunter2lit", ""), "txlit77", ""))
				continue
			}
			texts = append(texts, fmt.Sprint(r.msg, r.attrs))
			if testing.Verbose() {
				t.Logf("record %v %s %v", r.level, r.msg, r.attrs)
			}
		}
		log.mu.Unlock()
		for _, format := range []string{"/", "/?format=json"} {
			rec := httptest.NewRecorder()
			databases.Insights(db).Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", format, nil))
			body := rec.Body.String()
			texts = append(texts, body)
			if strings.Contains(body, "<script>") {
				t.Errorf("page %s has a raw <script>", format)
			}
		}
		for _, s := range texts {
			for _, secret := range []string{"S3cretPW", "hunter2lit", "argsecret42", "txlit77", "txarg88"} {
				if strings.Contains(s, secret) {
					t.Errorf("%q shown: %.600s", secret, s)
				}
			}
		}
	})
}

// TestAttackLeakForceRollback: under force_rollback and with stmt_cache=0
// the leaks are reported with the caller's line.
func TestAttackLeakForceRollback(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, opt := range []string{"force_rollback=true", "stmt_cache=0"} {
			if opt == "stmt_cache=0" && b.Dialect == "postgres" {
				continue
			}
			t.Run(opt, func(t *testing.T) {
				db, log := openLeaky(t, b.URL, opt)
				ctx := context.Background()
				rows, err := db.QueryContext(ctx, "SELECT 1 AS fr_rows")
				rowsAt := lineAbove()
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				stmt, err := db.PrepareContext(ctx, "SELECT 2 AS fr_stmt")
				if err != nil {
					t.Fatal(err)
				}
				srows, err := stmt.QueryContext(ctx)
				stmtAt := lineAbove()
				if err != nil {
					t.Fatal(err)
				}
				defer srows.Close()
				want := map[string]string{"SELECT ? AS fr_rows": rowsAt, "SELECT ? AS fr_stmt": stmtAt}
				if opt == "force_rollback=true" {
					// force_rollback shares one connection: a
					// transaction waits for the rows, so end them
					// first.
					rows.Close()
					srows.Close()
					want = map[string]string{}
					tx, err := db.BeginTx(ctx, nil)
					txAt := lineAbove()
					if err != nil {
						t.Fatal(err)
					}
					defer tx.Rollback()
					if _, err := tx.ExecContext(ctx, "SELECT 3 AS fr_tx"); err != nil {
						t.Fatal(err)
					}
					want["SELECT ? AS fr_tx"] = txAt
				}
				waitFor(testLeakThreshold+15*time.Second, func() bool { return len(attackLeakByQuery(log)) >= len(want) })
				got := attackLeakByQuery(log)
				for q, at := range want {
					if rs := got[q]; len(rs) != 1 || rs[0].attrs["opened_at"] != at {
						t.Errorf("%q: records %+v; want one at %s", q, rs, at)
					}
				}
			})
		}
	})
}

// TestAttackLeakBoundary: rows closed around the threshold: every
// "leak ended" record follows a leak record of the same rows, and a
// transaction's record names its last query.
func TestAttackLeakBoundary(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL)
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows, err := db.QueryContext(ctx, "SELECT 1 AS boundary")
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(testLeakThreshold - 20*time.Millisecond + time.Duration(i)*10*time.Millisecond)
				rows.Close()
			}()
		}
		// (after the rows: a SQLite :memory: writer blocks new readers)
		wg.Wait()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SELECT 1 AS first_in_tx"); err != nil {
			t.Fatal(err)
		}
		r, err := tx.QueryContext(ctx, "SELECT 2 AS last_in_tx")
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		time.Sleep(2 * testLeakThreshold)
		warn := 0
		for _, r := range log.matching(slog.LevelWarn, "databases: leak:") {
			if strings.Contains(r.msg, "transaction") {
				if r.attrs["query"] != "SELECT ? AS last_in_tx" {
					t.Errorf("transaction record query %q; want its last query", r.attrs["query"])
				}
				continue
			}
			warn++
		}
		ended := len(log.matching(slog.LevelInfo, "leak ended"))
		if ended != warn {
			t.Errorf("%d rows reported, %d reported ended; want the same", warn, ended)
		}
	})
}

// TestAttackLeakPoolDryOnce: callers waiting again and again for a pool
// held by leaks give at most one pool-ran-dry record per threshold, and
// one held by an Exec in progress is counted, not listed.
func TestAttackLeakPoolDryOnce(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL, "max_open_conns=1")
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT 1 AS holds_all")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for time.Since(start) < 2*testLeakThreshold {
			wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, _ = db.ExecContext(wctx, "SELECT 2")
			cancel()
		}
		rows.Close()
		elapsed := time.Since(start)
		got := log.matching(slog.LevelWarn, "pool ran dry")
		if max := int(elapsed/testLeakThreshold) + 1; len(got) == 0 || len(got) > max {
			t.Errorf("%d pool-ran-dry records in %v; want 1 to %d", len(got), elapsed, max)
		}
	})
}

// TestAttackLeakURLWins: the URL option wins over WithLeakThreshold, off
// included.
func TestAttackLeakURLWins(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url  string
		code time.Duration
		want int
	}{
		{"sqlite:///:memory:?leak_threshold=off", time.Second, 0},
		{"sqlite:///:memory:?leak_threshold=0", 500 * time.Millisecond, 0},
		{"sqlite:///:memory:?leak_threshold=1s", time.Hour, 1},
	} {
		t.Run(c.url, func(t *testing.T) {
			t.Parallel()
			log := &holdLog{}
			db, err := databases.Open(c.url, databases.WithLeakThreshold(c.code), databases.WithLogger(slog.New(log)))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query("SELECT 1 AS url_wins")
			if err != nil {
				t.Fatal(err)
			}
			waitFor(3*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "databases: leak:")) > 0 })
			if got := len(log.matching(slog.LevelWarn, "databases: leak:")); got != c.want {
				t.Errorf("%s with WithLeakThreshold(%v): %d records; want %d", c.url, c.code, got, c.want)
			}
			rows.Close()
			db.Close()
		})
	}
}

// TestAttackLeakNoCallSitesWithoutThreshold: with insights on and
// leak_threshold off, the Connections table lists the holders without
// where they were opened.
func TestAttackLeakNoCallSitesWithoutThreshold(t *testing.T) {
	db, err := databases.Open("sqlite:///:memory:?insights=on")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT 1 AS no_site")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	p, ok := databases.Insights(db).Pool()
	if !ok || len(p.Connections) != 1 {
		t.Fatalf("pool %+v, %v; want one connection", p, ok)
	}
	if s := fmt.Sprintf("%+v", p.Connections[0]); strings.Contains(s, "attack_leak_test.go") {
		t.Errorf("call site captured with leak_threshold off: %s", s)
	}
	for _, f := range []string{"/", "/?format=json"} {
		rec := httptest.NewRecorder()
		databases.Insights(db).Handler().ServeHTTP(rec, httptest.NewRequest("GET", f, nil))
		if !strings.Contains(rec.Body.String(), "no_site") {
			t.Errorf("page %s does not show the held query", f)
		}
	}
}

// TestAttackLeakEndedByCancel: a reported transaction and rows that
// database/sql ends when their context is cancelled are reported ended.
func TestAttackLeakEndedByCancel(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if _, err := db.QueryContext(ctx, "SELECT 1 AS cancel_rows"); err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "SELECT 2 AS cancel_tx"); err != nil {
			t.Fatal(err)
		}
		if !waitFor(testLeakThreshold+15*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "databases: leak:")) == 2 }) {
			t.Fatalf("leak records %+v; want 2", log.matching(slog.LevelWarn, "databases: leak:"))
		}
		cancel()
		if !waitFor(10*time.Second, func() bool { return len(log.matching(slog.LevelInfo, "leak ended")) == 2 }) {
			t.Errorf("ended records %+v; want 2", log.matching(slog.LevelInfo, "leak ended"))
		}
		if !waitFor(10*time.Second, func() bool { return db.Stats().InUse == 0 }) {
			t.Errorf("in use %d; want 0", db.Stats().InUse)
		}
	})
}

// TestAttackLeakPoolDryConn: a pool held by a sql.Conn without rows and
// by rows: the record lists the rows and counts the Conn.
func TestAttackLeakPoolDryConn(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, log := openLeaky(t, b.URL, "max_open_conns=2")
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rows, err := db.QueryContext(ctx, "SELECT 1 AS beside_conn")
		at := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, _ = db.ExecContext(wctx, "SELECT 2")
		cancel()
		if !waitFor(testLeakThreshold+15*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "pool ran dry")) > 0 }) {
			t.Fatal("no pool-ran-dry record")
		}
		r := log.matching(slog.LevelWarn, "pool ran dry")[0]
		if r.attrs["in_use_without_rows_or_tx"] != "1" {
			t.Errorf("in_use_without_rows_or_tx %q; want 1: %+v", r.attrs["in_use_without_rows_or_tx"], r)
		}
		found := false
		for k, v := range r.attrs {
			if strings.HasSuffix(k, ".opened_at") {
				if v != at {
					t.Errorf("%s = %q; want %q", k, v, at)
				}
				found = true
			}
		}
		if !found {
			t.Errorf("the rows are not listed: %+v", r)
		}
	})
}

var (
	attackLeakRegister sync.Once
	attackLeakRegLog   = &holdLog{}
)

// TestAttackLeakRegisteredURLWins: under a name from Register with
// WithLeakThreshold, sql.Open's URL turns the option off, and without the
// URL option the registered threshold reports with the caller's line.
func TestAttackLeakRegisteredURLWins(t *testing.T) {
	t.Parallel()
	attackLeakRegister.Do(func() {
		databases.Register("databases-attack-leak", databases.WithLeakThreshold(time.Second), databases.WithLogger(slog.New(attackLeakRegLog)))
	})
	log := attackLeakRegLog
	for _, c := range []struct {
		url  string
		want int
	}{{"sqlite:///:memory:?leak_threshold=off", 0}, {"sqlite:///:memory:", 1}} {
		log.mu.Lock()
		log.records = nil
		log.mu.Unlock()
		db, err := sql.Open("databases-attack-leak", c.url)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("SELECT 1 AS registered")
		at := lineAbove()
		if err != nil {
			t.Fatal(err)
		}
		waitFor(3*time.Second, func() bool { return len(log.matching(slog.LevelWarn, "databases: leak:")) > 0 })
		got := log.matching(slog.LevelWarn, "databases: leak:")
		if len(got) != c.want {
			t.Errorf("%s: %d records; want %d", c.url, len(got), c.want)
		} else if c.want == 1 && got[0].attrs["opened_at"] != at {
			t.Errorf("%s: opened_at %q; want %q", c.url, got[0].attrs["opened_at"], at)
		}
		rows.Close()
		db.Close()
	}
}
