package databases

// The differential test: one table of statement sequences, run through
// databases under every combination of its options, and through the raw
// driver opened on the same settings; after each step the rows, column
// types, rows affected and errors, and at the end the table's contents,
// must be the raw driver's. The combinations are generated from
// diffOptions: an option joins by adding one line there.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/rewrite"
)

// diffOption is one option of the combinations: its name, and how it sets
// up a DB (URL options and Options), or why it does not apply to a
// dialect.
type diffOption struct {
	name  string
	apply func(d *diffSetup) (skip string)
}

// diffSetup is the DB a combination opens.
type diffSetup struct {
	dialect       string
	url           string // the backend's URL, to which options are added
	opts          []Option
	forceRollback bool
}

// diffOptions are the options, each on or off in every combination.
var diffOptions = []diffOption{
	{"stmt_cache", func(d *diffSetup) string {
		d.url = withQuery(d.url, "stmt_cache=8")
		return ""
	}},
	{"logging", func(d *diffSetup) string {
		d.opts = append(d.opts, WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		return ""
	}},
	{"tracing", func(d *diffSetup) string {
		d.opts = append(d.opts, WithTracerProvider(sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))))
		return ""
	}},
	{"insights", func(d *diffSetup) string { d.opts = append(d.opts, WithInsights()); return "" }},
	{"force_rollback", func(d *diffSetup) string {
		d.url = withQuery(d.url, "force_rollback=true")
		d.forceRollback = true
		return ""
	}},
	{"replica_of_self", func(d *diffSetup) string {
		if d.dialect == "sqlite" {
			return "SQLite has no server to replicate"
		}
		u, err := url.Parse(d.url)
		if err != nil {
			return err.Error()
		}
		// The primary itself, named otherwise: a replica that is always
		// caught up, whose sessions are read-only.
		d.url = withQuery(d.url, "replicas=localhost:"+u.Port())
		return ""
	}},
}

// diffStep is one call of a sequence. query may hold {t}, the sequence's
// table. Special queries: "begin", "commit", "rollback" (BeginTx and the
// transaction's end), "prepare …" (the next "stmt" steps run it).
type diffStep struct {
	query   string
	args    []any
	exec    bool
	replica bool   // run under ReadReplica
	only    string // the one dialect it runs on; "" for all
	ddl     bool   // DDL, which force_rollback refuses on MySQL (implicit commit), as the README says
}

// diffSequences are the sequences, each run on the combination's table
// {t} (id INT PRIMARY KEY, v VARCHAR(20), n INT), emptied before each.
var diffSequences = []struct {
	name  string
	steps []diffStep
}{
	{"reads and writes", []diffStep{
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{1, "a", 10}, exec: true},
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{2, "b", 20}, exec: true},
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{3, "c", 30}, exec: true},
		{query: "SELECT id, v, n FROM {t} WHERE id = ?", args: []any{1}},
		{query: "SELECT id, v, n FROM {t} WHERE id = ?", args: []any{2}},
		{query: "SELECT id, v, n FROM {t} WHERE id = ?", args: []any{3}, replica: true},
		{query: "UPDATE {t} SET n = n + ? WHERE id >= ?", args: []any{1, 2}, exec: true},
		{query: "DELETE FROM {t} WHERE id = ?", args: []any{1}, exec: true},
		{query: "SELECT COUNT(*), SUM(n) FROM {t}"},
		{query: "SELECT id FROM {t} WHERE id IN (?, ?, ?) ORDER BY id", args: []any{1, 2, 3}, replica: true},
		{query: "SELECT v FROM {t} WHERE id = ?", args: []any{9}},
	}},
	{"errors", []diffStep{
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{1, "a", 1}, exec: true},
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{1, "again", 1}, exec: true},
		{query: "SELECT nosuchcolumn FROM {t}"},
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{2, "b", 2}, exec: true},
		{query: "SELECT id, v FROM {t} ORDER BY id"},
	}},
	{"multi-statement", []diffStep{
		{query: "INSERT INTO {t} (id, v, n) VALUES (1, 'a', 1); INSERT INTO {t} (id, v, n) VALUES (2, 'b', 2)", exec: true},
		{query: "SELECT COUNT(*) FROM {t}"},
		{query: "UPDATE {t} SET n = 0 WHERE id = 1; DELETE FROM {t} WHERE id = 2", exec: true},
		{query: "SELECT id, n FROM {t} ORDER BY id"},
	}},
	{"session", []diffStep{
		{query: "SELECT CAST(? || ? AS CHAR)", args: []any{"a", "b"}, only: "mysql"},
		{query: "SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')", exec: true, only: "mysql"},
		{query: "SELECT CAST(? || ? AS CHAR)", args: []any{"a", "b"}, only: "mysql"},
		{query: "SELECT current_setting('application_name') || ?", args: []any{"!"}, only: "postgres"},
		{query: "SET application_name = 'agree'", exec: true, only: "postgres"},
		{query: "SELECT current_setting('application_name') || ?", args: []any{"!"}, only: "postgres"},
		{query: "SELECT ? LIKE 'A'", args: []any{"a"}, only: "sqlite"},
		{query: "PRAGMA case_sensitive_like = ON", exec: true, only: "sqlite"},
		{query: "SELECT ? LIKE 'A'", args: []any{"a"}, only: "sqlite"},
	}},
	{"transactions", []diffStep{
		{query: "begin"},
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{1, "a", 1}, exec: true},
		{query: "SELECT COUNT(*) FROM {t} WHERE id = ?", args: []any{1}},
		{query: "rollback"},
		{query: "SELECT COUNT(*) FROM {t}"},
		{query: "begin"},
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{2, "b", 2}, exec: true},
		{query: "UPDATE {t} SET n = n + 1 WHERE id = ?", args: []any{2}, exec: true},
		{query: "commit"},
		{query: "SELECT id FROM {t} ORDER BY id", replica: true},
	}},
	{"prepared statements", []diffStep{
		{query: "prepare INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)"},
		{query: "stmt", args: []any{1, "a", 1}, exec: true},
		{query: "stmt", args: []any{2, "b", 2}, exec: true},
		{query: "stmt", args: []any{2, "b", 2}, exec: true},
		{query: "prepare SELECT v, n FROM {t} WHERE id = ?", replica: true},
		{query: "stmt", args: []any{1}, replica: true},
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{3, "c", 3}, exec: true},
		{query: "stmt", args: []any{3}, replica: true},
	}},
	// Last: it changes the table the others use.
	{"schema change", []diffStep{
		{query: "INSERT INTO {t} (id, v, n) VALUES (?, ?, ?)", args: []any{1, "a", 1}, exec: true},
		{query: "SELECT * FROM {t} WHERE id = ?", args: []any{1}},
		{query: "ALTER TABLE {t} ADD COLUMN w INT", exec: true, ddl: true},
		{query: "SELECT * FROM {t} WHERE id = ?", args: []any{1}},
		{query: "UPDATE {t} SET w = ? WHERE id = ?", args: []any{5, 1}, exec: true, ddl: true},
		{query: "SELECT * FROM {t} WHERE id = ?", args: []any{1}},
	}},
}

