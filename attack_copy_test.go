package databases_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

type atkBackend struct {
	name, dialect, url string
	dbtest.Backend
}

// atkBackends: the servers of the test environment (dbtest), and SQLite
// both in a file ("" here: a file of the test's) and in memory.
func atkBackends(t *testing.T) []atkBackend {
	var out []atkBackend
	for _, b := range dbtest.Backends() {
		if b.Dialect == "sqlite" {
			out = append(out, atkBackend{"sqlite", "sqlite", "", b}, atkBackend{"sqlitemem", "sqlite", "sqlite:///:memory:", b})
			continue
		}
		out = append(out, atkBackend{b.Dialect, b.Dialect, b.URL, b})
	}
	return out
}

func atkRun(t *testing.T, f func(t *testing.T, b atkBackend, db *sql.DB)) {
	for _, b := range atkBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			b.Require(t)
			u := b.url
			if u == "" {
				u = "sqlite:///" + t.TempDir() + "/atk.db"
			}
			db, err := databases.Open(u)
			if err != nil {
				t.Fatal(err)
			}
			if b.name == "sqlitemem" {
				db.SetMaxOpenConns(1)
			}
			t.Cleanup(func() { db.Close() })
			f(t, b, db)
		})
	}
}

// q quotes an identifier for the dialect.
func atkQ(dialect, s string) string {
	if dialect == "mysql" {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func atkMust(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func atkCount(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAttackCopyQuoting: table and column names that need quoting, given
// unquoted as the promise says, load into the right table and columns.
func TestAttackCopyQuoting(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		names := []string{`my tab"le` + "`" + `]x`, "Order", "ünï ✓"}
		cols := []string{"select", `we"ird` + "`" + "]", "my col", "Ünï"}
		for _, tn := range names {
			tn := tn + dbtest.Name("")
			qt := atkQ(b.dialect, tn)
			atkMust(t, db, fmt.Sprintf("CREATE TABLE %s (%s INT, %s TEXT, %s TEXT, %s INT)", qt,
				atkQ(b.dialect, cols[0]), atkQ(b.dialect, cols[1]), atkQ(b.dialect, cols[2]), atkQ(b.dialect, cols[3])))
			t.Cleanup(func() { db.Exec("DROP TABLE " + qt) })
			// columns in another order than the table
			n, err := databases.CopyFrom(context.Background(), db, tn, []string{cols[2], cols[0], cols[3], cols[1]},
				databases.CopyRows([][]any{{"a", 1, 2, "b"}, {nil, 3, nil, "d"}}))
			if err != nil || n != 2 {
				t.Fatalf("%q: n=%d err=%v", tn, n, err)
			}
			var c0, c3 sql.NullInt64
			var c1, c2 sql.NullString
			if err := db.QueryRow(fmt.Sprintf("SELECT %s, %s, %s, %s FROM %s WHERE %s = 1", atkQ(b.dialect, cols[0]), atkQ(b.dialect, cols[1]),
				atkQ(b.dialect, cols[2]), atkQ(b.dialect, cols[3]), qt, atkQ(b.dialect, cols[0]))).Scan(&c0, &c1, &c2, &c3); err != nil {
				t.Fatal(err)
			}
			if c0.Int64 != 1 || c1.String != "b" || c2.String != "a" || c3.Int64 != 2 {
				t.Fatalf("%q: got %v %v %v %v", tn, c0, c1, c2, c3)
			}
		}
	})
}

// TestAttackCopyZeroRows: an empty source loads nothing, without error.
func TestAttackCopyZeroRows(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkz")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		n, err := databases.CopyFrom(context.Background(), db, tn, []string{"id"}, databases.CopyRows(nil))
		if err != nil || n != 0 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		tx, _ := db.Begin()
		st, err := tx.Prepare("COPY " + tn + " (id) FROM STDIN;")
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Exec()
		if err != nil {
			t.Fatal(err)
		}
		if ra, _ := res.RowsAffected(); ra != 0 {
			t.Fatalf("ra=%d", ra)
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
}

type atkSrc struct {
	i, n    int
	failAt  int
	widthAt int
	panicAt int
	err     error
}

func (s *atkSrc) Next() bool {
	if s.i == s.failAt {
		s.err = errors.New("source broke")
		return false
	}
	if s.i >= s.n {
		return false
	}
	s.i++
	return true
}
func (s *atkSrc) Values() ([]any, error) {
	r := s.i - 1
	if r == s.panicAt {
		panic("source panics")
	}
	if r == s.widthAt {
		return []any{r}, nil
	}
	return []any{r, fmt.Sprint("v", r)}, nil
}
func (s *atkSrc) Err() error { return s.err }

// TestAttackCopySourceFailures: a source that errs halfway, a row of the
// wrong width: a CopyError naming the row, nothing kept.
func TestAttackCopySourceFailures(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atks")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY, s TEXT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		for _, tc := range []struct {
			name string
			src  *atkSrc
			row  int64
		}{
			{"err", &atkSrc{n: 3000, failAt: 1500, widthAt: -1, panicAt: -1}, 1500},
			{"width", &atkSrc{n: 3000, failAt: -1, widthAt: 1234, panicAt: -1}, 1234},
			{"width0", &atkSrc{n: 3000, failAt: -1, widthAt: 0, panicAt: -1}, 0},
		} {
			_, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "s"}, tc.src)
			var ce *databases.CopyError
			if !errors.As(err, &ce) || ce.Row != tc.row {
				t.Fatalf("%s: %v, want CopyError of row %d", tc.name, err, tc.row)
			}
			if c := atkCount(t, db, tn); c != 0 {
				t.Fatalf("%s: %d rows kept", tc.name, c)
			}
		}
		// the connection pool is still usable
		if _, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "s"}, &atkSrc{n: 10, failAt: -1, widthAt: -1, panicAt: -1}); err != nil {
			t.Fatal(err)
		}
		if c := atkCount(t, db, tn); c != 10 {
			t.Fatalf("%d rows", c)
		}
	})
}

