package databases

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/dsn"
)

// inputPassword is in every URL of the corpus that can carry a password; no
// message may show it.
const inputPassword = "Zq7xSecretPw"

// checkNoPassword fails when msg shows the corpus password, raw or encoded.
func checkNoPassword(t *testing.T, what, msg string) {
	t.Helper()
	for _, pw := range []string{inputPassword, "Zq7x", "Secret"} {
		if strings.Contains(msg, pw) {
			t.Errorf("%s: message shows the password: %s", what, msg)
		}
	}
}

// urlCorpus are malformed or contradictory URLs, each with a fragment of the
// error that must name the problem.
var urlCorpus = []struct{ url, want string }{
	{"", "empty URL"},
	{"   ", "empty URL"},
	{"postgres", "missing scheme"},
	{"app:" + inputPassword + "@host/db", "missing scheme"},
	{"://app:" + inputPassword + "@host/db", "missing scheme"},
	{"oracle://app:" + inputPassword + "@host/db", `unknown scheme "oracle"`},
	{"http://app:" + inputPassword + "@host/db", `unknown scheme "http"`},
	{"postgress://app:" + inputPassword + "@host/db", `unknown scheme "postgress"`},
	{"postgres+://app:" + inputPassword + "@host/db", "empty driver name"},
	{"postgres+nosuch://app:" + inputPassword + "@host/db", `no database/sql driver is registered as "nosuch"`},
	{"mysql+nosuch://app:" + inputPassword + "@host/db", `no database/sql driver is registered as "nosuch"`},
	{"sqlite+nosuch:///x.db", `no database/sql driver is registered as "nosuch"`},
	{"postgres+databases://app:" + inputPassword + "@host/db", "cannot wrap itself"},
	{"postgres://app:" + inputPassword + "@host/db#frag", "unexpected '#'"},
	{"mysql://app:" + inputPassword + "@host/db#x", "unexpected '#'"},
	{"postgres://ap%zz:" + inputPassword + "@host/db", "invalid percent-escape in user name"},
	{"postgres://app:" + inputPassword + "%zz@host/db", "invalid percent-escape in password"},
	{"mysql://app:" + inputPassword + "%4@host/db", "invalid percent-escape in password"},
	{"postgres://app:" + inputPassword + "@host/d%zzb", "invalid percent-escape in database name"},
	{"mysql://app:" + inputPassword + "@host/d%zzb", "invalid percent-escape in database name"},
	{"mysql://app:" + inputPassword + "@host/a/b", "contains '/'"},
	{"postgres://app:" + inputPassword + "@host:0/db", `bad port "0"`},
	{"postgres://app:" + inputPassword + "@host:65536/db", `bad port "65536"`},
	{"postgres://app:" + inputPassword + "@host:-1/db", `bad port "-1"`},
	{"postgres://app:" + inputPassword + "@host:http/db", `bad port "http"`},
	{"mysql://app:" + inputPassword + "@host:99999/db", `bad port "99999"`},
	{"mysql://app:" + inputPassword + "@host:/db", `bad port ""`},
	{"postgres://app:" + inputPassword + "@[::1/db", "unclosed '['"},
	{"postgres://app:" + inputPassword + "@[::1]x/db", "after IPv6 host"},
	{"postgres://app:" + inputPassword + "@::1:5432/db", "must be written in brackets"},
	{"mysql://app:" + inputPassword + "@h1,,h2/db", "empty host 2 of 3 in the host list"},
	{"mysql://app:" + inputPassword + "@h1:3306,h1/db", "given twice in the host list"},
	{"mysql://app:" + inputPassword + "@h1,h2/db?target_session_attrs=rw", "option target_session_attrs"},
	{"postgres://app:" + inputPassword + "@h1,h2/db?load_balance_hosts=on", "option load_balance_hosts"},
	{"mysql://app:" + inputPassword + "@host/db?unix_socket=/tmp/s.sock", "also names host"},
	{"mysql://app:" + inputPassword + "@/db?unix_socket=relative.sock", "not an absolute socket path"},
	{"postgres://app:" + inputPassword + "@host/db?unix_socket=/tmp/s", "use ?host=/path/to/socket/dir"},
	{"sqlite:///x.db?unix_socket=/tmp/s", "SQLite has no server socket"},
	{"postgres://app:" + inputPassword + "@host/db?txlock=immediate", "only SQLite has transaction lock modes"},
	{"mysql://app:" + inputPassword + "@host/db?txlock=exclusive", "only SQLite has transaction lock modes"},
	{"sqlite:///x.db?txlock=sometimes", "is not deferred, immediate or exclusive"},
	{"sqlite:///x.db?_txlock=", "is not deferred, immediate or exclusive"},
	{"sqlite:///x.db?txlock=deferred&_txlock=immediate", "given twice"},
	{"postgres://app:" + inputPassword + "@host/db?placeholders=dollar", "is not portable or native"},
	{"postgres://app:" + inputPassword + "@host/db?placeholders=native&placeholders=native", "given twice"},
	{"postgres://app:" + inputPassword + "@host/db?ssl=maybe", "is not a boolean"},
	{"postgres://app:" + inputPassword + "@host/db?ssl=true&sslmode=disable", "options ssl and sslmode both given"},
	{"mysql://app:" + inputPassword + "@host/db?ssl=true&tls=false", "options ssl and tls both given"},
	{"sqlite:///x.db?ssl=true", "SQLite has no network connection"},
	{"postgres://app:" + inputPassword + "@host/db?force_rollback=yes please", "is not a boolean"},
	{"postgres://app:" + inputPassword + "@host/db?force_rollback=1x", "is not a boolean"},
	{"mysql://app:" + inputPassword + "@host/db?autocommit=false", "option autocommit"},
	{"postgres://app:" + inputPassword + "@host/db?max_open_conns=-1", "is not a whole number"},
	{"postgres://app:" + inputPassword + "@host/db?max_open_conns=ten", "is not a whole number"},
	{"mysql://app:" + inputPassword + "@host/db?max_size=1.5", "is not a whole number"},
	{"mysql://app:" + inputPassword + "@host/db?min_size=x", "is not a whole number"},
	{"postgres://app:" + inputPassword + "@host/db?max_open_conns=4&max_size=8", "given twice"},
	{"postgres://app:" + inputPassword + "@host/db?conn_max_lifetime=5", "is not a duration"},
	{"postgres://app:" + inputPassword + "@host/db?conn_max_idle_time=forever", "is not a duration"},
	{"postgres://app:" + inputPassword + "@host/db?conn_max_lifetime=-5s", "is not a duration"},
	{"postgres://app:" + inputPassword + "@host/db?log=verbose", "option log"},
	{"postgres://app:" + inputPassword + "@host/db?slow=fast", "option slow"},
	{"postgres://app:" + inputPassword + "@host/db?trace=maybe", "option trace"},
	{"postgres://app:" + inputPassword + "@host/db?%zz=1", "invalid percent-escape in option name"},
	{"postgres://app:" + inputPassword + "@host/db?log=%zz", "option log: invalid percent-escape"},
	{"sqlite://host/x.db", "a SQLite URL has no host or user"},
	{"sqlite://app:" + inputPassword + "@host/x.db", "a SQLite URL has no host or user"},
	{"sqlite://", "missing database file"},
	{"sqlite:///", "missing database file"},
	{"sqlite:///x%zz.db", "invalid percent-escape in file path"},
	{"postgres://app:" + inputPassword + "@host/db?sslmode=sometimes", "sslmode"},
	{"postgres://app:" + inputPassword + "@host/db?connect_timeout=soon", "connect_timeout"},
	{"postgres://app:" + inputPassword + "@host/db?statement_cache_capacity=many", "statement_cache_capacity"},
	{"mysql://app:" + inputPassword + "@host/db?parseTime=perhaps", "parseTime"},
	{"mysql://app:" + inputPassword + "@host/db?loc=Nowhere/Atlantis", "Nowhere/Atlantis"},
	{"mysql://app:" + inputPassword + "@host/db?timeout=soon", "soon"},
}