// TestDifferential runs every sequence under every combination of
// diffOptions on the three backends, against the raw driver.
func TestDifferential(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		t.Parallel() // the backends' servers work side by side
		base := b.URL
		if b.Dialect == "mysql" {
			base = withQuery(base, "multiStatements=true")
		}
		var raw *sql.DB
		if b.Dialect != "sqlite" {
			raw = openRaw(t, base)
			raw.SetMaxIdleConns(0) // a session changed by a sequence ends with it
		}
		for combo := range 1 << len(diffOptions) {
			d := &diffSetup{dialect: b.Dialect, url: base}
			if b.Dialect == "sqlite" {
				d.url = "sqlite:///" + filepath.Join(t.TempDir(), "db.db")
			}
			var names []string
			skip := ""
			for i, o := range diffOptions {
				if combo&(1<<i) == 0 {
					continue
				}
				names = append(names, o.name)
				if why := o.apply(d); why != "" {
					skip = why
				}
			}
			if skip != "" {
				continue // the same combination without the option runs
			}
			name := strings.Join(names, "+")
			if name == "" {
				name = "plain"
			}
			t.Run(name, func(t *testing.T) {
				oracle := raw
				if b.Dialect == "sqlite" {
					oracle = openRaw(t, "sqlite:///"+filepath.Join(t.TempDir(), "raw.db"))
				}
				db, err := Open(d.url, d.opts...)
				if err != nil {
					t.Fatal(err)
				}
				a, o := diffOpen(t, d, db, oracle)
				defer func() {
					a.close()
					o.close()
					db.Close() // first: force_rollback's transaction holds the tables
					for _, tb := range []string{a.table, o.table} {
						oracle.Exec("DROP TABLE " + tb)
					}
				}()
				for _, seq := range diffSequences {
					diffRun(t, d, a, o, seq.name, seq.steps)
				}
			})
		}
	})
}

