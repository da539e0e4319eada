package rewrite

import (
	"github.com/go-databases/databases/sqlscan"

	"database/sql/driver"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzPostgres(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, q string) { checkQuery(t, lang{d: Postgres}, q) })
}

// FuzzMySQL lexes each input under every combination of the sql_mode flags.
func FuzzMySQL(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, q string) {
		for _, g := range mysqlLangs {
			checkQuery(t, g, q)
		}
	})
}

// lang is a dialect and, on MySQL, the sql_mode flags a query is lexed under.
type lang struct {
	d Dialect
	m sqlscan.Mode
}

func (g lang) String() string {
	if g.m == 0 {
		return g.d.String()
	}
	return g.d.String() + "[" + g.m.String() + "]"
}

// langs are every dialect that is lexed, MySQL under every sql_mode.
var (
	mysqlLangs = []lang{{MySQL, 0}, {MySQL, sqlscan.NoBackslashEscapes}, {MySQL, sqlscan.ANSIQuotes}, {MySQL, sqlscan.NoBackslashEscapes | sqlscan.ANSIQuotes}}
	langs      = append([]lang{{d: Postgres}}, mysqlLangs...)
)

// seed adds every query of the table, whatever its dialect: a MySQL query is
// an interesting Postgres input too.
func seed(f *testing.F) {
	for _, tc := range rewriteCases {
		f.Add(tc.in)
	}
	for _, tc := range listCases {
		f.Add(tc.in)
	}
}

func TestQueryProperties(t *testing.T) {
	// The fuzz properties also hold for every table query, in every dialect.
	for _, tc := range rewriteCases {
		for _, g := range langs {
			checkQuery(t, g, tc.in)
		}
	}
}

type token struct {
	kind       tokKind
	start, end int
}

// lexAll returns the tokens of the package lexer up to its error, if any.
func lexAll(g lang, q string) ([]token, *Error) {
	l := newLexer(g.d, g.m, q)
	var toks []token
	for {
		k, s, e, err := l.next()
		if err != nil {
			return toks, err
		}
		if k == tokEOF {
			return toks, nil
		}
		toks = append(toks, token{k, s, e})
	}
}

