package databases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/middleware"
)

type ctxKey struct{}

// recorder keeps a line per call it sees, after the call returns.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	err := next(ctx, c)
	tag, _ := ctx.Value(ctxKey{}).(string)
	line := fmt.Sprintf("%s tx=%v ctx=%s", c.Op, c.TxID != 0, tag)
	switch c.Op {
	case middleware.OpExec, middleware.OpStmtExec:
		line += fmt.Sprintf(" affected=%d native=%q", c.RowsAffected, c.NativeQuery)
	case middleware.OpRows:
		line += fmt.Sprintf(" returned=%d query=%q", c.RowsReturned, c.Query)
	}
	if c.StmtCache != middleware.StmtUncached && (c.Op == middleware.OpExec || c.Op == middleware.OpQuery) {
		line += " cache=" + c.StmtCache.String()
	}
	if err != nil {
		line += " err"
	}
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	return err
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := r.lines
	r.lines = nil
	return lines
}

func openWith(t *testing.T, url string, mw ...middleware.Middleware) *sql.DB {
	t.Helper()
	c, err := databases.NewConnector(url, databases.WithMiddleware(mw...))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMiddlewareSeesEveryCall checks the calls, their order, their results
// and the contexts they run with, on every dialect.
func TestMiddlewareSeesEveryCall(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		rec := &recorder{}
		db := openWith(t, b.URL, rec)
		table := dbtest.Name("mw")
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, name VARCHAR(20))"); err != nil {
			t.Fatal(err)
		}
		defer db.Exec("DROP TABLE " + table)
		rec.take()

		txCtx := context.WithValue(ctx, ctxKey{}, "begin")
		tx, err := conn.BeginTx(txCtx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, name) VALUES (?, ?), (?, ?)", 1, "a", 2, "b"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.QueryContext(context.WithValue(ctx, ctxKey{}, "query"), "SELECT id FROM "+table+" WHERE id > ?", 0)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()

		native := map[string]string{"postgres": "$1, $2), ($3, $4)"}[b.Dialect]
		if native == "" {
			native = "?, ?), (?, ?)"
		}
		// SQLite and MySQL keep the statements of queries with arguments
		// (stmt_cache): the first run of each is prepared, as an OpPrepare
		// call inside its own; pgx caches statements itself.
		prepare, miss := "", ""
		if b.Dialect != "postgres" {
			prepare, miss = "prepare tx=true ctx=begin\n", " cache=miss"
		}
		want := strings.Split(prepare+strings.Join([]string{
			fmt.Sprintf("exec tx=true ctx=begin affected=2 native=%q%s", "INSERT INTO "+table+" (id, name) VALUES ("+native, miss),
			"commit tx=true ctx=begin",
			strings.ReplaceAll(prepare, "tx=true ctx=begin", "tx=false ctx=query") + "query tx=false ctx=query" + miss,
			fmt.Sprintf("rows tx=false ctx=query returned=2 query=%q", "SELECT id FROM "+table+" WHERE id > ?"),
		}, "\n"), "\n")
		want = append([]string{"begin tx=true ctx=begin"}, want...)
		if got := rec.take(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestMiddlewareRejects checks a middleware that refuses DELETE without
// WHERE: the caller gets its error and the rows stay.
func TestMiddlewareRejects(t *testing.T) {
	errUnbounded := errors.New("DELETE without WHERE refused")
	guard := middleware.On(middleware.OpExec, func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
		q := strings.ToUpper(c.Query)
		if strings.HasPrefix(strings.TrimSpace(q), "DELETE") && !strings.Contains(q, "WHERE") {
			return errUnbounded
		}
		return next(ctx, c)
	})
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db := openWith(t, b.URL, guard)
		table := dbtest.Name("guard")
		if _, err := db.Exec("CREATE TABLE " + table + " (id INTEGER)"); err != nil {
			t.Fatal(err)
		}
		defer db.Exec("DROP TABLE " + table)
		if _, err := db.Exec("INSERT INTO "+table+" VALUES (?), (?)", 1, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("DELETE FROM " + table); !errors.Is(err, errUnbounded) {
			t.Fatalf("DELETE without WHERE: err = %v; want the guard's error", err)
		}
		if _, err := db.Exec("DELETE FROM "+table+" WHERE id = ?", 1); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
	})
}