// TestAttackCopyPlaceholderEdge: many columns, so rows*cols passes the
// 65 535 placeholders (MySQL) and 32 766 variables (SQLite) of a statement.
func TestAttackCopyPlaceholderEdge(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkp")
		const ncol = 70
		var defs, cols []string
		for i := range ncol {
			defs = append(defs, fmt.Sprintf("c%d INT", i))
			cols = append(cols, fmt.Sprintf("c%d", i))
		}
		atkMust(t, db, "CREATE TABLE "+tn+" ("+strings.Join(defs, ", ")+")")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		rows := make([][]any, 2100)
		for i := range rows {
			r := make([]any, ncol)
			for j := range r {
				r[j] = i
			}
			rows[i] = r
		}
		n, err := databases.CopyFrom(context.Background(), db, tn, cols, databases.CopyRows(rows))
		if err != nil || n != int64(len(rows)) {
			t.Fatalf("n=%d err=%v", n, err)
		}
		if c := atkCount(t, db, tn); c != len(rows) {
			t.Fatalf("%d rows", c)
		}
	})
}

// TestAttackCopyDuplicateLaterBatch: a duplicate key in a later batch is
// named by its index in the source, nothing kept.
func TestAttackCopyDuplicateLaterBatch(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkd")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY, s TEXT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		rows := make([][]any, 2500)
		for i := range rows {
			rows[i] = []any{i, "x"}
		}
		rows[2345][0] = 17
		_, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "s"}, databases.CopyRows(rows))
		var ce *databases.CopyError
		if !errors.As(err, &ce) || ce.Row != 2345 {
			t.Fatalf("%v, want CopyError of row 2345", err)
		}
		if c := atkCount(t, db, tn); c != 0 {
			t.Fatalf("%d rows kept", c)
		}
	})
}