// checkQuery asserts what must hold for any query text:
//   - Parse does not panic, and its errors are *Error at a valid offset;
//   - the lexer agrees with refLex, a slow reference lexer written separately;
//   - the output is the input with only placeholder tokens replaced, by the
//     expected native placeholder, and the literals and comments of input and
//     output are the same byte for byte;
//   - Parse of the output is the identity (unless ?? made a bare ? on Postgres);
//   - the fast path for ? placeholders, when it applies, agrees with the
//     general parser;
//   - Bind accepts the arguments the query asks for, and maps them in order.
func checkQuery(t *testing.T, g lang, q string) {
	t.Helper()
	d := g.d
	checkSQLite(t, q)
	toks, lexErr := lexAll(g, q)
	ref, refErr := refLex(d, g.m, q)
	if !reflect.DeepEqual(toks, ref) && (len(toks) != 0 || len(ref) != 0) {
		t.Fatalf("%s %q: lexer tokens\n%v\nreference tokens\n%v", g, q, toks, ref)
	}
	if (lexErr == nil) != (refErr < 0) || lexErr != nil && lexErr.Offset != refErr {
		t.Fatalf("%s %q: lexer error %v, reference error at %d", g, q, lexErr, refErr)
	}

	checkFastPath(t, g, q)
	p, err := parseMode(d, g.m, q)
	if err != nil {
		var re *Error
		if !errors.As(err, &re) {
			t.Fatalf("%s %q: error %T is not *Error", g, q, err)
		}
		if lexErr != nil && *re == *lexErr {
			return
		}
		// Otherwise Parse stopped earlier, at a placeholder.
		for _, tk := range toks {
			if tk.start == re.Offset && isPlaceholder(tk.kind) {
				return
			}
		}
		t.Fatalf("%s %q: error %v is not at a placeholder", g, q, err)
	}
	if lexErr != nil {
		t.Fatalf("%s %q: Parse succeeded but the lexer fails: %v", g, q, lexErr)
	}
	checkOperation(t, d, q, p.Operation(), toks)
	out := p.Query()

	// Walk input and output together: plain text and literals are copied,
	// placeholders are replaced as the rules say.
	var (
		j, prev   int
		count     int      // positional ? in order
		escapes   int      // ?? tokens
		names     []string // distinct names in order of first use
		uses      []string // names in order of use
		grew      int      // bytes added by rewriting
		maxNative int
		bare      []int // offsets in out of the ? that ?? became
	)
	for _, tk := range toks {
		if !isPlaceholder(tk.kind) {
			continue
		}
		seg := q[prev:tk.start]
		if !strings.HasPrefix(out[j:], seg) {
			t.Fatalf("%s %q -> %q: text before offset %d changed", g, q, out, tk.start)
		}
		j += len(seg)
		text := q[tk.start:tk.end]
		repl := text
		switch tk.kind {
		case tokEscape:
			escapes++
			repl = "?"
			bare = append(bare, j)
		case tokPositional:
			count++
			if d == Postgres {
				repl = "$" + strconv.Itoa(count)
			}
		case tokNative:
			n, _ := strconv.Atoi(text[1:])
			maxNative = max(maxNative, n)
		case tokNamed:
			name := text[1:]
			k := indexOf(names, name)
			if k < 0 {
				k = len(names)
				names = append(names, name)
			}
			uses = append(uses, name)
			repl = "?"
			if d == Postgres {
				repl = "$" + strconv.Itoa(k+1)
			}
		}
		if repl != text {
			// The spacing rules: a Postgres $k never touches an identifier
			// byte; a MySQL ? never follows another ?.
			if d == Postgres && tk.kind != tokEscape {
				if j > 0 && isPGIdentByte(out[j-1]) {
					repl = " " + repl
				}
				if tk.end < len(q) && isPGIdentByte(q[tk.end]) {
					repl += " "
				}
			}
			if d == MySQL && j > 0 && out[j-1] == '?' {
				repl = " " + repl
			}
		}
		// A MySQL ? never touches an identifier byte after it either.
		if d == MySQL && (tk.kind == tokPositional || tk.kind == tokNamed) && tk.end < len(q) && isPGIdentByte(q[tk.end]) {
			repl += " "
		}
		if !strings.HasPrefix(out[j:], repl) {
			t.Fatalf("%s %q -> %q: token %q at %d should become %q", g, q, out, text, tk.start, repl)
		}
		grew += len(repl) - len(text)
		j += len(repl)
		prev = tk.end
	}
	if out[j:] != q[prev:] {
		t.Fatalf("%s %q -> %q: text after offset %d changed", g, q, out, prev)
	}
	if len(out) != len(q)+grew {
		t.Fatalf("%s %q -> %q: length %d, want %d", g, q, out, len(out), len(q)+grew)
	}
	switch {
	case d == MySQL && len(out) > len(q)+count+len(uses):
		t.Fatalf("mysql %q -> %q: output is longer than input plus a space per placeholder", q, out)
	case d == Postgres && len(names) == 0 && escapes == 0 && len(out) < len(q)+count:
		t.Fatalf("postgres %q -> %q: output shorter than input plus one byte per ?", q, out)
	}

	// Literals and comments are the same spans of bytes in the output. A ?
	// that ?? became is an operator there, as Postgres reads it, not the
	// placeholder the lexer would take it for: it is lexed as #, another
	// operator byte, which does not start a token either.
	lexed := out
	if len(bare) > 0 {
		b := []byte(out)
		for _, k := range bare {
			b[k] = '#'
		}
		lexed = string(b)
	}
	outToks, outErr := lexAll(g, lexed)
	if outErr != nil {
		t.Fatalf("%s %q -> %q: output does not lex: %v", g, q, out, outErr)
	}
	if in, o := spans(q, toks), spans(lexed, outToks); !reflect.DeepEqual(in, o) {
		t.Fatalf("%s %q -> %q: literals and comments changed:\n%q\n%q", g, q, out, in, o)
	}

	// The output is native: parsing it again changes nothing.
	if d == MySQL || escapes == 0 {
		p2, err := parseMode(d, g.m, out)
		if err != nil {
			t.Fatalf("%s %q -> %q: output does not parse: %v", g, q, out, err)
		}
		if p2.Query() != out {
			t.Fatalf("%s %q -> %q -> %q: rewriting the output changed it", g, q, out, p2.Query())
		}
		want := count + len(uses)
		if d == Postgres {
			want = count + len(names) + maxNative
		}
		if p2.NumInput() != want {
			t.Fatalf("%s %q -> %q: NumInput of the output = %d, want %d", g, q, out, p2.NumInput(), want)
		}
	}

	checkBind(t, g, q, p, count+maxNative, names, uses)
	checkLists(t, g.String(), q, p, escapes == 0)
}

