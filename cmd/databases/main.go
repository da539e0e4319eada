// Command databases runs SQL against any database URL and prints the
// results.
//
//	databases [-url URL] [-f FILE] [-format table|csv|json] [-log LEVEL] [-trace] [-insights] [SQL ...]
//
//	go run ./cmd/databases "CREATE TABLE t (x)" "INSERT INTO t VALUES (1), (2)" "SELECT * FROM t"
//	go run ./cmd/databases -url postgres://postgres@127.0.0.1/test -f schema.sql
//	echo "SELECT 1 AS one;" | go run ./cmd/databases -format json
//
// Each SQL argument is one statement. With -f FILE (- for standard input),
// or without arguments from standard input, a script is split into
// statements at each ';' outside quotes, comments, dollar-quoted bodies and
// the BEGIN … END body of CREATE TRIGGER, FUNCTION, PROCEDURE or EVENT, read
// by the rules of the URL's dialect and, on MySQL, its sql_mode. The default
// URL is sqlite:///:memory:.
//
// All statements run in order on one connection, so a script's BEGIN …
// COMMIT, session settings and temporary tables span its statements; the
// first failing statement stops the run.
//
// Every statement runs as a query, and the driver's answer decides what is
// printed: each result set the statement returns (a MySQL CALL may return
// several) or, for a statement without one, "ok" in the table format and
// nothing in csv and json. database/sql counts affected rows only for Exec,
// which cannot tell whether a statement returns rows, so no count is
// printed: add RETURNING to see the rows a statement changed.
//
// -format table (the default) prints aligned columns and a row count, each
// value on one line: NULL as NULL, and backslash escapes for what would
// break the line or look like another value: \\ for a backslash, \t, \n and
// \r, \xHH or \uHHHH for other control characters and bytes that are not
// UTF-8, \NULL for the text NULL; binary values as \x and hex. csv prints
// each result set with a header row, an empty line between result sets, and
// NULL and the empty string as PostgreSQL's COPY … CSV writes them: NULL an
// empty field, the empty string "". json prints each result set as one
// array of objects on a line of its own; a column whose database type is
// numeric (integer, decimal or floating point) gives JSON numbers on every
// backend, with the digits the database sent (NaN and infinities as
// strings); in other columns, values the driver returns as Go numbers
// (SQLite's, whose values carry their own type) stay numbers, booleans are
// true or false and the rest are strings. -log LEVEL writes a log record
// per driver call to standard error, -trace a line per finished span.
// -insights writes, at the end of the run (a failed one too), the table of
// middleware/insights to standard error: per query summary its calls,
// errors, total, mean, p50, p95 and p99 time in milliseconds, rows and N+1
// reports, the most costly first; the whole run is one N+1 scope.
//
// When reading a result set fails midway, the rows read before are printed
// (the table without its row count, the json array closed), then the error.
//
// An error names the statement by number and, for a script, by file and
// line: "databases: statement 2 (schema.sql:7): ...". A placeholder error
// from the rewriter keeps its "at offset N" (a byte offset in the
// statement) and is located at the placeholder's line and column.
//
// Exit status:
//
//	0  every statement ran
//	1  a statement, the connection or the script failed
//	2  usage error: unknown flag, bad flag value, both -f and SQL arguments
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/insights"
	"github.com/go-databases/databases/rewrite"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// cli runs the command with its arguments and returns the exit status.
func cli(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("databases", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "sqlite:///:memory:", "database URL")
	file := fs.String("f", "", "run the script in `FILE` (- for standard input)")
	format := fs.String("format", "table", "output `format`: table, csv or json")
	logLevel := fs.String("log", "", "log every driver call to standard error from this `level` (debug, info, warn, error)")
	traced := fs.Bool("trace", false, "print every finished OpenTelemetry span to standard error")
	withInsights := fs.Bool("insights", false, "print what each query cost (calls, errors, latencies, rows) to standard error at the end")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: databases [-url URL] [-f FILE] [-format table|csv|json] [-log LEVEL] [-trace] [-insights] [SQL ...]\n\n"+
			"Each SQL argument is one statement. With -f, or without arguments from standard input,\n"+
			"a script is split at each ';' outside quotes and comments.\n"+
			"Exit status: 0 ok, 1 SQL or runtime error, 2 usage error.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "databases: "+format+"\n", a...)
		return exitUsage
	}
	out := newFormatter(*format, stdout)
	if out == nil {
		return usage("-format %q: want %s", *format, strings.Join(formats, ", "))
	}
	if *file != "" && fs.NArg() > 0 {
		return usage("give -f or SQL arguments, not both")
	}
	var opts []databases.Option
	if *logLevel != "" {
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			return usage("-log %q: want debug, info, warn or error", *logLevel)
		}
		opts = append(opts, databases.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))))
	}
	if *traced {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spanPrinter{stderr}))
		defer tp.Shutdown(ctx)
		opts = append(opts, databases.WithTracerProvider(tp))
	}
	var report io.Writer
	if *withInsights {
		report = stderr
		opts = append(opts, databases.WithInsights())
	}

	var src source
	if fs.NArg() > 0 {
		for _, arg := range fs.Args() {
			src.statements = append(src.statements, statement{Text: arg})
		}
	} else {
		var script []byte
		var err error
		switch *file {
		case "", "-":
			src.name = "stdin"
			script, err = io.ReadAll(stdin)
		default:
			src.name = *file
			script, err = os.ReadFile(*file)
		}
		if err == nil {
			src.statements, err = split(*url, src.name, string(script))
		}
		if err != nil {
			fmt.Fprintln(stderr, errorLine(err))
			return exitError
		}
	}
	if err := run(ctx, *url, src, out, report, opts...); err != nil {
		fmt.Fprintln(stderr, errorLine(err))
		return exitError
	}
	return exitOK
}