// TestReliabilityBadURLs opens every URL of the corpus: each fails with an
// error that names the problem and never shows the password, and none
// panics.
func TestReliabilityBadURLs(t *testing.T) {
	if len(urlCorpus) < 50 {
		t.Fatalf("the corpus has %d URLs, want at least 50", len(urlCorpus))
	}
	for _, c := range urlCorpus {
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
					t.Errorf("%q: panic: %v", dsn.RedactURL(c.url), p)
				}
			}()
			var db *sql.DB
			db, err = Open(c.url)
			if err == nil {
				db.Close()
			}
		}()
		if err == nil {
			t.Errorf("%q: opened, want an error containing %q", dsn.RedactURL(c.url), c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q does not contain %q", dsn.RedactURL(c.url), err, c.want)
		}
		checkNoPassword(t, dsn.RedactURL(c.url), err.Error())
		// sql.Open goes through the same parse.
		if _, err2 := sql.Open(driverName, c.url); err2 == nil {
			t.Errorf("%q: sql.Open accepted it", dsn.RedactURL(c.url))
		} else {
			checkNoPassword(t, dsn.RedactURL(c.url), err2.Error())
		}
		if r := dsn.RedactURL(c.url); strings.Contains(r, inputPassword) {
			t.Errorf("RedactURL shows the password: %s", r)
		}
	}
}