// TestAttackCopyTxSavepoint: a failed load in a Tx keeps the tx's earlier
// writes and leaves it usable (MySQL, SQLite).
func TestAttackCopyTxSavepoint(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		if b.dialect == "postgres" {
			t.Skip("PG fails the transaction, as promised")
		}
		tn := dbtest.Name("atkt")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY, s TEXT NOT NULL)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO "+tn+" VALUES (?, ?)", -1, "before"); err != nil {
			t.Fatal(err)
		}
		if _, err := databases.CopyFrom(context.Background(), tx, tn, []string{"id", "s"}, databases.CopyRows([][]any{{1, "a"}, {2, nil}})); err == nil {
			t.Fatal("no error")
		}
		if _, err := databases.CopyFrom(context.Background(), tx, tn, []string{"id", "s"}, databases.CopyRows([][]any{{1, "a"}, {2, "b"}})); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if c := atkCount(t, db, tn); c != 3 {
			t.Fatalf("%d rows, want 3", c)
		}
	})
}

// TestAttackCopyCancelledBefore: a context cancelled before the call.
func TestAttackCopyCancelledBefore(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkc")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY, s TEXT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := databases.CopyFrom(ctx, db, tn, []string{"id", "s"}, databases.CopyRows([][]any{{1, "a"}}))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%v", err)
		}
		if c := atkCount(t, db, tn); c != 0 {
			t.Fatalf("%d rows", c)
		}
		// cancelled midway by the source
		ctx, cancel = context.WithCancel(context.Background())
		src := func(yield func([]any) bool) {
			for i := range 3000 {
				if i == 1500 {
					cancel()
				}
				if !yield([]any{i, "x"}) {
					return
				}
			}
		}
		_, err = databases.CopyFrom(ctx, db, tn, []string{"id", "s"}, databases.CopySeq(src))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("mid: %v", err)
		}
		if c := atkCount(t, db, tn); c != 0 {
			t.Fatalf("mid: %d rows", c)
		}
		if _, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "s"}, databases.CopyRows([][]any{{1, "a"}})); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAttackCopyReadReplica: refused under ReadReplica on every DB.
func TestAttackCopyReadReplica(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkr")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		_, err := databases.CopyFrom(databases.ReadReplica(context.Background()), db, tn, []string{"id"}, databases.CopyRows([][]any{{1}}))
		if err == nil {
			t.Fatal("not refused")
		}
		if c := atkCount(t, db, tn); c != 0 {
			t.Fatalf("%d rows", c)
		}
	})
}

// TestAttackCopyUint64Max: uint64 max into BIGINT UNSIGNED on MySQL, as
// the raw driver's Exec accepts it.
func TestAttackCopyUint64Max(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		if b.dialect != "mysql" {
			t.Skip()
		}
		tn := dbtest.Name("atku")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT, u BIGINT UNSIGNED)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		atkMust(t, db, "INSERT INTO "+tn+" VALUES (?, ?)", 0, uint64(math.MaxUint64))
		if _, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "u"}, databases.CopyRows([][]any{{1, uint64(math.MaxUint64)}})); err != nil {
			t.Fatal(err)
		}
		var a, c uint64
		db.QueryRow("SELECT u FROM " + tn + " WHERE id = 0").Scan(&a)
		db.QueryRow("SELECT u FROM " + tn + " WHERE id = 1").Scan(&c)
		if a != c {
			t.Fatalf("%d vs %d", a, c)
		}
	})
}

