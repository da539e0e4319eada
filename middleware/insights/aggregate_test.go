package insights_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware/insights"
)

// want is what a test expects of one summary.
type want struct {
	calls, errors      uint64
	returned, affected int64
}

// check compares the queries of ins with wants, keyed by summary, exactly:
// no summary more or less.
func check(t *testing.T, ins *insights.Insights, wants map[string]want) {
	t.Helper()
	got := map[string]insights.Query{}
	for _, q := range ins.Queries() {
		got[q.Summary] = q
	}
	for s, w := range wants {
		q, ok := got[s]
		if !ok {
			t.Errorf("no summary %q; have %q", s, keys(got))
			continue
		}
		if q.Calls != w.calls || q.Errors != w.errors || q.RowsReturned != w.returned || q.RowsAffected != w.affected {
			t.Errorf("%q: calls %d, errors %d, returned %d, affected %d; want %d, %d, %d, %d",
				s, q.Calls, q.Errors, q.RowsReturned, q.RowsAffected, w.calls, w.errors, w.returned, w.affected)
		}
		var classes uint64
		for _, n := range q.ErrorsByClass {
			classes += n
		}
		if classes != q.Errors {
			t.Errorf("%q: errors by class %v add up to %d; want %d", s, q.ErrorsByClass, classes, q.Errors)
		}
		if q.Calls > 0 && (q.Total <= 0 || q.P50 <= 0 || q.P50 > q.P99 || q.P99 > q.Max || q.FirstSeen.After(q.LastSeen)) {
			t.Errorf("%q: latencies total %v p50 %v p99 %v max %v, seen %v..%v: not ordered", s, q.Total, q.P50, q.P99, q.Max, q.FirstSeen, q.LastSeen)
		}
	}
	for s := range got {
		if _, ok := wants[s]; !ok {
			t.Errorf("unexpected summary %q: %+v", s, got[s])
		}
	}
}

func keys(m map[string]insights.Query) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAggregation runs one workload on every backend: the calls, errors
// and rows of each summary are exactly what was run, whether through a
// connection, a prepared statement or a transaction.
func TestAggregation(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		ins := insights.New()
		db, err := databases.Open(b.URL, databases.WithMiddleware(ins))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		tbl := dbtest.Name("insights_agg")
		steps := []struct {
			name string
			run  func() error
		}{
			{"create", func() error {
				_, err := db.ExecContext(ctx, "CREATE TABLE "+tbl+" (id INTEGER PRIMARY KEY, name VARCHAR(40))")
				return err
			}},
			{"ten single inserts", func() error {
				for i := range 10 {
					if _, err := db.ExecContext(ctx, "INSERT INTO "+tbl+" (id, name) VALUES (?, ?)", i, "n"); err != nil {
						return err
					}
				}
				return nil
			}},
			{"a two-row insert, the same summary", func() error {
				_, err := db.ExecContext(ctx, "INSERT INTO "+tbl+" (id, name) VALUES (?, ?), (?, ?)", 100, "a", 101, "b")
				return err
			}},
			{"five lookups and one that finds nothing", func() error {
				var name string
				for i := range 5 {
					if err := db.QueryRowContext(ctx, "SELECT name FROM "+tbl+" WHERE id = ?", i).Scan(&name); err != nil {
						return err
					}
				}
				if err := db.QueryRowContext(ctx, "SELECT name FROM "+tbl+" WHERE id = ?", 999).Scan(&name); err != sql.ErrNoRows {
					return fmt.Errorf("lookup of 999: %v; want sql.ErrNoRows", err)
				}
				return nil
			}},
			{"a scan of every row", func() error {
				rows, err := db.QueryContext(ctx, "SELECT id FROM "+tbl+" ORDER BY id")
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			}},
			{"an update in a transaction", func() error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "UPDATE "+tbl+" SET name = ? WHERE id < ?", "x", 5); err != nil {
					tx.Rollback()
					return err
				}
				return tx.Commit()
			}},
			{"a prepared statement, three times", func() error {
				stmt, err := db.PrepareContext(ctx, "SELECT name FROM "+tbl+" WHERE id IN (?, ?, ?)")
				if err != nil {
					return err
				}
				defer stmt.Close()
				for range 3 {
					rows, err := stmt.QueryContext(ctx, 1, 2, 3)
					if err != nil {
						return err
					}
					for rows.Next() {
					}
					if err := rows.Close(); err != nil {
						return err
					}
				}
				return nil
			}},
			{"two failures", func() error {
				for range 2 {
					if _, err := db.ExecContext(ctx, "DELETE FROM "+tbl+"_missing WHERE id = ?", 1); err == nil {
						return fmt.Errorf("DELETE from a missing table succeeded")
					}
				}
				return nil
			}},
		}
		for _, s := range steps {
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		check(t, ins, map[string]want{
			"CREATE TABLE " + tbl + " (id INTEGER PRIMARY KEY, name VARCHAR(40))": {calls: 1},
			"INSERT INTO " + tbl + " (id, name) VALUES (...)":                     {calls: 11, affected: 12},
			"SELECT name FROM " + tbl + " WHERE id = ?":                           {calls: 6, returned: 5},
			"SELECT id FROM " + tbl + " ORDER BY id":                              {calls: 1, returned: 12},
			"UPDATE " + tbl + " SET name = ? WHERE id < ?":                        {calls: 1, affected: 5},
			"SELECT name FROM " + tbl + " WHERE id IN (...)":                      {calls: 3, returned: 9},
			"DELETE FROM " + tbl + "_missing WHERE id = ?":                        {calls: 2, errors: 2},
		})
		db.ExecContext(ctx, "DROP TABLE "+tbl)
	})
}

// TestConcurrentCounts: goroutines running queries at once, while the
// page is read, give counts that add up exactly (run with -race).
func TestConcurrentCounts(t *testing.T) {
	ins := insights.New()
	db, err := databases.Open("sqlite:///:memory:?max_open_conns=4", databases.WithMiddleware(ins))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	const workers, runs = 8, 100
	queries := []string{"SELECT v FROM c WHERE id = ?", "SELECT count(*) FROM c WHERE id > ?", "UPDATE c SET v = v + 1 WHERE id = ?"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // the page, read while the workload runs
		for {
			select {
			case <-stop:
				return
			default:
				readPage(t, ins, "/?format=json")
				readPage(t, ins, "/")
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range runs {
				q := queries[(w+i)%len(queries)]
				if strings.HasPrefix(q, "UPDATE") {
					if _, err := db.Exec(q, i); err != nil {
						t.Error(err)
					}
					continue
				}
				rows, err := db.Query(q, i)
				if err != nil {
					t.Error(err)
					return
				}
				for rows.Next() {
				}
				rows.Close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	var total uint64
	for _, q := range ins.Queries() {
		if q.Summary != "CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER)" {
			total += q.Calls
		}
	}
	if total != workers*runs {
		t.Fatalf("calls add up to %d; want %d: %+v", total, workers*runs, ins.Queries())
	}
	check(t, ins, map[string]want{
		"CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER)": {calls: 1},
		"SELECT v FROM c WHERE id = ?":                       {calls: 267},
		"SELECT count(*) FROM c WHERE id > ?":                {calls: 267, returned: 267},
		"UPDATE c SET v = v + ? WHERE id = ?":                {calls: 266},
	})
}