// queryCase is a malformed or ambiguous query and the fragment its error
// must contain per dialect ("" where the dialect may run it).
type queryCase struct {
	query string
	args  []any
	want  map[string]string
}

func queryCorpus() []queryCase {
	syntax := map[string]string{"postgres": "SQLSTATE 42601", "mysql": "Error 1064", "sqlite": "SQL logic error"}
	var cs []queryCase
	add := func(q string, want map[string]string, args ...any) {
		cs = append(cs, queryCase{query: q, args: args, want: want})
	}
	// Placeholders the rewriter cannot resolve without guessing: an error
	// with the byte offset on every dialect. SQLite sends the query as
	// written but checks it the same way; an unterminated /* runs to the
	// end there, as SQLite reads it.
	for _, c := range []struct{ q, pg, my, lite string }{
		{"SELECT 'abc WHERE x = ?", "unterminated quoted string at offset 7", "unterminated quoted string at offset 7", "unterminated quoted string at offset 7"},
		{"SELECT x FROM t WHERE s = 'it''s ?", "unterminated quoted string at offset 26", "unterminated quoted string at offset 26", "unterminated quoted string at offset 26"},
		{`SELECT "abc FROM t WHERE x = ?`, "unterminated quoted identifier at offset 7", "unterminated quoted string at offset 7", "unterminated quoted identifier at offset 7"},
		{"SELECT 1 /* ? ", "unterminated comment at offset 9", "unterminated comment at offset 9", "query has no parameters, got 1 argument"},
		{"SELECT 1 /* /* ? */", "unterminated comment at offset 9", "query has no parameters, got 1 argument", "query has no parameters, got 1 argument"},
		{"SELECT ? , $1", "parameter $1 at offset 11 follows positional ? parameters (one style per query): if a ? is the jsonb operator write it ??", "Error 1054", "parameter $1 follows positional ? parameters (one style per query) at offset 11"},
		{"SELECT $1, ?", "parameter ? follows native $n parameters (one style per query) at offset 11", "Error 1054", "parameter ? follows native $n parameters (one style per query) at offset 11"},
		{"SELECT ?, :name", "named parameter :name follows positional ? parameters", "named parameter :name follows positional ? parameters", "named parameter :name follows positional ? parameters"},
		{"SELECT :name, ?", "parameter ? follows named parameters (one style per query) at offset 14", "parameter ? follows named parameters (one style per query) at offset 14", "parameter ? follows named parameters (one style per query) at offset 14"},
		{"SELECT ?, ?", "query has 2 positional parameters, got 1 argument at offset 10", "query has 2 positional parameters, got 1 argument at offset 10", "query has 2 positional parameters, got 1 argument at offset 10"},
		{"SELECT ?, ?, ?", "query has 3 positional parameters, got 1 argument", "query has 3 positional parameters, got 1 argument", "query has 3 positional parameters, got 1 argument"},
		{"SELECT :a, :b", "query uses named parameters, got positional argument 1 at offset 7", "query uses named parameters, got positional argument 1 at offset 7", "query uses named parameters, got positional argument 1 at offset 7"},
		{"SELECT :missing", "query uses named parameters, got positional argument 1", "query uses named parameters, got positional argument 1", "query uses named parameters, got positional argument 1"},
		{"SELECT x FROM t WHERE a = ? AND b = ? AND c = ?", "query has 3 positional parameters, got 1 argument at offset 36", "query has 3 positional parameters, got 1 argument at offset 36", "query has 3 positional parameters, got 1 argument at offset 36"},
		{"SELECT ? WHERE 'unterminated", "unterminated quoted string at offset 15", "unterminated quoted string at offset 15", "unterminated quoted string at offset 15"},
	} {
		add(c.q, map[string]string{"postgres": c.pg, "mysql": c.my, "sqlite": c.lite}, 1)
	}
	for _, c := range []struct {
		q    string
		args []any
		pg   string
		my   string
		lite string
	}{
		{"SELECT :a", []any{sql.Named("b", 1)}, `named parameter :a has no argument`, `named parameter :a has no argument`, `named parameter :a has no argument`},
		{"SELECT :a, :a", []any{sql.Named("a", 1), sql.Named("b", 2)}, "", "", ""},
		{"SELECT ?", []any{1, 2}, "query has 1 positional parameter", "query has 1 positional parameter", "query has 1 positional parameter"},
		{"SELECT 1", []any{1}, "query has no parameters, got 1 argument", "query has no parameters, got 1 argument", "query has no parameters, got 1 argument"},
	} {
		add(c.q, map[string]string{"postgres": c.pg, "mysql": c.my, "sqlite": c.lite}, c.args...)
	}
	// Syntax errors the server reports.
	for _, q := range []string{
		"SELECT 1 UNION SELECT",
		"SELEC 1", "SELECT 1 +", "SELECT (1", "SELECT 1)", "SELECT FROM", "SELECT 1 FROM",
		"SELECT 1 WHERE", "SELECT 1 ORDER BY", "SELECT 1 GROUP BY", "SELECT * FROM (SELECT 1",
		"INSERT INTO", "INSERT INTO x VALUES", "UPDATE SET x = 1", "DELETE", "DELETE FROM",
		"CREATE TABLE", "CREATE TABLE (x INT)", "DROP", "ALTER TABLE", "SELECT 1,, 2",
		"SELECT ,1", "SELECT 1 AS", "SELECT CASE WHEN 1 THEN 2", "SELECT 1 UNION",
		"WITH x AS SELECT 1", "SELECT 1 LIMIT", "SELECT * FROM WHERE 1 = 1", "(", ")", "SELECT 1 1 1", "BEGIN TRANSACTION WITH LOCK",
		"SELECT 1; SELEC 2",
	} {
		add(q, syntax)
	}
	// Syntax errors with arguments, so they pass through the rewriter.
	for _, q := range []string{
		"SELEC ?", "SELECT ? +", "SELECT (?", "SELECT ?)", "SELECT ? FROM", "SELECT ? WHERE",
		"INSERT INTO VALUES (?)", "UPDATE SET x = ?", "SELECT ?,, 2", "SELECT ? AS",
	} {
		add(q, syntax, 1)
	}
	// Objects that do not exist.
	add("SELECT * FROM rel_no_such_table", map[string]string{"postgres": "42P01", "mysql": "Error 1146", "sqlite": "no such table"})
	add("SELECT * FROM rel_no_such_table WHERE id = ?", map[string]string{"postgres": "42P01", "mysql": "Error 1146", "sqlite": "no such table"}, 1)
	add("SELECT rel_no_such_column", map[string]string{"postgres": "42703", "mysql": "Error 1054", "sqlite": "no such column"})
	add("SELECT rel_no_such_function(1)", map[string]string{"postgres": "42883", "mysql": "Error 1305", "sqlite": "no such function"})
	add("SELECT rel_no_such_function(?)", map[string]string{"postgres": "42883", "mysql": "Error 1305", "sqlite": "no such function"}, 1)
	return cs
}