// atkOpen opens b with extra URL options.
func atkOpen(t *testing.T, b atkBackend, opts string) *sql.DB {
	t.Helper()
	b.Require(t)
	u := b.url
	if u == "" {
		u = "sqlite:///" + t.TempDir() + "/atk.db"
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	db, err := databases.Open(u + sep + opts)
	if err != nil {
		t.Fatal(err)
	}
	if b.name == "sqlitemem" {
		db.SetMaxOpenConns(1)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestAttackCopyStmtForms: the forms of the COPY statement the promise
// lists work; options after STDIN are refused at Prepare or Exec, naming
// the offset; nothing reaches the server at Prepare.
func TestAttackCopyStmtForms(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkf")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT, s TEXT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		good := []string{
			"COPY " + tn + " (id, s) FROM STDIN",
			"COPY " + tn + " (id, s) FROM STDIN;",
			"copy " + tn + " (s, id) from stdin ;",
			"COPY\n\t" + tn + "\n(\"id\",`s`)\nFROM\nSTDIN",
		}
		if b.dialect != "mysql" { // bare names fold (PG), or are case-blind (SQLite)
			good = append(good, "COPY "+strings.ToUpper(tn)+" (ID, S) FROM STDIN")
		}
		for i, q := range good {
			conn, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			st, err := conn.PrepareContext(context.Background(), q)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			a, c := any(i), any("x")
			if strings.Contains(q, "(s, id)") {
				a, c = c, a
			}
			if _, err := st.Exec(a, c); err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			res, err := st.Exec()
			if err != nil {
				t.Fatalf("%q flush: %v", q, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%q: %d", q, n)
			}
			st.Close()
			conn.Close()
		}
		if c := atkCount(t, db, tn); c != len(good) {
			t.Fatalf("%d rows, want %d", c, len(good))
		}
		bad := []string{
			"COPY " + tn + " (id, s) FROM STDIN WITH (FORMAT csv)",
			"COPY " + tn + " (id, s) FROM STDIN -- trailing",
			"COPY " + tn + " (id, s) FROM STDIN; DELETE FROM " + tn,
			"COPY " + tn + " FROM STDIN",
			"COPY " + tn + " (id, s) TO STDOUT",
		}
		for _, q := range bad {
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			st, err := tx.Prepare(q)
			if err == nil {
				_, err = st.Exec(1, "y")
				if err == nil {
					_, err = st.Exec()
				}
				st.Close()
			}
			tx.Rollback()
			if err == nil {
				t.Errorf("%q: accepted", q)
			}
		}
		if c := atkCount(t, db, tn); c != len(good) {
			t.Fatalf("%d rows after bad forms, want %d", c, len(good))
		}
	})
}

// TestAttackCopyStmtArity: an Exec with the wrong number of arguments is
// refused (or named at the flush), not loaded short.
func TestAttackCopyStmtArity(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atka")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT, s TEXT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		tx, _ := db.Begin()
		defer tx.Rollback()
		st, err := tx.Prepare("COPY " + tn + " (id, s) FROM STDIN")
		if err != nil {
			t.Fatal(err)
		}
		st.Exec(0, "a")
		_, err1 := st.Exec(1)
		_, err2 := st.Exec(1, "b", "c")
		_, errf := st.Exec()
		if err1 == nil && err2 == nil && errf == nil {
			t.Fatal("wrong widths accepted")
		}
		var n int
		tx.QueryRow("SELECT COUNT(*) FROM " + tn).Scan(&n)
		if errf == nil && n != 1 {
			t.Fatalf("%d rows after flush", n)
		}
	})
}

// TestAttackCopyOptions: stmt_cache=0, log=debug, force_rollback.
func TestAttackCopyOptions(t *testing.T) {
	for _, b := range atkBackends(t) {
		for _, opts := range []string{"stmt_cache=0", "log=debug", "force_rollback=true"} {
			t.Run(b.name+"/"+opts, func(t *testing.T) {
				if b.name == "sqlitemem" && opts == "stmt_cache=0" {
					// fine too
				}
				setup := atkOpen(t, b, "")
				tn := dbtest.Name("atko")
				var db *sql.DB
				if b.dialect == "sqlite" {
					db = atkOpen(t, b, opts)
					atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY, s TEXT NOT NULL)")
				} else {
					atkMust(t, setup, "CREATE TABLE "+tn+" (id INT PRIMARY KEY, s TEXT NOT NULL)")
					t.Cleanup(func() { setup.Exec("DROP TABLE " + tn) })
					db = atkOpen(t, b, opts)
				}
				_ = setup
				ctx := context.Background()
				if _, err := databases.CopyFrom(ctx, db, tn, []string{"id", "s"}, databases.CopyRows([][]any{{1, "a"}, {2, nil}})); err == nil {
					t.Fatal("NOT NULL accepted")
				}
				n, err := databases.CopyFrom(ctx, db, tn, []string{"id", "s"}, databases.CopyRows([][]any{{1, "a"}, {2, "b"}}))
				if err != nil || n != 2 {
					t.Fatalf("n=%d %v", n, err)
				}
				for range 3 {
					tx, err := db.Begin()
					if err != nil {
						t.Fatal(err)
					}
					st, err := tx.Prepare("COPY " + tn + " (id, s) FROM STDIN")
					if err != nil {
						t.Fatal(err)
					}
					st.Exec(1, "dup")
					if _, err := st.Exec(); err == nil {
						t.Fatal("dup accepted")
					}
					st.Close()
					tx.Rollback()
				}
				if c := atkCount(t, db, tn); c != 2 {
					t.Fatalf("%d rows", c)
				}
			})
		}
	}
}