// diffOpen makes the two tables of a combination, and opens a connection
// of db and one of raw on them.
func diffOpen(t *testing.T, d *diffSetup, db, raw *sql.DB) (*diffSession, *diffSession) {
	dialect := d.dialect
	t.Helper()
	ctx := context.Background()
	mine, theirs := dbtest.Name("diff"), dbtest.Name("diff")
	create := "CREATE TABLE %s (id INT PRIMARY KEY, v VARCHAR(20), n INT)"
	for _, tb := range []string{mine, theirs} {
		if _, err := raw.ExecContext(ctx, fmt.Sprintf(create, tb)); err != nil {
			t.Fatal(err)
		}
	}
	if dialect == "sqlite" { // two files: the table of db is made on its own
		if _, err := db.ExecContext(ctx, fmt.Sprintf(create, mine)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pg := dialect == "postgres"
	return &diffSession{conn: c, table: mine, dialect: dialect, staleOnce: pg && d.forceRollback},
		&diffSession{conn: r, table: theirs, dialect: dialect, raw: true, staleOnce: pg}
}

// diffRun runs one sequence on a and o, after emptying their tables, and
// compares each step and the table at the end.
func diffRun(t *testing.T, d *diffSetup, a, o *diffSession, name string, steps []diffStep) {
	t.Helper()
	empty := diffStep{query: "DELETE FROM {t}", exec: true}
	a.run(t, empty)
	o.run(t, empty)
	for i, s := range steps {
		if s.only != "" && s.only != a.dialect || s.ddl && d.forceRollback && a.dialect == "mysql" {
			continue
		}
		got, want := a.run(t, s), o.run(t, s)
		if got != want {
			t.Fatalf("%s, step %d (%s %v): %s\nthe raw driver: %s", name, i+1, s.query, s.args, got, want)
		}
	}
	all := diffStep{query: "SELECT * FROM {t} ORDER BY id"}
	if got, want := a.run(t, all), o.run(t, all); got != want {
		t.Fatalf("%s: the table holds %s\nthe raw driver's: %s", name, got, want)
	}
}

// diffSession is one side of a comparison: a connection, its table, its
// open transaction and prepared statement.
type diffSession struct {
	conn    *sql.Conn
	table   string
	dialect string
	raw     bool
	// staleOnce: a PostgreSQL 0A000 outside a transaction is answered by
	// running the step again (the raw driver; force_rollback, which does not
	// drop pgx's plans after DDL, docs/statements.md).
	staleOnce bool
	tx        *sql.Tx
	stmt      *sql.Stmt
}

// close ends what the session holds.
func (s *diffSession) close() {
	if s.stmt != nil {
		s.stmt.Close()
	}
	if s.tx != nil {
		s.tx.Rollback()
	}
	s.conn.Close()
}

// run runs a step and writes down what it gave, with the table's name
// written {t}.
func (s *diffSession) run(t *testing.T, st diffStep) string {
	t.Helper()
	ctx := context.Background()
	if st.replica && !s.raw {
		ctx = ReadReplica(ctx)
	}
	q := strings.ReplaceAll(st.query, "{t}", s.table)
	if s.raw && s.dialect == "postgres" && !strings.HasPrefix(q, "prepare ") && q != "stmt" {
		q = nativeQuery(t, rewrite.Postgres, q)
	}
	var out string
	switch {
	case q == "begin":
		var err error
		s.tx, err = s.conn.BeginTx(ctx, nil)
		out = fmt.Sprint(err)
	case q == "commit":
		out = fmt.Sprint(s.tx.Commit())
		s.tx = nil
	case q == "rollback":
		out = fmt.Sprint(s.tx.Rollback())
		s.tx = nil
	case strings.HasPrefix(q, "prepare "):
		q = strings.TrimPrefix(q, "prepare ")
		if s.raw && s.dialect == "postgres" {
			q = nativeQuery(t, rewrite.Postgres, q)
		}
		if s.stmt != nil {
			s.stmt.Close()
		}
		var err error
		if s.tx != nil {
			s.stmt, err = s.tx.PrepareContext(ctx, q)
		} else {
			s.stmt, err = s.conn.PrepareContext(ctx, q)
		}
		out = fmt.Sprint(err)
	case q == "stmt" && st.exec:
		out = describeResult(s.stmt.ExecContext(ctx, st.args...))
	case q == "stmt":
		out = describeRows(s.stmt.QueryContext(ctx, st.args...))
	case st.exec && s.tx != nil:
		out = describeResult(s.tx.ExecContext(ctx, q, st.args...))
	case st.exec:
		out = describeResult(s.conn.ExecContext(ctx, q, st.args...))
	case s.tx != nil:
		out = describeRows(s.tx.QueryContext(ctx, q, st.args...))
	default:
		out = describeRows(s.conn.QueryContext(ctx, q, st.args...))
	}
	if s.staleOnce && s.tx == nil && out == "error 0A000" && q != "stmt" {
		// pgx's cached plan after the schema changed: pgx has dropped it,
		// and databases runs such a call once more (docs/statements.md),
		// so the answer to compare with is the second one.
		return s.run(t, st)
	}
	return strings.ReplaceAll(out, s.table, "{t}")
}

// describeResult writes down rows affected, or the error.
func describeResult(res sql.Result, err error) string {
	if err != nil {
		return "error " + errorClass(err)
	}
	n, err := res.RowsAffected()
	return fmt.Sprintf("%d affected, %v", n, err)
}

// describeRows writes down the columns with their types, and the rows
// with the Go type of each value.
func describeRows(rows *sql.Rows, err error) string {
	if err != nil {
		return "error " + errorClass(err)
	}
	defer rows.Close()
	var b strings.Builder
	cts, err := rows.ColumnTypes()
	if err != nil {
		return "error " + errorClass(err)
	}
	for _, ct := range cts {
		n, nok := ct.Nullable()
		fmt.Fprintf(&b, "%s %s %v null=%v,%v; ", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), n, nok)
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return b.String() + "error " + errorClass(err)
		}
		b.WriteString("\n")
		for _, v := range vals {
			fmt.Fprintf(&b, "%T:%v ", v, v)
		}
	}
	if err := rows.Err(); err != nil {
		return b.String() + "error " + errorClass(err)
	}
	return b.String()
}
