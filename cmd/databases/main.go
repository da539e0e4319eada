// Command databases runs SQL on any database URL and prints the results,
// as psql, mysql and usql do, on SQLite, PostgreSQL and MySQL/MariaDB alike:
//
//	databases [URL] [-c SQL]... [-f FILE] [-format table|csv|json] [-log LEVEL] [-trace] [-insights] [SQL ...]
//
//	go install github.com/go-databases/databases/cmd/databases@latest
//	databases postgres://app@db/shop?sslmode=disable -c 'SELECT 1'
//	DATABASE_URL=mysql://root@127.0.0.1/test databases -f schema.sql
//	databases sqlite:///app.db          # a prompt, with line editing and history
//
// The URL is the first argument, -url, $DATABASE_URL or sqlite:///:memory:,
// in that order. SQL comes from -c, the arguments, -f FILE or standard
// input, split into statements by the URL's dialect; every statement runs
// on one connection, and its result shows as soon as it ends. Without SQL
// and with a terminal on standard input it prompts; \? lists the commands
// (\dt, \d TABLE, \l, \q). An error names the statement, and the line and
// column where the database or the placeholder rewrite places it.
//
// Exit status: 0 when every statement ran (or the prompt ended), 1 for an
// SQL or runtime error (a script stops at the first), 2 for a usage error.
//
// The whole reference, output formats included, is docs/runner.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-databases/databases"
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

// defaultURL is the database when neither an argument, -url nor
// DATABASE_URL names one.
const defaultURL = "sqlite:///:memory:"

// cli runs the command with its arguments and returns the exit status.
func cli(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("databases", flag.ContinueOnError)
	fs.SetOutput(stderr)
	urlFlag := fs.String("url", "", "database `URL`, as the first argument can give it")
	var commands stringList
	fs.Var(&commands, "c", "run `SQL` (statements separated by ';', or one \\ command) and exit; may be repeated")
	file := fs.String("f", "", "run the script in `FILE` (- for standard input)")
	format := fs.String("format", "table", "output `format`: table, csv or json")
	logLevel := fs.String("log", "", "log every driver call to standard error from this `level` (debug, info, warn, error)")
	traced := fs.Bool("trace", false, "print every finished OpenTelemetry span to standard error")
	withInsights := fs.Bool("insights", false, "print what each query cost (calls, errors, latencies, rows) to standard error at the end")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: databases [URL] [-c SQL]... [-f FILE] [-format table|csv|json] [-log LEVEL] [-trace] [-insights] [SQL ...]\n\n"+
			"The URL is the first argument, -url, $DATABASE_URL or %s, in that order.\n"+
			"SQL from -c, arguments, -f or standard input is split at each ';' outside quotes and comments.\n"+
			"Without SQL and with a terminal on standard input, it prompts (\\? for help, \\q to quit).\n"+
			"Exit status: 0 ok, 1 SQL or runtime error, 2 usage error.\n\n", defaultURL)
		fs.PrintDefaults()
	}
	positional, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "databases: "+format+"\n", a...)
		return exitUsage
	}
	url := *urlFlag
	if len(positional) > 0 && isURL(positional[0]) {
		if url != "" {
			return usage("give the URL as an argument or with -url, not both")
		}
		url, positional = positional[0], positional[1:]
	}
	if url == "" {
		url = os.Getenv("DATABASE_URL")
	}
	if url == "" {
		url = defaultURL
	}
	out := newFormatter(*format, stdout)
	if out == nil {
		return usage("-format %q: want %s", *format, strings.Join(formats, ", "))
	}
	if n := btoi(*file != "") + btoi(len(positional) > 0) + btoi(len(commands) > 0); n > 1 {
		return usage("give one of -c, -f or SQL arguments, not both")
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

	s, err := openSession(ctx, url, out, stdout, report, opts...)
	if err != nil {
		fmt.Fprintln(stderr, errorLine(err))
		return exitError
	}
	defer s.close()
	switch {
	case len(commands) > 0 || len(positional) > 0:
		err = s.runArguments(ctx, append(commands, positional...))
	case *file != "" && *file != "-":
		var f *os.File
		if f, err = os.Open(*file); err == nil {
			err = s.runScript(ctx, *file, f)
			f.Close()
		}
	case *file == "" && isTerminal(stdin):
		return s.interactive(ctx, stdout, stderr)
	default:
		err = s.runScript(ctx, "stdin", stdin)
	}
	if err != nil && !errors.Is(err, errQuit) {
		fmt.Fprintln(stderr, errorLine(err))
		return exitError
	}
	return exitOK
}

// parseArgs parses the flags before and after a URL argument, as usql
// takes them (databases postgres://… -c 'SELECT 1'), and returns the
// arguments that are not flags: the URL, if one comes first, and the SQL
// arguments, which end the flags (SQL may start with "--").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	flags, rest := cutAtSQL(args)
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	rest = append(fs.Args(), rest...)
	if len(rest) == 0 || !isURL(rest[0]) || len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
		return rest, nil
	}
	flags, after := cutAtSQL(rest[1:])
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return append(append([]string{rest[0]}, fs.Args()...), after...), nil
}

// cutAtSQL cuts args before the first that starts with an SQL comment
// ("-- …", "--\n") and is not the value of a flag, which the flag package
// would take for a flag.
func cutAtSQL(args []string) (flags, sql []string) {
	for i, a := range args {
		isValue := i > 0 && slices.Contains([]string{"c", "f", "url", "format", "log"}, strings.TrimLeft(args[i-1], "-"))
		if !isValue && len(a) > 2 && strings.HasPrefix(a, "--") && strings.ContainsRune(" \t\r\n", rune(a[2])) {
			return args[:i], args[i:]
		}
	}
	return args, nil
}

// isURL reports whether an argument is a URL rather than SQL: a scheme and
// "://" (no statement starts that way).
func isURL(arg string) bool {
	scheme, _, ok := strings.Cut(arg, "://")
	return ok && scheme != "" && !strings.ContainsFunc(scheme, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
	})
}

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, "; ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isTerminal reports whether r is a terminal, where a person types.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
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

// run executes the statements of src in order on one connection, so that a
// transaction or temporary table spans them, and stops at the first error.
// With insights on, their table goes to report at the end.
func run(ctx context.Context, url string, src source, out formatter, report io.Writer, opts ...databases.Option) error {
	s, err := openSession(ctx, url, out, io.Discard, report, opts...)
	if err != nil {
		return err
	}
	defer s.close()
	for _, st := range src.statements {
		if err := s.exec(ctx, src.name, st); err != nil {
			return err
		}
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