// TestAttackCopyHugeValue: a value beyond max_allowed_packet on MySQL goes
// as long data; NaN and zoned times as Exec would write them.
func TestAttackCopyValues(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkv")
		ddl := "CREATE TABLE " + tn + " (id INT, f DOUBLE PRECISION, b %s, at %s)"
		switch b.dialect {
		case "postgres":
			ddl = fmt.Sprintf(ddl, "BYTEA", "TIMESTAMPTZ")
		case "mysql":
			ddl = fmt.Sprintf(ddl, "LONGBLOB", "DATETIME(6)")
		default:
			ddl = fmt.Sprintf(ddl, "BLOB", "TIMESTAMP")
		}
		atkMust(t, db, ddl)
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		zone := timeFixedZone()
		ph := "?, ?, ?, ?"
		if b.dialect == "postgres" {
			ph = "$1, $2, $3, $4"
		}
		row := []any{0, 1.5, []byte("a\x00b"), zone}
		if _, err := db.Exec("INSERT INTO "+tn+" VALUES ("+ph+")", row...); err != nil {
			t.Fatal(err)
		}
		row[0] = 1
		if _, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "f", "b", "at"}, databases.CopyRows([][]any{row})); err != nil {
			t.Fatal(err)
		}
		var got [2][3]string
		for i := range 2 {
			if err := db.QueryRow(fmt.Sprintf("SELECT CAST(f AS CHAR(30)), HEX(b), CAST(at AS CHAR(40)) FROM %s WHERE id = %d", tn, i)).Scan(&got[i][0], &got[i][1], &got[i][2]); err != nil {
				if b.dialect == "postgres" {
					if err := db.QueryRow(fmt.Sprintf("SELECT f::text, encode(b,'hex'), at::text FROM %s WHERE id = %d", tn, i)).Scan(&got[i][0], &got[i][1], &got[i][2]); err != nil {
						t.Fatal(err)
					}
				} else {
					t.Fatal(err)
				}
			}
		}
		if got[0] != got[1] {
			t.Fatalf("Exec wrote %q, CopyFrom %q", got[0], got[1])
		}
		if b.dialect == "mysql" {
			// each value fits max_allowed_packet (16 MiB here), the batch does not;
			// the raw driver inserts them one by one.
			huge := make([]byte, 6<<20)
			for i := range huge {
				huge[i] = byte(i)
			}
			if _, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "b"}, databases.CopyRows([][]any{{2, huge}, {3, huge}, {4, huge}, {5, []byte("x")}})); err != nil {
				t.Fatal(err)
			}
			var l int
			db.QueryRow("SELECT SUM(LENGTH(b)) FROM " + tn + " WHERE id IN (2, 3, 4)").Scan(&l)
			if l != 3*len(huge) {
				t.Fatalf("huge: %d bytes", l)
			}
		}
	})
}

func timeFixedZone() time.Time {
	return time.Date(2024, 2, 29, 23, 30, 0, 123456000, time.FixedZone("X", 5*3600+45*60))
}