func checkBind(t *testing.T, g lang, q string, p *Plan, n int, names, uses []string) {
	t.Helper()
	d := g.d
	if len(names) == 0 {
		if p.NumInput() != n {
			t.Fatalf("%s %q: NumInput = %d, want %d", g, q, p.NumInput(), n)
		}
		args := make([]driver.NamedValue, n)
		for i := range args {
			args[i] = driver.NamedValue{Ordinal: i + 1, Value: i}
		}
		got, err := p.Bind(args)
		if err != nil || len(got) != n || n > 0 && &got[0] != &args[0] {
			t.Fatalf("%s %q: Bind of %d arguments = %v, %v; want them unchanged", g, q, n, got, err)
		}
		_, err = p.Bind(append(args, driver.NamedValue{Ordinal: n + 1}))
		var re *Error
		if !errors.As(err, &re) || re.Offset < -1 || re.Offset >= len(q) {
			t.Fatalf("%s %q: Bind of %d arguments: error %v", g, q, n+1, err)
		}
		return
	}
	if p.NumInput() != -1 {
		t.Fatalf("%s %q: NumInput = %d for named parameters", g, q, p.NumInput())
	}
	// Hand the arguments over in reverse: binding goes by name. Each value is
	// its name, so the result shows which argument went where.
	args := make([]driver.NamedValue, len(names))
	for i, name := range names {
		args[len(names)-1-i] = driver.NamedValue{Ordinal: len(names) - i, Name: name, Value: name}
	}
	got, err := p.Bind(args)
	if err != nil {
		t.Fatalf("%s %q: Bind: %v", g, q, err)
	}
	want := names
	if d == MySQL {
		want = uses
	}
	if len(got) != len(want) {
		t.Fatalf("%s %q: Bind returned %d arguments, want %d", g, q, len(got), len(want))
	}
	for i, a := range got {
		if a.Ordinal != i+1 || a.Name != "" || a.Value != want[i] {
			t.Fatalf("%s %q: bound argument %d = %+v, want value %q", g, q, i, a, want[i])
		}
	}
	_, err = p.Bind(args[1:])
	var re *Error
	if !errors.As(err, &re) || re.Offset < 0 || !strings.HasPrefix(q[re.Offset+1:], names[len(names)-1]) {
		t.Fatalf("%s %q: Bind without %q: error %v", g, q, names[len(names)-1], err)
	}
}