// TestReliabilityBadQueries runs the query corpus on every dialect: each
// query fails with an error that contains the expected fragment, as Exec
// and as Query, and nothing panics or breaks the pool.
func TestReliabilityBadQueries(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		db, err := Open(withQuery(b.URL, "max_open_conns=2"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		cs := queryCorpus()
		if len(cs) < 50 {
			t.Fatalf("the corpus has %d queries, want at least 50", len(cs))
		}
		for _, c := range cs {
			want := c.want[b.Dialect]
			for _, via := range []string{"exec", "query"} {
				var err error
				func() {
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("panic: %v", p)
						}
					}()
					if via == "exec" {
						_, err = db.ExecContext(ctx, c.query, c.args...)
						return
					}
					var rows *sql.Rows
					if rows, err = db.QueryContext(ctx, c.query, c.args...); err == nil {
						for rows.Next() {
						}
						err = rows.Err()
						rows.Close()
					}
				}()
				if os.Getenv("RELIABILITY_DUMP") != "" {
					t.Logf("%s %q: %v", via, c.query, err)
					continue
				}
				switch {
				case err == nil && want != "":
					t.Errorf("%s %q %v: no error, want one containing %q", via, c.query, c.args, want)
				case err != nil && !strings.Contains(err.Error(), want):
					t.Errorf("%s %q %v: error %q does not contain %q", via, c.query, c.args, err, want)
				}
			}
		}
		checkPool(t, db)
	})
}