// TestAttackCopyLogNamesTable: the logging middleware's `db copy` line of
// a CopyFrom shows the COPY statement with its table and columns on every
// backend (on MySQL a "double-quoted" name is a string literal to the
// redactor, which turned CopyFrom's statement into `COPY ? (?, ?)`).
func TestAttackCopyLogNamesTable(t *testing.T) {
	for _, b := range atkBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			b.Require(t)
			var buf syncBuffer
			u := b.url
			if u == "" {
				u = "sqlite:///" + t.TempDir() + "/atk.db"
			}
			db, err := databases.Open(u, databases.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			defer db.Close()
			tn := dbtest.Name("atkl")
			atkMust(t, db, "CREATE TABLE "+tn+" (id INT, colname INT)")
			t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
			if _, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "colname"}, databases.CopyRows([][]any{{1, 2}})); err != nil {
				t.Fatal(err)
			}
			var line string
			for _, l := range strings.Split(buf.String(), "\n") {
				if strings.Contains(l, "db copy") {
					line = l
				}
			}
			if !strings.Contains(line, tn) || !strings.Contains(line, "colname") || !strings.Contains(line, "db.rows_affected=1") {
				t.Fatalf("copy log line: %s", line)
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAttackCopyRowNaming: the server's failures in a later batch name
// the source row: a too-long value (MySQL's "at row N" counts in the
// batch), a CHECK constraint, a value that does not convert.
func TestAttackCopyRowNaming(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkn")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY, s VARCHAR(5), n INT CHECK (n >= 0))")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		mk := func(change func(r []any)) [][]any {
			rows := make([][]any, 2600)
			for i := range rows {
				rows[i] = []any{i, "ok", i}
			}
			change(rows[1234])
			return rows
		}
		cases := map[string][][]any{
			"check":   mk(func(r []any) { r[2] = -1 }),
			"convert": mk(func(r []any) { r[2] = struct{ X int }{1} }),
		}
		if b.dialect != "sqlite" { // SQLite does not enforce VARCHAR(n)
			cases["toolong"] = mk(func(r []any) { r[1] = "much too long" })
		}
		for name, rows := range cases {
			_, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "s", "n"}, databases.CopyRows(rows))
			var ce *databases.CopyError
			if !errors.As(err, &ce) || ce.Row != 1234 {
				t.Errorf("%s: %v; want a CopyError of row 1234", name, err)
			}
			if c := atkCount(t, db, tn); c != 0 {
				t.Fatalf("%s: %d rows kept", name, c)
			}
		}
	})
}

// TestAttackCopySchemaQualified: "schema.table" loads into that schema's
// table, not a same-named table on the search path.
func TestAttackCopySchemaQualified(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		var schema string
		switch b.dialect {
		case "postgres":
			schema = dbtest.Name("atksch")
			atkMust(t, db, "CREATE SCHEMA "+schema)
			t.Cleanup(func() { db.Exec("DROP SCHEMA " + schema + " CASCADE") })
		case "mysql":
			if err := db.QueryRow("SELECT DATABASE()").Scan(&schema); err != nil {
				t.Fatal(err)
			}
		default:
			schema = "main"
		}
		tn := dbtest.Name("atkq")
		atkMust(t, db, "CREATE TABLE "+schema+"."+tn+" (id INT)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + schema + "." + tn) })
		if b.dialect == "postgres" {
			atkMust(t, db, "CREATE TABLE "+tn+" (id INT)")
			t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		}
		n, err := databases.CopyFrom(context.Background(), db, schema+"."+tn, []string{"id"}, databases.CopyRows([][]any{{1}, {2}}))
		if err != nil || n != 2 {
			t.Fatalf("n=%d %v", n, err)
		}
		tx, _ := db.Begin()
		st, err := tx.Prepare("COPY " + schema + "." + tn + " (id) FROM STDIN")
		if err != nil {
			t.Fatal(err)
		}
		st.Exec(3)
		if _, err := st.Exec(); err != nil {
			t.Fatal(err)
		}
		st.Close()
		tx.Commit()
		if c := atkCount(t, db, schema+"."+tn); c != 3 {
			t.Fatalf("%d rows in the schema's table", c)
		}
	})
}

