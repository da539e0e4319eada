package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/insights"
	"github.com/go-databases/databases/sqlscan"
)

// A session is one connection of the database the URL opens, on which every
// statement of the run executes in order, so that a transaction, session
// settings and temporary tables span them.
type session struct {
	url     string // masked
	db      *sql.DB
	conn    *sql.Conn
	dialect sqlscan.Dialect
	mode    sqlscan.Mode
	out     formatter
	stdout  io.Writer // where \? writes
	n       int       // statements run so far
	report  func()    // writes the insights table, at close
}

// openSession opens the database and takes one connection of it. With
// report set and insights among opts, the table of queries goes there when
// the session closes.
func openSession(ctx context.Context, url string, out formatter, stdout, report io.Writer, opts ...databases.Option) (*session, error) {
	d, mode, err := databases.ScanDialect(url)
	if err != nil {
		return nil, err
	}
	db, err := databases.Open(url, opts...)
	if err != nil {
		return nil, err
	}
	s := &session{url: databases.RedactURL(url), db: db, dialect: d, mode: mode, out: out, stdout: stdout, report: func() {}}
	if ins := databases.Insights(db); ins != nil && report != nil {
		ctx = insights.Scope(ctx)
		s.report = func() {
			fmt.Fprintln(report, "insights:")
			ins.WriteText(report, 0)
		}
	}
	if s.conn, err = db.Conn(ctx); err != nil {
		s.report()
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() {
	s.conn.Close()
	s.report()
	s.db.Close()
}

// exec runs one statement, or a \ command, of the source named src ("" for
// the interactive prompt, "argument N" for an argument, else a file), and
// names it in an error.
func (s *session) exec(ctx context.Context, src string, st statement) error {
	if isMeta(st.Text) {
		if err := s.meta(ctx, st.Text); err != nil && !errors.Is(err, errQuit) {
			return fmt.Errorf("%s: %w", where(src, st.Line, 0), err)
		} else if err != nil {
			return err
		}
		return nil
	}
	s.n++
	if err := runOne(ctx, s, st.Text); err != nil {
		return statementError(src, s.n, st, err)
	}
	return nil
}

// runArguments runs each argument (of -c or after the URL): one \ command,
// or statements split at each ';' by the dialect's rules.
func (s *session) runArguments(ctx context.Context, args []string) error {
	for i, arg := range args {
		src := fmt.Sprintf("argument %d", i+1)
		if isMeta(arg) {
			if err := s.exec(ctx, src, statement{Text: strings.TrimSpace(arg), Line: 1}); err != nil {
				return err
			}
			continue
		}
		statements, err := splitScript(arg, s.dialect, s.mode)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		for _, st := range statements {
			if err := s.exec(ctx, src, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// runScript reads a script line by line and runs each statement as soon as
// its ';' is read, so results show as each statement ends; the first error
// stops it.
func (s *session) runScript(ctx context.Context, name string, r io.Reader) error {
	f := &feeder{s: s, src: name, next: 1}
	if err := readLines(r, func(line string) error { return f.add(ctx, line) }); err != nil {
		return err
	}
	return f.end(ctx)
}

// readLines calls f with each line of r, without its line ending.
func readLines(r io.Reader, f func(line string) error) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" || err == nil {
			if err := f(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// A feeder takes a script a line at a time and runs each statement whose
// ';' has been read; a line that starts with '\' between statements is a
// command.
type feeder struct {
	s     *session
	src   string
	buf   string   // text of statements not yet ended
	line  int      // line of the script where buf starts
	next  int      // line of the next line given
	typed []string // lines given since buf was last empty, for history
	// perStatement numbers lines from each statement's first, as the
	// prompt wants: there the lines of a session are not a file's.
	perStatement bool
}

// add takes one line.
func (f *feeder) add(ctx context.Context, text string) error {
	f.typed = append(f.typed, text)
	if strings.TrimSpace(f.buf) == "" && isMeta(text) {
		f.buf = ""
		line := f.next
		f.next++
		return f.s.exec(ctx, f.src, statement{Text: strings.TrimSpace(text), Line: line})
	}
	if f.perStatement && strings.TrimSpace(f.buf) == "" {
		f.buf, f.next = "", 1
	}
	if f.buf == "" {
		f.line = f.next
	}
	f.buf += text + "\n"
	f.next++
	k := terminated(f.buf, f.s.dialect, f.s.mode)
	if k == 0 {
		return nil
	}
	done, base := f.buf[:k], f.line
	f.buf = f.buf[k:]
	f.line += strings.Count(done, "\n")
	statements, err := splitScript(done, f.s.dialect, f.s.mode)
	if err != nil {
		return f.scriptError(err, base)
	}
	for _, st := range statements {
		st.Line += base - 1
		if err := f.s.exec(ctx, f.src, st); err != nil {
			return err
		}
	}
	return nil
}

// end runs what is left at the end of the script: a last statement without
// ';', or an error for an unterminated quote or comment.
func (f *feeder) end(ctx context.Context) error {
	rest, base := f.buf, f.line
	f.buf = ""
	statements, err := splitScript(rest, f.s.dialect, f.s.mode)
	if err != nil {
		return f.scriptError(err, base)
	}
	for _, st := range statements {
		st.Line += base - 1
		if err := f.s.exec(ctx, f.src, st); err != nil {
			return err
		}
	}
	return nil
}

// pending reports whether a statement has begun and not ended.
func (f *feeder) pending() bool { return strings.TrimSpace(f.buf) != "" }

// reset drops a statement begun and not ended.
func (f *feeder) reset() { f.buf, f.typed = "", nil }

// history returns what was typed for the statements that just ended, as one
// line, once: "" while a statement is still open.
func (f *feeder) history() string {
	if f.pending() || len(f.typed) == 0 {
		return ""
	}
	h := strings.TrimSpace(strings.Join(f.typed, " "))
	f.typed = nil
	return h
}

// scriptError places an unterminated quote or comment at its line of the
// whole script.
func (f *feeder) scriptError(err error, base int) error {
	var se *scriptError
	if errors.As(err, &se) {
		se.line += base - 1
	}
	if f.src == "" {
		return err
	}
	return fmt.Errorf("%s: %w", f.src, err)
}

// runOne runs one statement and writes its result sets. INSERT, UPDATE,
// DELETE, REPLACE and MERGE without RETURNING run as Exec, whose count of
// rows affected is printed (UPDATE 3); every other statement runs as a
// query, and the driver's answer decides what is printed: each result set
// (a MySQL CALL may return several) or, without one, "ok".
func runOne(ctx context.Context, s *session, stmt string) error {
	if verb := changeVerb(s.dialect, s.mode, stmt); verb != "" {
		res, err := s.conn.ExecContext(ctx, stmt)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.out.Done()
		}
		return s.out.Count(verb, n)
	}
	return s.query(ctx, stmt)
}

// query runs a query and writes its result sets, or "ok" when it has none.
func (s *session) query(ctx context.Context, q string, args ...any) error {
	rows, err := s.conn.QueryContext(ctx, q, args...)
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
			if err := s.out.Rows(rows); err != nil {
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
		return s.out.Done()
	}
	return nil
}

// changeVerb returns INSERT, UPDATE, DELETE, REPLACE or MERGE when stmt is
// one of those statements (its first word, comments aside) and has no
// RETURNING, so that it returns no rows and its count of rows affected is
// the answer; otherwise "".
func changeVerb(d sqlscan.Dialect, mode sqlscan.Mode, stmt string) string {
	sc := sqlscan.New(d, mode, stmt)
	verb := ""
	for t := sc.Next(); t.Kind != sqlscan.EOF; t = sc.Next() {
		if t.Kind == sqlscan.Comment {
			continue
		}
		word := strings.ToUpper(stmt[t.Start:t.End])
		if verb == "" {
			if t.Kind != sqlscan.Word || !isWord(word, "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE") {
				return ""
			}
			verb = word
			continue
		}
		if t.Kind == sqlscan.Word && word == "RETURNING" {
			return ""
		}
	}
	if sc.Err() != nil {
		return ""
	}
	return verb
}
