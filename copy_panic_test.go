package databases_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

// copyBoom is what the sources of TestCopyFromSourcePanics panic with: a
// pointer, so that the value recovered can be told to be the same one.
type copyBoom struct{ where string }

// panicSource yields ids 0..n-1 and panics in Next or Values at row at, or
// in Err once the rows are read.
type panicSource struct {
	in    string // "next", "values" or "err"
	at, n int
	i     int
	boom  *copyBoom
}

func (s *panicSource) Next() bool {
	s.i++
	if s.in == "next" && s.i == s.at {
		panic(s.boom)
	}
	return s.i < s.n
}

func (s *panicSource) Values() ([]any, error) {
	if s.in == "values" && s.i == s.at {
		panic(s.boom)
	}
	return []any{int64(s.i)}, nil
}

func (s *panicSource) Err() error {
	if s.in == "err" {
		panic(s.boom)
	}
	return nil
}

// panicValuer is a driver.Valuer that panics.
type panicValuer struct{ boom *copyBoom }

func (v panicValuer) Value() (driver.Value, error) { panic(v.boom) }

// TestCopyFromSourcePanics: a source that panics (an iterator, Next,
// Values, Err) makes CopyFrom panic with the same value on the caller's
// goroutine, after the load is rolled back and its connection given back:
// through a *sql.DB of one connection, a *sql.Conn, a *sql.Tx (which stays
// usable, except on PostgreSQL, where a failed statement aborts it), under
// middleware (which sees the load fail) and under force_rollback, the next
// load works and nothing of the panicking one is kept. A driver.Valuer that
// panics is caught the same way on MySQL and SQLite. The rows go past the
// first batch (MySQL, SQLite) and the first buffer pgx sends.
func TestCopyFromSourcePanics(t *testing.T) {
	t.Parallel()
	const n, at = 20000, 10000
	sources := map[string]func(boom *copyBoom) databases.CopySource{
		"iterator": func(boom *copyBoom) databases.CopySource {
			return databases.CopySeq(func(yield func([]any) bool) {
				for i := range n {
					if i == at {
						panic(boom)
					}
					if !yield([]any{int64(i)}) {
						return
					}
				}
			})
		},
		"next": func(boom *copyBoom) databases.CopySource {
			return &panicSource{in: "next", at: at, n: n, i: -1, boom: boom}
		},
		"values": func(boom *copyBoom) databases.CopySource {
			return &panicSource{in: "values", at: at, n: n, i: -1, boom: boom}
		},
		"err": func(boom *copyBoom) databases.CopySource { return &panicSource{in: "err", n: n, i: -1, boom: boom} },
		"valuer": func(boom *copyBoom) databases.CopySource {
			return databases.CopySeq(func(yield func([]any) bool) {
				for i := range n {
					var v any = int64(i)
					if i == at {
						v = panicValuer{boom}
					}
					if !yield([]any{v}) {
						return
					}
				}
			})
		},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, door := range []string{"db", "conn", "tx", "middleware", "force_rollback"} {
			for _, name := range []string{"iterator", "next", "values", "err", "valuer"} {
				t.Run(door+"/"+name, func(t *testing.T) {
					if name == "valuer" && b.Dialect == "postgres" {
						t.Skip("known: a driver.Valuer that panics ends the process on PostgreSQL (pgx calls it on its own goroutine)")
					}
					var mu sync.Mutex
					var copyErrs []error
					rec := middleware.Func(func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
						err := next(ctx, c)
						if c.Op == middleware.OpCopy {
							mu.Lock()
							copyErrs = append(copyErrs, err)
							mu.Unlock()
						}
						return err
					})
					var db *sql.DB
					var table string
					switch door {
					case "force_rollback":
						e := newFREnv(t, b)
						db, table = e.open(t), e.table
					default:
						db = openCopyDB(t, b, databases.WithMiddleware(rec))
						table = createTable(t, db, "cpanic", "id BIGINT PRIMARY KEY")
					}
					db.SetMaxOpenConns(1) // a connection not given back stops the next load
					ctx := context.Background()
					boom := &copyBoom{where: door + "/" + name}
					within(t, 60*time.Second, func() error {
						var q any = db
						var conn *sql.Conn
						var tx *sql.Tx
						var err error
						switch door {
						case "conn":
							if conn, err = db.Conn(ctx); err != nil {
								return err
							}
							defer conn.Close()
							q = conn
						case "tx":
							if tx, err = db.Begin(); err != nil {
								return err
							}
							defer tx.Rollback()
							q = tx
						}
						got, loaded, err := copyCatch(func() (int64, error) {
							return databases.CopyFrom(ctx, q, table, []string{"id"}, sources[name](boom))
						})
						if got != any(boom) {
							return fmt.Errorf("CopyFrom returned %d, %v and panicked with %v; want a panic with %v", loaded, err, got, boom)
						}
						one := databases.CopyRows([][]any{{int64(n + 7)}})
						switch {
						case conn != nil:
							if _, err := databases.CopyFrom(ctx, conn, table, []string{"id"}, one); err != nil {
								return fmt.Errorf("the next load on the *sql.Conn: %w", err)
							}
							if err := conn.Close(); err != nil {
								return err
							}
						case tx != nil && b.Dialect == "postgres":
							if err := tx.Rollback(); err != nil {
								return fmt.Errorf("Rollback: %w", err)
							}
							if _, err := databases.CopyFrom(ctx, db, table, []string{"id"}, one); err != nil {
								return fmt.Errorf("the next load: %w", err)
							}
						case tx != nil:
							if _, err := databases.CopyFrom(ctx, tx, table, []string{"id"}, one); err != nil {
								return fmt.Errorf("the next load in the transaction: %w", err)
							}
							if err := tx.Commit(); err != nil {
								return fmt.Errorf("Commit: %w", err)
							}
						default:
							if _, err := databases.CopyFrom(ctx, db, table, []string{"id"}, one); err != nil {
								return fmt.Errorf("the next load: %w", err)
							}
						}
						var c, maxID int64
						if err := db.QueryRow("SELECT COUNT(*), MAX(id) FROM "+table).Scan(&c, &maxID); err != nil {
							return err
						}
						if c != 1 || maxID != n+7 {
							return fmt.Errorf("%d rows up to id %d; want only the next load's row", c, maxID)
						}
						return nil
					})
					if door == "middleware" {
						mu.Lock()
						defer mu.Unlock()
						if len(copyErrs) != 2 || copyErrs[0] == nil || !strings.Contains(copyErrs[0].Error(), "panic") || copyErrs[1] != nil {
							t.Fatalf("the middleware saw the loads end with %v; want a panic's error, then nil", copyErrs)
						}
					}
				})
			}
		}
	})
}

// copyCatch runs load and returns what it panicked with, if it did, or its
// results.
func copyCatch(load func() (int64, error)) (panicked any, n int64, err error) {
	defer func() { panicked = recover() }()
	n, err = load()
	return nil, n, err
}

// within runs f and fails t with its error, or when it has not returned
// after d (a deadlock, a connection never given back).
func within(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
	}
}