func checkSQLite(t *testing.T, q string) {
	t.Helper()
	p, err := Parse(SQLite, q)
	if err != nil {
		var re *Error
		if !errors.As(err, &re) || re.Offset < 0 || re.Offset > len(q) {
			t.Fatalf("sqlite %q: error %v has no offset in the query", q, err)
		}
		return
	}
	if p.Query() != q {
		t.Fatalf("sqlite %q: the native query is not the query as written", q)
	}
	if p.HasLists() && p.extra.lists.sqlite != sqliteNumbered {
		checkLists(t, "sqlite", q, p, false)
	}
	checkOperation(t, SQLite, q, p.Operation(), nil)
	if n := p.NumInput(); n >= 0 {
		args := make([]driver.NamedValue, n)
		for i := range args {
			args[i] = driver.NamedValue{Ordinal: i + 1, Value: int64(i)}
		}
		if got, err := p.Bind(args); err != nil || len(got) != n || n > 0 && &got[0] != &args[0] {
			t.Fatalf("sqlite %q: Bind of %d arguments: %v", q, n, err)
		}
		if _, err := p.Bind(append(args, driver.NamedValue{Ordinal: n + 1})); err == nil {
			t.Fatalf("sqlite %q: Bind of %d arguments for %d parameters did not fail", q, n+1, n)
		}
	}
}

// checkOperation checks a Plan's Operation: an upper-case ASCII word of at
// most maxKeyword bytes, or "", and the word firstWord finds. Operation reads
// the text with sqlscan; firstWord walks it by the tokens of this package's
// lexer (toks, which checkQuery compares with the reference lexer), so the
// two readers check each other on where comments and literals end.
func checkOperation(t *testing.T, d Dialect, q, op string, toks []token) {
	t.Helper()
	if len(op) > maxKeyword {
		t.Fatalf("%s %q: Operation %q is too long", d, q, op)
	}
	for i := 0; i < len(op); i++ {
		if c := op[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			t.Fatalf("%s %q: Operation %q is not an upper-case keyword", d, q, op)
		}
	}
	if want, ok := firstWord(q, toks); ok && op != want {
		t.Fatalf("%s %q: Operation %q, want %q", d, q, op, want)
	}
}

// firstWord returns the Operation of q: its first word, upper-cased, after
// white space, comments (the tokComment tokens of toks), opening parentheses
// and empty statements, when that word is an ASCII letter followed by ASCII
// letters, digits and _; else "". A statement of comments or parentheses
// alone before a ';' ends the search: it is the first statement, without a
// word. ok is false when the walk cannot tell: a word before a quote or &
// (which may be a string prefix, E'…' or U&'…'), or, without toks (SQLite),
// anything that may start a comment or literal.
func firstWord(q string, toks []token) (word string, ok bool) {
	seen := false // a comment or ( since the last ;
	for i, k := 0, 0; i < len(q); {
		if k < len(toks) && toks[k].start == i {
			if toks[k].kind != tokComment {
				return "", true
			}
			i, k, seen = toks[k].end, k+1, true
			continue
		}
		switch c := q[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '(':
			i, seen = i+1, true
		case c == ';':
			if seen {
				return "", true
			}
			i++
		case isLetter(c):
			j := i + 1
			for j < len(q) && (isLetter(q[j]) || isDigit(q[j]) || q[j] == '_') {
				j++
			}
			if j < len(q) {
				switch c := q[j]; {
				case c == '$' || c >= utf8.RuneSelf:
					return "", true // the name goes on
				case c == '\'' || c == '"' || c == '&':
					return "", false
				}
			}
			if j-i > maxKeyword {
				return "", true
			}
			return strings.ToUpper(q[i:j]), true
		default:
			return "", toks != nil
		}
	}
	return "", true
}

func isPlaceholder(k tokKind) bool {
	return k == tokPositional || k == tokEscape || k == tokNamed || k == tokNative
}

// spans returns the text of every literal and comment token.
func spans(q string, toks []token) []string {
	var s []string
	for _, tk := range toks {
		if !isPlaceholder(tk.kind) {
			s = append(s, q[tk.start:tk.end])
		}
	}
	return s
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// The reference lexer below restates the rules of doc.go as plainly as
// possible: one byte at a time, no lookup tables, no searching. It is slow,
// and only the fuzz tests use it, to cross-check the fast lexer.

func isPGIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func refName(q string, i int) int {
	end := i
	for k, r := range q[i:] {
		if r == utf8.RuneError {
			break
		}
		if !(r == '_' || unicode.IsLetter(r) || k > 0 && (unicode.IsDigit(r) || unicode.IsMark(r))) {
			break
		}
		end = i + k + utf8.RuneLen(r)
	}
	return end
}

// refQuoted returns the end of the literal opened at q[i], or -1.
func refQuoted(q string, i int, backslash bool) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch {
		case backslash && q[j] == '\\':
			j++
		case q[j] == quote && j+1 < len(q) && q[j+1] == quote:
			j++
		case q[j] == quote:
			return j + 1
		}
	}
	return -1
}