// TestReliabilityUnsupportedArgs binds arguments of types no driver takes:
// the error is the real driver's, unchanged, as the same call on the raw
// driver gives it.
func TestReliabilityUnsupportedArgs(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		u := fidelityURL(t, b)
		raw := openRaw(t, u)
		db, err := Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		native := map[string]string{"postgres": "SELECT $1", "mysql": "SELECT ?", "sqlite": "SELECT ?"}[b.Dialect]
		type point struct{ X, Y int }
		ctx := context.Background()
		refused := 0
		for _, arg := range []any{
			point{1, 2}, &point{1, 2}, make(chan int), func() {}, complex(1, 2),
			map[string]int{"a": 1}, struct{}{}, []point{{1, 2}}, [2]chan int{},
		} {
			var got, want error
			func() {
				defer func() {
					if p := recover(); p != nil {
						got = fmt.Errorf("panic: %v", p)
					}
				}()
				var v any
				got = db.QueryRowContext(ctx, "SELECT ?", arg).Scan(&v)
			}()
			var v any
			want = raw.QueryRowContext(ctx, native, arg).Scan(&v)
			if want == nil {
				if got != nil {
					t.Errorf("%T: the raw driver takes it, databases says %v", arg, got)
				}
				continue
			}
			refused++
			if refused == 1 {
				t.Logf("%T: %v", arg, got)
			}
			if got == nil || got.Error() != want.Error() || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
				t.Errorf("%T: error %v (%T), the raw driver's is %v (%T)", arg, got, got, want, want)
				continue
			}
			// Exec takes the same path.
			_, got = db.ExecContext(ctx, "SELECT ?", arg)
			_, want = raw.ExecContext(ctx, native, arg)
			if got == nil || want == nil || got.Error() != want.Error() {
				t.Errorf("%T: Exec error %v, the raw driver's is %v", arg, got, want)
			}
		}
		if refused < 5 {
			t.Errorf("the raw driver refused only %d of the arguments", refused)
		}
		if refused < 5 {
			t.Errorf("the raw driver refused only %d of the arguments", refused)
		}
		checkPool(t, db)
	})
}

