// Command databases runs SQL against any database URL and prints the
// results as aligned tables.
//
//	go run ./cmd/databases "CREATE TABLE t (x)" "INSERT INTO t VALUES (1), (2)" "SELECT * FROM t"
//	echo "SELECT 1;" | go run ./cmd/databases -url postgres://postgres@127.0.0.1/test
//
// Each argument is one statement. Without arguments, statements are read
// from standard input, each ending with a ';' at the end of a line. The
// default URL is sqlite:///:memory:. -log LEVEL writes a log record per
// driver call to standard error, -trace a line per finished span.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases"
)

func main() {
	url := flag.String("url", "sqlite:///:memory:", "database URL")
	logLevel := flag.String("log", "", "log every driver call to standard error from this level (debug, info, warn, error)")
	traced := flag.Bool("trace", false, "print every finished OpenTelemetry span to standard error")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: databases [-url URL] [-log LEVEL] [-trace] [SQL ...]\n\nWithout SQL arguments, statements are read from standard input, each ending with ';' at the end of a line.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	var opts []databases.Option
	if *logLevel != "" {
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			fmt.Fprintf(os.Stderr, "databases: -log %q: want debug, info, warn or error\n", *logLevel)
			os.Exit(2)
		}
		opts = append(opts, databases.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))))
	}
	if *traced {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spanPrinter{os.Stderr}))
		defer tp.Shutdown(context.Background())
		opts = append(opts, databases.WithTracerProvider(tp))
	}
	statements := flag.Args()
	if len(statements) == 0 {
		var err error
		if statements, err = readStatements(os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "databases:", err)
			os.Exit(2)
		}
	}
	if err := run(context.Background(), *url, statements, os.Stdout, opts...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run executes the statements in order on one connection, so that a
// transaction or temporary table spans them, and stops at the first error.
func run(ctx context.Context, url string, statements []string, out io.Writer, opts ...databases.Option) error {
	db, err := databases.Open(url, opts...)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for i, stmt := range statements {
		if err := runOne(ctx, conn, stmt, out); err != nil {
			return fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	return nil
}

// returnsRows tells a statement whose result is a table from one whose
// result is a count of affected rows.
func returnsRows(stmt string) bool {
	word := strings.ToUpper(strings.TrimLeft(stmt, " \t\r\n("))
	if i := strings.IndexAny(word, " \t\r\n("); i >= 0 {
		word = word[:i]
	}
	switch word {
	case "SELECT", "WITH", "VALUES", "SHOW", "PRAGMA", "EXPLAIN", "DESCRIBE", "DESC", "TABLE":
		return true
	}
	return strings.Contains(strings.ToUpper(stmt), "RETURNING")
}

func runOne(ctx context.Context, conn *sql.Conn, stmt string, out io.Writer) error {
	if !returnsRows(stmt) {
		res, err := conn.ExecContext(ctx, stmt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil {
			fmt.Fprintf(out, "%d %s affected\n", n, plural(n, "row"))
		} else {
			fmt.Fprintln(out, "ok")
		}
		return nil
	}
	rows, err := conn.QueryContext(ctx, stmt)
	if err != nil {
		return err
	}
	defer rows.Close()
	return printTable(rows, out)
}

// printTable writes a result set as aligned columns with a header and a
// row count.
func printTable(rows *sql.Rows, out io.Writer) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(cols, "\t"))
	rule := make([]string, len(cols))
	for i, c := range cols {
		rule[i] = strings.Repeat("-", max(len(c), 1))
	}
	fmt.Fprintln(w, strings.Join(rule, "\t"))
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		cells := make([]string, len(values))
		for i, v := range values {
			cells[i] = format(v)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "(%d %s)\n", n, plural(n, "row"))
	return nil
}

func format(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return `\x` + hex.EncodeToString(v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(v)
	}
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// readStatements splits a script into statements at lines ending in ';'.
// A final statement without ';' is kept.
func readStatements(r io.Reader) ([]string, error) {
	var statements []string
	var cur strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		cur.WriteString(line)
		cur.WriteByte('\n')
		if trimmed := strings.TrimSpace(line); strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"); strings.TrimSpace(s) != "" {
				statements = append(statements, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		statements = append(statements, s)
	}
	return statements, sc.Err()
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