// TestAttackCopyTxRollback: a load inside a Tx is undone by Rollback and
// kept by Commit; on PostgreSQL a failed load fails the transaction.
func TestAttackCopyTxRollback(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkb")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := databases.CopyFrom(context.Background(), tx, tn, []string{"id"}, databases.CopyRows([][]any{{1}, {2}})); err != nil {
			t.Fatal(err)
		}
		var in int
		tx.QueryRow("SELECT COUNT(*) FROM " + tn).Scan(&in)
		if in != 2 {
			t.Fatalf("tx sees %d", in)
		}
		tx.Rollback()
		if c := atkCount(t, db, tn); c != 0 {
			t.Fatalf("%d rows after rollback", c)
		}
		// a cancelled load inside a Tx leaves the tx usable (MySQL, SQLite)
		if b.dialect != "postgres" {
			tx, _ = db.Begin()
			defer tx.Rollback()
			tx.Exec("INSERT INTO " + tn + " VALUES (-100)")
			ctx, cancel := context.WithCancel(context.Background())
			seq := func(yield func([]any) bool) {
				for i := range 2500 {
					if i == 1700 {
						cancel()
					}
					if !yield([]any{i}) {
						return
					}
				}
			}
			_, err := databases.CopyFrom(ctx, tx, tn, []string{"id"}, databases.CopySeq(seq))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%v", err)
			}
			if _, err := tx.Exec("INSERT INTO " + tn + " VALUES (-101)"); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if c := atkCount(t, db, tn); c != 2 {
				t.Fatalf("%d rows after the cancelled load's tx, want 2", c)
			}
		}
	})
}

// TestAttackCopyConnKilled: the server ends the connection before the
// load: an error, nothing kept, the pool goes on.
func TestAttackCopyConnKilled(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		if b.dialect == "sqlite" {
			t.Skip()
		}
		tn := dbtest.Name("atkk")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var id int64
		q := "SELECT pg_backend_pid()"
		if b.dialect == "mysql" {
			q = "SELECT CONNECTION_ID()"
		}
		if err := conn.QueryRowContext(ctx, q).Scan(&id); err != nil {
			t.Fatal(err)
		}
		killed := false
		seq := func(yield func([]any) bool) {
			for i := range 3000 {
				if i == 1500 && !killed {
					killed = true
					if b.dialect == "mysql" {
						db.Exec(fmt.Sprintf("KILL %d", id))
					} else {
						db.Exec("SELECT pg_terminate_backend($1)", id)
					}
					time.Sleep(100 * time.Millisecond)
				}
				if !yield([]any{i}) {
					return
				}
			}
		}
		_, err = databases.CopyFrom(ctx, conn, tn, []string{"id"}, databases.CopySeq(seq))
		if err == nil {
			t.Fatal("load on a killed connection succeeded")
		}
		if c := atkCount(t, db, tn); c != 0 {
			t.Fatalf("%d rows kept", c)
		}
		conn.Close()
		if _, err := databases.CopyFrom(ctx, db, tn, []string{"id"}, databases.CopyRows([][]any{{1}})); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAttackCopyConnTwoGoroutines: two loads at once on one *sql.Conn
// both land, whole.
func TestAttackCopyConnTwoGoroutines(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkg")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows := make([][]any, 1500)
				for i := range rows {
					rows[i] = []any{g*10000 + i}
				}
				_, errs[g] = databases.CopyFrom(context.Background(), conn, tn, []string{"id"}, databases.CopyRows(rows))
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		conn.Close()
		if c := atkCount(t, db, tn); c != 3000 {
			t.Fatalf("%d rows", c)
		}
	})
}