func refLex(d Dialect, m sqlscan.Mode, q string) ([]token, int) {
	if d == MySQL {
		return refLexMySQL(q, m)
	}
	return refLexPostgres(q)
}

func refLexPostgres(q string) ([]token, int) {
	const (
		none = iota
		ident
		number
	)
	var toks []token
	word, wordStart, depth, lastComment, lastPositional := none, 0, 0, -1, -1
	// prev is the last lexeme but whitespace and comments: -1 for none yet,
	// -2 for a literal, quoted identifier or parameter, else the offset of
	// the byte of plain text it ends with.
	prev := -1
	add := func(k tokKind, s, e int) int {
		toks = append(toks, token{k, s, e})
		switch k {
		case tokComment:
			lastComment = e
		case tokEscape:
			prev = e - 1
		default:
			prev = -2
		}
		if k == tokPositional {
			lastPositional = e
		}
		return e
	}
	// operand: whether prev is an operand, as doc.go says.
	operand := func() bool {
		switch prev {
		case -1:
			return false
		case -2:
			return true
		}
		c := q[prev]
		if !isPGIdentByte(c) {
			return c == ')' || c == ']' || c == '.'
		}
		s := prev
		for s > 0 && isPGIdentByte(q[s-1]) {
			s--
		}
		for _, k := range exprKeywords {
			if strings.EqualFold(k, q[s:prev+1]) {
				return s > 0 && q[s-1] == '.'
			}
		}
		return true
	}
	for i := 0; i < len(q); {
		c := q[i]
		letter := c == '_' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		digit := '0' <= c && c <= '9'
		// A letter after a number runs into it: PostgreSQL reads 1E'…' as
		// trailing junk 1E and a plain quote, and 0x1F$ as junk with its $.
		if word == number && letter {
			word = ident
		}
		if word == ident && (letter || digit || c == '$') || word == number && digit {
			prev = i
			i++
			continue
		}
		prevWord := ""
		if word == ident {
			prevWord = q[wordStart:i]
		}
		word = none
		switch {
		case letter:
			word, wordStart = ident, i
			prev = i
			i++
		case digit:
			word, wordStart = number, i
			prev = i
			i++
		case c == '\'' || c == '"':
			end := refQuoted(q, i, c == '\'' && (prevWord == "E" || prevWord == "e"))
			if end < 0 {
				return toks, i
			}
			kind := tokString
			if c == '"' {
				kind = tokIdent
			}
			i = add(kind, i, end)
		case c == '$':
			j := i + 1
			if j < len(q) && '0' <= q[j] && q[j] <= '9' {
				for j < len(q) && '0' <= q[j] && q[j] <= '9' {
					j++
				}
				i = add(tokNative, i, j)
				continue
			}
			if j < len(q) && isPGIdentByte(q[j]) && q[j] != '$' && !('0' <= q[j] && q[j] <= '9') {
				for j < len(q) && isPGIdentByte(q[j]) && q[j] != '$' {
					j++
				}
			}
			if j >= len(q) || q[j] != '$' {
				prev = i
				i++
				continue
			}
			tag := q[i : j+1]
			end := -1
			for k := j + 1; k+len(tag) <= len(q); k++ {
				if q[k:k+len(tag)] == tag {
					end = k + len(tag)
					break
				}
			}
			if end < 0 {
				return toks, i
			}
			i = add(tokString, i, end)
		case strings.HasPrefix(q[i:], "--"):
			j := i
			for j < len(q) && q[j] != '\n' && q[j] != '\r' {
				j++
			}
			i = add(tokComment, i, j)
		case strings.HasPrefix(q[i:], "/*"):
			level, j := 0, i
			for {
				if j+1 >= len(q) {
					return toks, i
				}
				if q[j] == '/' && q[j+1] == '*' {
					level++
					j += 2
				} else if q[j] == '*' && q[j+1] == '/' {
					level--
					j += 2
					if level == 0 {
						break
					}
				} else {
					j++
				}
			}
			i = add(tokComment, i, j)
		case strings.HasPrefix(q[i:], "??"):
			i = add(tokEscape, i, i+2)
		case c == '?':
			i = add(tokPositional, i, i+1)
		case strings.HasPrefix(q[i:], "::") || strings.HasPrefix(q[i:], ":="):
			prev = i + 1
			i += 2
		case c == ':' && refName(q, i+1) > i+1 && (depth == 0 || !operand()):
			i = add(tokNamed, i, refName(q, i+1))
		case strings.HasPrefix(q[i:], "@?") && !strings.HasPrefix(q[i:], "@??") && operand():
			prev = i + 1
			i += 2
		case c == '@' && refName(q, i+1) > i+1 &&
			(i == 0 || i == lastComment || i == lastPositional || !strings.ContainsRune("+-*/<>~!@#%^&|`?", rune(q[i-1]))):
			i = add(tokNamed, i, refName(q, i+1))
		default:
			if c == '[' {
				depth++
			}
			if c == ']' && depth > 0 {
				depth--
			}
			if !strings.ContainsRune(" \t\n\r\f\v", rune(c)) {
				prev = i
			}
			i++
		}
	}
	return toks, -1
}

