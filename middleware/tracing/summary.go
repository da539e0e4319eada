package tracing

import "github.com/go-databases/databases/sqlscan"

// summary is what a span name and the metric attributes take from a query.
// Both fields are substrings of the query, as written: no case is changed
// and nothing is allocated.
type summary struct {
	operation  string // the first keyword: "SELECT", "insert", "WITH"
	collection string // the first table named after FROM, INTO, UPDATE or TABLE
}

// summarize reads the first keyword of q and the first table that follows
// FROM, INTO, UPDATE or TABLE, with the lexical rules of package sqlscan:
// comments, literals and quoted names are tokens of their own. A table
// named at the top level of the statement wins over one inside
// parentheses, so "SELECT EXTRACT(YEAR FROM d) FROM t" gives t. It runs in
// one pass over q and allocates nothing.
func summarize(q string, d sqlscan.Dialect, mode sqlscan.Mode) summary {
	var (
		s      = sqlscan.New(d, mode, q)
		sum    summary
		nested string // first table found inside parentheses
		depth  int
	)
	for {
		tok := s.Next()
		switch tok.Kind {
		case sqlscan.EOF:
			if sum.collection == "" {
				sum.collection = nested
			}
			return sum
		case sqlscan.Punct:
			switch q[tok.Start] {
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			}
		case sqlscan.Word:
			w := q[tok.Start:tok.End]
			if sum.operation == "" {
				if w[0] == '@' {
					continue // a MySQL variable, not a keyword
				}
				sum.operation = w
			}
			if !tableKeyword(w) || tok.Start > 0 && q[tok.Start-1] == '@' {
				continue // not a keyword, or a name such as @from
			}
			name := tableName(&s, equalFold(w, "FROM"))
			if name == "" {
				continue
			}
			if depth == 0 {
				sum.collection = name
				return sum
			}
			if nested == "" {
				nested = name
			}
		}
	}
}

// tableKeyword reports whether a table name follows w.
func tableKeyword(w string) bool {
	return equalFold(w, "FROM") || equalFold(w, "INTO") || equalFold(w, "UPDATE") || equalFold(w, "TABLE")
}

// skippedWord reports whether w may stand between a table keyword and the
// table: TABLE IF NOT EXISTS t, FROM ONLY t, UPDATE LOW_PRIORITY IGNORE t,
// FROM LATERAL (…).
func skippedWord(w string) bool {
	switch len(w) {
	case 2:
		return equalFold(w, "IF")
	case 3:
		return equalFold(w, "NOT")
	case 4:
		return equalFold(w, "ONLY")
	case 6:
		return equalFold(w, "EXISTS") || equalFold(w, "IGNORE")
	case 7:
		return equalFold(w, "LATERAL")
	case 12:
		return equalFold(w, "LOW_PRIORITY")
	}
	return false
}

// next returns the next token of s that is not a comment.
func next(s *sqlscan.Scanner) sqlscan.Token {
	for {
		if t := s.Next(); t.Kind != sqlscan.Comment {
			return t
		}
	}
}

// tableName reads the table name that follows a table keyword: one or more
// bare or quoted names joined by dots. It returns "" when something else
// follows, a subquery for one, or after FROM a function call such as
// generate_series(1, 3); s is then where it was. A single quoted name loses
// its quotes; a qualified name is returned as written.
func tableName(s *sqlscan.Scanner, from bool) string {
	q := s.Text()
	start := *s
	tok := next(s)
	for tok.Kind == sqlscan.Word && skippedWord(q[tok.Start:tok.End]) {
		start = *s
		tok = next(s)
	}
	if !isName(tok) {
		*s = start
		return ""
	}
	first, last := tok, tok
	for {
		save := *s
		if dot := next(s); dot.Kind != sqlscan.Punct || q[dot.Start] != '.' {
			*s = save
			break
		}
		t := next(s)
		if !isName(t) {
			*s = save
			break
		}
		last = t
	}
	if from {
		save := *s
		t := next(s)
		*s = save
		if t.Kind == sqlscan.Punct && q[t.Start] == '(' {
			return ""
		}
	}
	if first == last && first.Kind == sqlscan.Ident {
		if inner, ok := unquote(q[first.Start:first.End]); ok {
			return inner
		}
	}
	return q[first.Start:last.End]
}

// isName reports whether t is a bare or quoted name.
func isName(t sqlscan.Token) bool {
	return t.Kind == sqlscan.Word || t.Kind == sqlscan.Ident
}

// unquote returns the name inside "…", `…` or […] when it holds no quote
// of its own (which would be doubled); ok is false otherwise.
func unquote(id string) (string, bool) {
	if len(id) < 2 {
		return "", false
	}
	open, closing := id[0], id[0]
	switch open {
	case '"', '`':
	case '[':
		closing = ']'
	default:
		return "", false // U&"…"
	}
	inner := id[1 : len(id)-1]
	if id[len(id)-1] != closing || containsByte(inner, closing) {
		return "", false
	}
	return inner, true
}

// commentable reports whether a sqlcommenter comment may be appended to q:
// sqlcommenter leaves a query that has a comment of its own as it is, and
// so does this package, with sqlscan deciding what is a comment. A query
// left open (an unterminated literal or comment) gets none either: the
// appended comment could close it and change what the query means, as in
// MySQL's SELECT 1 /* open, which the comment's */ would complete.
func commentable(q string, d sqlscan.Dialect, mode sqlscan.Mode) bool {
	s := sqlscan.New(d, mode, q)
	for {
		switch s.Next().Kind {
		case sqlscan.EOF:
			return s.Err() == nil
		case sqlscan.Comment:
			return false
		}
	}
}

// equalFold compares w with an upper-case ASCII keyword, ignoring case.
func equalFold(w, upper string) bool {
	if len(w) != len(upper) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}