// TestMiddlewareRetries checks a middleware that retries a call once after
// a chosen error: here a missing table, which it creates before retrying.
func TestMiddlewareRetries(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table := dbtest.Name("retry")
		var attempts int
		var setup *sql.DB
		retry := middleware.On(middleware.OpExec, func(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
			attempts++
			err := next(ctx, c)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "exist") && !strings.Contains(err.Error(), "no such table") {
				return err
			}
			if _, cerr := setup.ExecContext(ctx, "CREATE TABLE "+table+" (id INTEGER)"); cerr != nil {
				return errors.Join(err, cerr)
			}
			attempts++
			return next(ctx, c)
		})
		db := openWith(t, b.URL, retry)
		setup = db
		defer db.Exec("DROP TABLE " + table)
		if _, err := db.Exec("INSERT INTO "+table+" (id) VALUES (?)", 7); err != nil {
			t.Fatal(err)
		}
		var id int
		if err := db.QueryRow("SELECT id FROM " + table).Scan(&id); err != nil || id != 7 {
			t.Fatalf("id = %d, %v; want 7", id, err)
		}
		// The INSERT took two attempts; CREATE TABLE and the SELECT one each.
		if attempts != 3 {
			t.Fatalf("%d attempts; want 3", attempts)
		}
	})
}

// failuresOnly is a Selective middleware that wants to see failed calls
// only, and records them.
type failuresOnly struct{ recorder }

func (*failuresOnly) Interest(context.Context, middleware.Op) middleware.Interest {
	return middleware.Failures
}

// TestSelectiveFailures checks, on every dialect, that a middleware asking
// for failures sees no successful call and every failed one, with its
// error, whether it failed in the driver or before reaching it.
func TestSelectiveFailures(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		mw := &failuresOnly{}
		db := openWith(t, b.URL, mw)
		table := dbtest.Name("sel")
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		defer db.Exec("DROP TABLE " + table)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?), (?)", 1, 2); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id > ?", 0).Scan(&n); err != nil || n != 2 {
			t.Fatalf("count = %d, %v; want 2", n, err)
		}
		if got := mw.take(); len(got) != 0 {
			t.Fatalf("successful calls reached a middleware that wants failures:\n%s", strings.Join(got, "\n"))
		}

		_, errDup := db.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 1)
		_, errQuery := db.QueryContext(ctx, "SELECT nope FROM "+table)
		_, errBind := db.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (?)", 1, 2) // too many arguments
		if errDup == nil || errQuery == nil || errBind == nil {
			t.Fatalf("errors %v, %v, %v; want three failures", errDup, errQuery, errBind)
		}
		got := mw.take()
		want := []string{"exec tx=false ctx= affected=-1", "query tx=false ctx=", "exec tx=false ctx= affected=-1"}
		if b.Dialect == "sqlite" {
			// The query without arguments is one SQLite keeps prepared:
			// its prepare fails first, inside the query's call.
			want = []string{"exec tx=false ctx= affected=-1", "prepare tx=false ctx=", "query tx=false ctx=", "exec tx=false ctx= affected=-1"}
		}
		if len(got) != len(want) {
			t.Fatalf("calls seen:\n%s\nwant %d failures", strings.Join(got, "\n"), len(want))
		}
		for i, line := range got {
			if !strings.HasPrefix(line, want[i]) || !strings.HasSuffix(line, " err") {
				t.Errorf("call %d seen as %q; want %q... err", i, line, want[i])
			}
		}
	})
}

// TestMiddlewareSeesRefusedCalls checks that a call the package refuses
// before it reaches the server (the transaction rules, Transact's guard)
// is a call the middleware sees, failed, through every door: an exec, a
// Prepare, and a prepared statement's exec and query. Every call takes one
// path (call.go), so the doors agree.
func TestMiddlewareSeesRefusedCalls(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		rec := &recorder{}
		db := openWith(t, b.URL, rec)
		ctx := context.Background()
		// A statement of a connection other than the transaction's.
		other, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		st, err := other.PrepareContext(ctx, "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cases := []struct {
			name string
			call func(ctx context.Context, tx *sql.Tx) error
			want string // the middleware's line for the refused call
			is   error  // in the error's chain, when not nil
		}{
			{"exec", func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "COMMIT")
				return err
			}, "exec tx=true ctx= affected=-1 native=\"COMMIT\" err", nil},
			{"prepare", func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.PrepareContext(ctx, "COMMIT")
				return err
			}, "prepare tx=true ctx= err", nil},
			{"stmt exec", func(ctx context.Context, tx *sql.Tx) error {
				_, err := st.ExecContext(ctx)
				return err
			}, "stmt.exec tx=false ctx= affected=-1 native=\"SELECT 1\" err", databases.ErrOutsideTransaction},
			{"stmt query", func(ctx context.Context, tx *sql.Tx) error {
				rows, err := st.QueryContext(ctx)
				if err == nil {
					rows.Close()
				}
				return err
			}, "stmt.query tx=false ctx= err", databases.ErrOutsideTransaction},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				rec.take()
				var callErr error
				err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
					rec.take()
					callErr = c.call(ctx, tx)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if callErr == nil || c.is != nil && !errors.Is(callErr, c.is) {
					t.Fatalf("err = %v; want a refusal (%v)", callErr, c.is)
				}
				got := rec.take()
				found := false
				for _, l := range got {
					found = found || l == c.want
				}
				if !found {
					t.Fatalf("middleware saw:\n%s\nwant a line %q", strings.Join(got, "\n"), c.want)
				}
			})
		}
	})
}