// TestAttackCopyPGTypes: json, NaN, numeric and a zoned time load on
// PostgreSQL as Exec writes them.
func TestAttackCopyPGTypes(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		if b.dialect != "postgres" {
			t.Skip()
		}
		tn := dbtest.Name("atkj")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT, j JSONB, f DOUBLE PRECISION, num NUMERIC(20,5), at TIMESTAMPTZ, ts TIMESTAMP, u UUID)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		row := []any{0, `{"a": [1, "x"]}`, math.NaN(), "12345.678", timeFixedZone(), timeFixedZone(), "b2c6e0b6-9b0e-4f5a-9d8e-3c1a2b3c4d5e"}
		if _, err := db.Exec("INSERT INTO "+tn+" VALUES ($1, $2, $3, $4, $5, $6, $7)", row...); err != nil {
			t.Fatal(err)
		}
		row[0] = 1
		if _, err := databases.CopyFrom(context.Background(), db, tn, []string{"id", "j", "f", "num", "at", "ts", "u"}, databases.CopyRows([][]any{row})); err != nil {
			t.Fatal(err)
		}
		var got [2]string
		for i := range 2 {
			if err := db.QueryRow(fmt.Sprintf("SELECT concat_ws('|', j::text, f::text, num::text, at::text, ts::text, u::text) FROM %s WHERE id = %d", tn, i)).Scan(&got[i]); err != nil {
				t.Fatal(err)
			}
		}
		if got[0] != got[1] {
			t.Fatalf("Exec wrote %q, CopyFrom %q", got[0], got[1])
		}
	})
}

// TestAttackCopyDeadline: a deadline passed mid-load wraps
// DeadlineExceeded, nothing kept.
func TestAttackCopyDeadline(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atkx")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		seq := func(yield func([]any) bool) {
			for i := range 3000 {
				if i == 1200 {
					<-ctx.Done()
				}
				if !yield([]any{i}) {
					return
				}
			}
		}
		_, err := databases.CopyFrom(ctx, db, tn, []string{"id"}, databases.CopySeq(seq))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
		if c := atkCount(t, db, tn); c != 0 {
			t.Fatalf("%d rows kept", c)
		}
	})
}

type atkValuesErr struct{ i int }

func (s *atkValuesErr) Next() bool { s.i++; return s.i <= 3000 }
func (s *atkValuesErr) Values() ([]any, error) {
	if s.i-1 == 2222 {
		return nil, errors.New("bad row")
	}
	return []any{s.i - 1}, nil
}
func (s *atkValuesErr) Err() error { return nil }

// TestAttackCopyValuesErrorAndPanic: Values failing names its row; a
// source that panics does not leave the DB stuck.
func TestAttackCopyValuesErrorAndPanic(t *testing.T) {
	atkRun(t, func(t *testing.T, b atkBackend, db *sql.DB) {
		tn := dbtest.Name("atke")
		atkMust(t, db, "CREATE TABLE "+tn+" (id INT PRIMARY KEY)")
		t.Cleanup(func() { db.Exec("DROP TABLE " + tn) })
		_, err := databases.CopyFrom(context.Background(), db, tn, []string{"id"}, &atkValuesErr{})
		var ce *databases.CopyError
		if !errors.As(err, &ce) || ce.Row != 2222 {
			t.Fatalf("%v; want CopyError of row 2222", err)
		}
		func() {
			defer func() {
				if p := recover(); p != "source panics" {
					t.Errorf("CopyFrom panicked with %v; want the source's panic", p)
				}
			}()
			seq := func(yield func([]any) bool) {
				for i := range 3000 {
					if i == 1500 {
						panic("source panics")
					}
					if !yield([]any{i}) {
						return
					}
				}
			}
			databases.CopyFrom(context.Background(), db, tn, []string{"id"}, databases.CopySeq(seq))
		}()
		done := make(chan error, 1)
		go func() {
			_, err := databases.CopyFrom(context.Background(), db, tn, []string{"id"}, databases.CopyRows([][]any{{1}}))
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("after a panicking source: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("after a panicking source, the next load hangs")
		}
		if c := atkCount(t, db, tn); c != 1 {
			t.Fatalf("%d rows", c)
		}
	})
}