// split splits a script by the lexical rules of the database the URL opens,
// MySQL's sql_mode included.
func split(url, name, script string) ([]statement, error) {
	d, mode, err := databases.ScanDialect(url)
	if err != nil {
		return nil, err
	}
	statements, err := splitScript(script, d, mode)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return statements, nil
}

// errorLine is how the command reports an error: after its name, which the
// package's own errors already start with.
func errorLine(err error) string {
	return "databases: " + strings.TrimPrefix(err.Error(), "databases: ")
}

// A source is the statements to run and the script they come from ("" for
// statements given as arguments).
type source struct {
	name       string
	statements []statement
}

// run executes the statements in order on one connection, so that a
// transaction or temporary table spans them, and stops at the first error.
// With insights on, their table goes to report at the end.
func run(ctx context.Context, url string, src source, out formatter, report io.Writer, opts ...databases.Option) error {
	db, err := databases.Open(url, opts...)
	if err != nil {
		return err
	}
	defer db.Close()
	if ins := databases.Insights(db); ins != nil && report != nil {
		ctx = insights.Scope(ctx)
		defer func() {
			fmt.Fprintln(report, "insights:")
			ins.WriteText(report, 0)
		}()
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for i, st := range src.statements {
		if err := runOne(ctx, conn, st.Text, out); err != nil {
			return statementError(src.name, i+1, st, err)
		}
	}
	return nil
}

// statementError names the failing statement: its number, and in a script
// the file and line, or the line and column of a placeholder error.
func statementError(script string, n int, st statement, err error) error {
	if script == "" {
		return fmt.Errorf("statement %d: %w", n, err)
	}
	line, col := st.Line, 0
	if re := (*rewrite.Error)(nil); errors.As(err, &re) && re.Offset >= 0 && re.Offset <= len(st.Text) {
		before := st.Text[:re.Offset]
		line += strings.Count(before, "\n")
		col = 1 + len(before) - (strings.LastIndexByte(before, '\n') + 1)
	}
	if col > 0 {
		return fmt.Errorf("statement %d (%s:%d:%d): %w", n, script, line, col, err)
	}
	return fmt.Errorf("statement %d (%s:%d): %w", n, script, line, err)
}

// runOne runs one statement and writes its result sets. Every statement
// runs as a query: whether it returns rows is the driver's answer (a result
// set has columns), not a guess from the statement's text. database/sql
// counts the rows affected only for Exec, which cannot tell, so a statement
// without a result set is reported as done, without a count.
func runOne(ctx context.Context, c *sql.Conn, stmt string, out formatter) error {
	rows, err := c.QueryContext(ctx, stmt)
	if err != nil {
		return err
	}
	defer rows.Close()
	sets := 0
	for {
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		if len(cols) > 0 {
			sets++
			if err := out.Rows(rows); err != nil {
				return err
			}
		}
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if sets == 0 {
		return out.Done()
	}
	return nil
}

// spanPrinter writes one line per finished span: name, duration, status and
// attributes.
type spanPrinter struct{ w io.Writer }

func (p spanPrinter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (p spanPrinter) Shutdown(context.Context) error                  { return nil }
func (p spanPrinter) ForceFlush(context.Context) error                { return nil }

func (p spanPrinter) OnEnd(s sdktrace.ReadOnlySpan) {
	var b strings.Builder
	fmt.Fprintf(&b, "span %q %v", s.Name(), s.EndTime().Sub(s.StartTime()).Round(time.Microsecond))
	if st := s.Status(); st.Code != 0 {
		fmt.Fprintf(&b, " status=%s %q", st.Code, st.Description)
	}
	for _, a := range s.Attributes() {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
	}
	fmt.Fprintln(p.w, b.String())
}
