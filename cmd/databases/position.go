package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/go-databases/databases/rewrite"
	"github.com/go-databases/databases/sqlscan"
)

// A stmtError is a statement that failed: its number in the run, where it
// is (the file, argument or prompt, line and column of the error when the
// database or the rewriter says where), and the line of the statement with
// a caret under that column.
type stmtError struct {
	n       int
	where   string
	context string // "" or the line and the caret, each on a line of its own
	err     error
}

func (e *stmtError) Error() string {
	return fmt.Sprintf("statement %d (%s): %v%s", e.n, e.where, e.err, e.context)
}

func (e *stmtError) Unwrap() error { return e.err }

// statementError names the failing statement of src: its number, and where
// in src the error is.
func statementError(src string, n int, st statement, err error) error {
	line, col := errorPosition(err, st.Text)
	e := &stmtError{n: n, err: err}
	if line == 0 {
		e.where = where(src, st.Line, 0)
		return e
	}
	e.where = where(src, st.Line+line-1, col)
	if col > 0 {
		text := strings.Split(st.Text, "\n")[line-1]
		pad := strings.Map(func(r rune) rune {
			if r == '\t' {
				return r
			}
			return ' '
		}, string([]rune(text)[:min(col-1, utf8.RuneCountInString(text))]))
		e.context = "\n  " + text + "\n  " + pad + "^"
	}
	return e
}

// where names a place in a source: file:line:column for a script,
// "argument 2, line 3, column 4" for an argument, "line 3, column 4" at
// the prompt. A column of 0 is unknown and left out.
func where(src string, line, col int) string {
	switch {
	case src != "" && !strings.HasPrefix(src, "argument "):
		if col > 0 {
			return fmt.Sprintf("%s:%d:%d", src, line, col)
		}
		return fmt.Sprintf("%s:%d", src, line)
	case col > 0:
		return strings.TrimPrefix(fmt.Sprintf("%s, line %d, column %d", src, line, col), ", ")
	default:
		return strings.TrimPrefix(fmt.Sprintf("%s, line %d", src, line), ", ")
	}
}

// errorPosition returns where in the statement text an error is, as a line
// and a column (in characters) from 1, when the error says: a placeholder
// error's byte offset, PostgreSQL's position, MySQL's "at line N" (a line,
// column 0), SQLite's `near "token"` when the token is in the text once outside comments.
// It returns 0, 0 when the error does not say.
func errorPosition(err error, text string) (line, col int) {
	if re := (*rewrite.Error)(nil); errors.As(err, &re) && re.Offset >= 0 && re.Offset <= len(text) {
		return lineCol(text, re.Offset)
	}
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Position > 0 {
		// A character position, from 1, in the query sent: the text as
		// written, since the runner passes no arguments.
		off, k := len(text), 0
		for i := range text {
			if k++; k == int(pe.Position) {
				off = i
				break
			}
		}
		return lineCol(text, off)
	}
	if me := (*mysql.MySQLError)(nil); errors.As(err, &me) {
		if m := mysqlLine.FindStringSubmatch(me.Message); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= strings.Count(text, "\n")+1 {
				return n, 0
			}
		}
		return 0, 0
	}
	if m := sqliteNear.FindStringSubmatch(err.Error()); m != nil && m[1] != "" {
		if off := sqliteToken(text, m[1]); off >= 0 {
			return lineCol(text, off)
		}
	}
	return 0, 0
}

// sqliteToken returns the byte offset of the one token of text, outside
// comments, that is tok (SQLite's near "…" names a token as written), or,
// when no token is, of tok when it is in the text once; -1 when it cannot
// tell.
func sqliteToken(text, tok string) int {
	off, n := -1, 0
	s := sqlscan.New(sqlscan.SQLite, 0, text)
	for t := s.Next(); t.Kind != sqlscan.EOF; t = s.Next() {
		if t.Kind != sqlscan.Comment && text[t.Start:t.End] == tok {
			off, n = t.Start, n+1
		}
	}
	switch {
	case n == 1:
		return off
	case n == 0 && strings.Count(text, tok) == 1:
		return strings.Index(text, tok)
	}
	return -1
}

var (
	mysqlLine  = regexp.MustCompile(` at line (\d+)$`)
	sqliteNear = regexp.MustCompile(`near "([^"]+)": syntax error`)
)

// lineCol returns the line and column (in characters) of byte offset off
// in text, from 1.
func lineCol(text string, off int) (line, col int) {
	before := text[:off]
	start := strings.LastIndexByte(before, '\n') + 1
	return 1 + strings.Count(before, "\n"), 1 + utf8.RuneCountInString(before[start:])
}
