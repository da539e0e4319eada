package tracing

// flavor is what the query scanner needs to know about a dialect's lexical
// rules.
type flavor uint8

const (
	flavorSQLite   flavor = iota
	flavorPostgres        // nested /* */, E'…' escapes, $tag$…$tag$ strings
	flavorMySQL           // # comments, backslash escapes in strings
)

// flavorOf maps a middleware.Database dialect to its lexical flavor.
func flavorOf(dialect string) flavor {
	switch dialect {
	case "postgres":
		return flavorPostgres
	case "mysql":
		return flavorMySQL
	}
	return flavorSQLite
}

// summary is what a span name and the metric attributes take from a query.
// Both fields are substrings of the query, as written: no case is changed
// and nothing is allocated.
type summary struct {
	operation  string // the first keyword: "SELECT", "insert", "WITH"
	collection string // the first table named after FROM, INTO, UPDATE or TABLE
}

// summarize reads the first keyword of q and the first table that follows
// FROM, INTO, UPDATE or TABLE, skipping comments, string literals and quoted
// identifiers. A table named at the top level of the statement wins over one
// inside parentheses, so "SELECT EXTRACT(YEAR FROM d) FROM t" gives t. It
// runs in one pass over q and allocates nothing.
func summarize(q string, f flavor) summary {
	var (
		s      = scanner{q: q, f: f}
		sum    summary
		nested string // first table found inside parentheses
		depth  int
	)
	for {
		tok := s.next()
		switch tok.kind {
		case tokEOF:
			if sum.collection == "" {
				sum.collection = nested
			}
			return sum
		case tokPunct:
			switch q[tok.start] {
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			}
		case tokWord:
			w := q[tok.start:tok.end]
			if sum.operation == "" {
				sum.operation = w
			}
			if !tableKeyword(w) || tok.start > 0 && (q[tok.start-1] == ':' || q[tok.start-1] == '@') {
				continue // not a keyword, or a parameter such as :from
			}
			name := s.tableName(equalFold(w, "FROM"))
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

// tableName reads the table name that follows a table keyword: one or more
// bare or quoted identifiers joined by dots. It returns "" when something
// else follows, a subquery for one, or after FROM a function call such as
// generate_series(1, 3). A single quoted identifier loses its quotes; a
// qualified name is returned as written.
func (s *scanner) tableName(from bool) string {
	tok := s.next()
	for tok.kind == tokWord && skippedWord(s.q[tok.start:tok.end]) {
		tok = s.next()
	}
	if tok.kind != tokWord && tok.kind != tokQuoted {
		s.back(tok)
		return ""
	}
	first := tok
	last := tok
	for s.i < len(s.q) && s.q[s.i] == '.' {
		save := s.i
		s.i++
		t := s.next()
		if t.kind != tokWord && t.kind != tokQuoted {
			s.i = save
			break
		}
		last = t
	}
	if from {
		t := s.next()
		s.back(t)
		if t.kind == tokPunct && s.q[t.start] == '(' {
			return ""
		}
	}
	if first == last && first.kind == tokQuoted && first.end-first.start >= 2 {
		closing := s.q[first.start]
		if closing == '[' {
			closing = ']'
		}
		inner := s.q[first.start+1 : first.end-1]
		if s.q[first.end-1] == closing && !containsByte(inner, closing) {
			return inner
		}
	}
	return s.q[first.start:last.end]
}

type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokWord           // keyword or bare identifier
	tokQuoted         // "quoted", `quoted` or [quoted] identifier
	tokString         // string literal, including $tag$…$tag$
	tokPunct          // any other byte, including digits of numbers
)

type token struct {
	kind       tokKind
	start, end int
}

// scanner splits a query into the tokens the summary needs. Comments and
// white space are skipped; unterminated literals and comments run to the end
// of the query.
type scanner struct {
	q string
	i int
	f flavor
	// lineComment is set when the query ends inside a -- or # comment.
	lineComment bool
}

// back pushes tok back so that the next call to next returns it again.
func (s *scanner) back(tok token) {
	if tok.kind != tokEOF {
		s.i = tok.start
	}
}

func (s *scanner) next() token {
	q := s.q
	for s.i < len(q) {
		c := q[s.i]
		start := s.i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.i++
		case c == '-' && s.i+1 < len(q) && q[s.i+1] == '-',
			c == '#' && s.f == flavorMySQL:
			s.skipLine()
		case c == '/' && s.i+1 < len(q) && q[s.i+1] == '*':
			s.skipBlock()
		case c == '\'':
			s.skipQuoted('\'', s.f == flavorMySQL)
			return token{tokString, start, s.i}
		case c == '"' || c == '`':
			s.skipQuoted(c, s.f == flavorMySQL && c == '"')
			return token{tokQuoted, start, s.i}
		case c == '[' && s.f == flavorSQLite:
			s.skipQuoted(']', false)
			return token{tokQuoted, start, s.i}
		case c == '$' && s.f == flavorPostgres && s.dollarQuote():
			return token{tokString, start, s.i}
		case isWordStart(c):
			s.i++
			for s.i < len(q) && isWordByte(q[s.i]) {
				s.i++
			}
			if s.f == flavorPostgres && s.i-start == 1 && (c == 'E' || c == 'e') && s.i < len(q) && q[s.i] == '\'' {
				s.skipQuoted('\'', true)
				return token{tokString, start, s.i}
			}
			return token{tokWord, start, s.i}
		default:
			s.i++
			return token{tokPunct, start, s.i}
		}
	}
	return token{tokEOF, len(q), len(q)}
}

// skipLine skips a -- or # comment up to its newline.
func (s *scanner) skipLine() {
	for s.i < len(s.q) {
		if s.q[s.i] == '\n' {
			s.i++
			return
		}
		s.i++
	}
	s.lineComment = true
}

// skipBlock skips a /* */ comment; they nest on PostgreSQL.
func (s *scanner) skipBlock() {
	q := s.q
	s.i += 2
	depth := 1
	for s.i < len(q) {
		switch {
		case q[s.i] == '*' && s.i+1 < len(q) && q[s.i+1] == '/':
			s.i += 2
			if depth--; depth == 0 {
				return
			}
		case q[s.i] == '/' && s.i+1 < len(q) && q[s.i+1] == '*' && s.f == flavorPostgres:
			s.i += 2
			depth++
		default:
			s.i++
		}
	}
}

// skipQuoted skips from the opening byte at s.i to the closing byte end. A
// doubled closing byte stands for itself; with backslash, \x does too.
func (s *scanner) skipQuoted(end byte, backslash bool) {
	q := s.q
	s.i++
	for s.i < len(q) {
		c := q[s.i]
		switch {
		case backslash && c == '\\':
			s.i += 2
		case c == end:
			s.i++
			if end == ']' || s.i >= len(q) || q[s.i] != end {
				return
			}
			s.i++
		default:
			s.i++
		}
	}
	if s.i > len(q) {
		s.i = len(q)
	}
}

// dollarQuote skips a PostgreSQL $tag$…$tag$ string starting at s.i and
// reports whether there was one: $1 is a parameter, not a tag.
func (s *scanner) dollarQuote() bool {
	q := s.q
	j := s.i + 1
	if j < len(q) && isWordStart(q[j]) {
		for j < len(q) && isWordByte(q[j]) && q[j] != '$' {
			j++
		}
	}
	if j >= len(q) || q[j] != '$' {
		return false
	}
	tag := q[s.i : j+1]
	s.i = j + 1
	for k := s.i; k+len(tag) <= len(q); k++ {
		if q[k] == '$' && q[k:k+len(tag)] == tag {
			s.i = k + len(tag)
			return true
		}
	}
	s.i = len(q)
	return true
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isWordByte(c byte) bool {
	return isWordStart(c) || c >= '0' && c <= '9' || c == '$'
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