func refLexMySQL(q string, m sqlscan.Mode) ([]token, int) {
	var toks []token
	execStart := -1
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			identifier := c == '`' || c == '"' && m&sqlscan.ANSIQuotes != 0
			end := refQuoted(q, i, !identifier && m&sqlscan.NoBackslashEscapes == 0)
			if end < 0 {
				return toks, i
			}
			kind := tokString
			if identifier {
				kind = tokIdent
			}
			toks = append(toks, token{kind, i, end})
			i = end
		case c == '#' || strings.HasPrefix(q[i:], "--") && (i+2 == len(q) || q[i+2] <= ' ' || q[i+2] == 0x7f):
			j := i
			for j < len(q) && q[j] != '\n' {
				j++
			}
			toks = append(toks, token{tokComment, i, j})
			i = j
		case execStart < 0 && (strings.HasPrefix(q[i:], "/*!") || strings.HasPrefix(q[i:], "/*M!")):
			j := strings.IndexByte(q[i:], '!') + i + 1
			for k := 0; k < 6 && j < len(q) && '0' <= q[j] && q[j] <= '9'; k++ {
				j++
			}
			toks = append(toks, token{tokComment, i, j})
			execStart = i
			i = j
		case strings.HasPrefix(q[i:], "/*"):
			j := i + 2
			for j+1 < len(q) && q[j:j+2] != "*/" {
				j++
			}
			if j+1 >= len(q) {
				return toks, i
			}
			toks = append(toks, token{tokComment, i, j + 2})
			i = j + 2
		case execStart >= 0 && strings.HasPrefix(q[i:], "*/"):
			toks = append(toks, token{tokComment, i, i + 2})
			execStart = -1
			i += 2
		case strings.HasPrefix(q[i:], "??"):
			toks = append(toks, token{tokEscape, i, i + 2})
			i += 2
		case c == '?':
			toks = append(toks, token{tokPositional, i, i + 1})
			i++
		case strings.HasPrefix(q[i:], "::") || strings.HasPrefix(q[i:], ":="):
			i += 2
		case c == ':' && refName(q, i+1) > i+1:
			end := refName(q, i+1)
			toks = append(toks, token{tokNamed, i, end})
			i = end
		default:
			i++
		}
	}
	return toks, execStart
}
