package rewrite

import (
	"fmt"
	"testing"

	"github.com/go-databases/databases/sqlscan"
)

// The rewrite lexer and package sqlscan each encode every dialect's quotes
// and comments: the lexer fast, for rewriting, sqlscan for everything else
// that reads SQL (transaction control, span names, sanitising). They must
// agree on which bytes are inside a literal, a quoted identifier or a
// comment: FuzzQuoting checks it for every dialect the lexer reads
// (Postgres, and MySQL under every sql_mode; SQLite is never lexed).

// quotedSpan is a literal, quoted identifier or comment: the byte span of
// its quoted part, from the opening quote or comment delimiter, without the
// prefix of E'…', X'…', U&'…' or MySQL's @'…'.
type quotedSpan struct{ start, end int }

// lexerSpans returns the quoted spans of the rewrite lexer, and whether it
// failed (an unterminated literal or comment).
func lexerSpans(g lang, q string) ([]quotedSpan, bool) {
	toks, err := lexAll(g, q)
	var spans []quotedSpan
	for _, tk := range toks {
		switch tk.kind {
		case tokString, tokIdent, tokComment:
			spans = append(spans, quotedSpan{tk.start, tk.end})
		}
	}
	return spans, err != nil
}

// scanSpans returns the quoted spans of sqlscan, and whether it failed.
// The token an error ends with is left out, as the lexer leaves it out.
func scanSpans(g lang, q string) ([]quotedSpan, bool) {
	s := sqlscan.New(g.d, g.m, q)
	var spans []quotedSpan
	for {
		tk := s.Next()
		if tk.Kind == sqlscan.EOF {
			break
		}
		switch tk.Kind {
		case sqlscan.String, sqlscan.Ident, sqlscan.Comment, sqlscan.Word:
			start := tk.Start
			if tk.Kind != sqlscan.Comment {
				// The quote after a prefix; a Word is quoted only as
				// MySQL's @'…', @"…" or @`…`.
				for start < tk.End && q[start] != '\'' && q[start] != '"' && q[start] != '`' && q[start] != '$' {
					start++
				}
				if start == tk.End || tk.Kind == sqlscan.Word && q[start] == '$' {
					continue
				}
			}
			spans = append(spans, quotedSpan{start, tk.End})
		}
	}
	failed := s.Err() != nil
	if failed && len(spans) > 0 && spans[len(spans)-1].end == len(q) {
		spans = spans[:len(spans)-1]
	}
	return spans, failed
}

// checkQuoting fails t when the lexer and sqlscan disagree on q.
func checkQuoting(t *testing.T, g lang, q string) {
	t.Helper()
	lex, lexFailed := lexerSpans(g, q)
	scan, scanFailed := scanSpans(g, q)
	if lexFailed != scanFailed {
		t.Fatalf("%s %q: the lexer fails %v, sqlscan fails %v\nlexer:   %s\nsqlscan: %s", g, q, lexFailed, scanFailed, showSpans(q, lex), showSpans(q, scan))
	}
	if lexFailed {
		// Both stop at an unterminated literal or comment; what came before
		// it must agree, up to the shorter list.
		n := min(len(lex), len(scan))
		lex, scan = lex[:n], scan[:n]
	}
	if fmt.Sprint(lex) != fmt.Sprint(scan) {
		t.Fatalf("%s %q: quoted spans differ\nlexer:   %s\nsqlscan: %s", g, q, showSpans(q, lex), showSpans(q, scan))
	}
}

func showSpans(q string, spans []quotedSpan) string {
	out := ""
	for _, s := range spans {
		out += fmt.Sprintf("[%d,%d)%q ", s.start, s.end, q[s.start:s.end])
	}
	return out
}

// quotingCases are inputs where the two readers could part: prefixes,
// identifiers that run into quotes or dollars, comment forms, escapes.
var quotingCases = []string{
	`SELECT 'it''s', E'a\'b', e'\\', x'1F', B'01', N'n', U&'d\0061', U&"i"`,
	`SELECT $$a$$, $t$ $$ $t$, a$$b$$, 1$$x$$, $1$$y$$, x$1`,
	`SELECT "a""b", ` + "`c``d`" + `, 'x\\' -- c` + "\r\n" + `/* a /* b */ c */ 1`,
	"SELECT 1 # c\n, 2 -- c\n, 3--1, /*! STRAIGHT_JOIN */ a, /*!50001 b */, /*M!100100 c */",
	`SELECT @'v', @"w", @` + "`x`" + `, @@session.y, :name, ?, ??, $1`,
	`SELECT "a\"b" FROM t WHERE s = 'x\'y' AND t = "z"`,
	`SELECT E'x' FROM t WHERE a = 1e'y' OR b = é'z' OR c = _utf8mb4'w'`,
	`SELECT a[1:2], b::int, c @? '$.a', d <@ e, @id`,
	`/* unterminated`, `'unterminated`, `$a$ unterminated`, `/*! unterminated exec`,
}

func TestQuotingAgrees(t *testing.T) {
	for _, q := range append(quotingCases, rewriteInputs()...) {
		for _, g := range langs {
			checkQuoting(t, g, q)
		}
	}
}

// rewriteInputs are the inputs of the rewrite and IN-list tables.
func rewriteInputs() []string {
	var qs []string
	for _, tc := range rewriteCases {
		qs = append(qs, tc.in)
	}
	for _, tc := range listCases {
		qs = append(qs, tc.in)
	}
	return qs
}

// FuzzQuoting checks that the rewrite lexer and sqlscan agree on where
// every literal, quoted identifier and comment starts and ends, for
// Postgres and for MySQL under every sql_mode.
func FuzzQuoting(f *testing.F) {
	for _, q := range append(quotingCases, rewriteInputs()...) {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, g := range langs {
			checkQuoting(t, g, q)
		}
	})
}