// txControlCorpus returns every statement that opens, ends or replaces a
// transaction on dialect, in every dressing the scanner must see through:
// case, comments of each kind, a form feed, after another statement, in a
// MySQL executable comment. opens reports whether it leaves a transaction
// open when run outside one.
func txControlCorpus(dialect string) (cs []struct {
	query string
	opens bool
}) {
	base := map[string][]string{
		"sqlite":   {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "END", "ROLLBACK"},
		"postgres": {"BEGIN", "START TRANSACTION", "COMMIT", "END", "ROLLBACK", "ABORT"},
		"mysql":    {"BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SET autocommit=0", "SET @@session.autocommit = OFF", "XA START 'rel'"},
	}[dialect]
	dress := []string{"%s", "%s;", "-- note\n%s", "/* note */ %s", "\f%s", "SELECT 1; %s"}
	switch dialect {
	case "mysql":
		dress = append(dress, "# note\n%s", "/*!40000 %s */", "/*M!100100 %s */")
	case "postgres":
		dress = append(dress, "/* a /* nested */ b */ %s")
	}
	for _, b := range base {
		opens := !strings.HasPrefix(b, "COMMIT") && !strings.HasPrefix(b, "END") &&
			!strings.HasPrefix(b, "ROLLBACK") && !strings.HasPrefix(b, "ABORT")
		for _, d := range dress {
			q := fmt.Sprintf(d, b)
			cs = append(cs, struct {
				query string
				opens bool
			}{q, opens})
			cs = append(cs, struct {
				query string
				opens bool
			}{fmt.Sprintf(d, strings.ToLower(b)), opens})
		}
	}
	return cs
}

// TestReliabilityTxControl sends the transaction-control corpus through
// every door: inside a BeginTx transaction as Exec, Query and a prepared
// statement, where each is refused with its byte offset and the transaction
// still rolls back whole; and outside one, on a pool of one connection,
// where a statement that leaves a transaction open must not take the next
// acknowledged write with it.
func TestReliabilityTxControl(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		u := fidelityURL(t, b)
		if b.Dialect == "mysql" {
			u = withQuery(u, "multiStatements=true")
		}
		db, err := Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		table := dbtest.Name("rel_txctl")
		if _, err := db.Exec("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		defer db.Exec("DROP TABLE " + table)
		ctx := context.Background()
		corpus := txControlCorpus(b.Dialect)
		id := 0
		for _, c := range corpus {
			for _, via := range []string{"exec", "query", "prepare"} {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec("INSERT INTO "+table+" (id) VALUES (?)", -1); err != nil {
					t.Fatal(err)
				}
				switch via {
				case "exec":
					_, err = tx.Exec(c.query)
				case "query":
					var rows *sql.Rows
					if rows, err = tx.Query(c.query); err == nil {
						rows.Close()
					}
				case "prepare":
					var st *sql.Stmt
					if st, err = tx.Prepare(c.query); err == nil {
						_, err = st.Exec()
						st.Close()
					}
				}
				if err == nil || !strings.Contains(err.Error(), "byte offset") {
					t.Errorf("%s %q inside a transaction: %v; want a refusal naming the offset", via, c.query, err)
				}
				if err := tx.Rollback(); err != nil {
					t.Fatalf("%s %q: Rollback: %v", via, c.query, err)
				}
			}
			// Outside a transaction the statement runs; the next write must
			// be committed whatever it left behind.
			id++
			if _, err := db.Exec(c.query); err != nil && c.opens {
				t.Errorf("%q outside a transaction: %v", c.query, err)
			}
			if _, err := db.Exec("INSERT INTO "+table+" (id) VALUES (?)", id); err != nil {
				t.Fatalf("after %q: %v", c.query, err)
			}
		}
		db.Close()
		check, err := Open(u)
		if err != nil {
			t.Fatal(err)
		}
		defer check.Close()
		var n int
		if err := check.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != id {
			t.Fatalf("%d rows after Close; want %d: an acknowledged write was lost", n, id)
		}
		t.Logf("%d statements, %d refusals, %d writes kept", len(corpus), 3*len(corpus), n)
	})
}
