// Package sqlscan reads SQL text by the lexical rules of each dialect: its
// string and identifier quotes, comments, numbers and placeholders, and the
// statements a multi-statement string holds. It is the one place the project
// reads SQL for meaning: transaction control, span names, literal sanitising
// and script splitting all build on it. It allocates nothing and runs in one
// forward pass.
//
//	postgres  '…' with '' (standard_conforming_strings on), E'…' with \,
//	          U&'…', B'…', X'…', N'…', $$…$$ and $tag$…$tag$, "…" and U&"…"
//	          identifiers, -- comments, nested /* /* */ */ comments,
//	          $n, ?, :name placeholders (:: and := are operators), and
//	          package rewrite's @name where @ is not part of an operator;
//	          a number run into an identifier (1abc$$) is one token, as
//	          PostgreSQL reads trailing junk
//	mysql     '…' and "…" with \ escapes and doubling (Mode changes both),
//	          `…` identifiers, # and "-- " comments (1--1 is arithmetic),
//	          /* */ comments; /*! … */, /*!50001 … */ and /*M! … */ hold code,
//	          so the words inside them are read as code; @var and @@var are
//	          words; ? and :name placeholders
//	sqlite    '…', "…", `…` and […] identifiers, X'…', -- and /* */
//	          comments (an unterminated /* runs to the end, as SQLite reads
//	          it), ?, ?NNN, :name, @name and $name placeholders (a name
//	          may hold :: and end in a (…) suffix, as a Tcl variable's)
package sqlscan

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Dialect selects the lexical rules.
type Dialect uint8

const (
	SQLite Dialect = iota + 1
	Postgres
	MySQL
)

// String returns the dialect's lower-case name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// ParseDialect returns the dialect named "sqlite", "postgres" or "mysql",
// or 0.
func ParseDialect(name string) Dialect {
	switch name {
	case "sqlite":
		return SQLite
	case "postgres":
		return Postgres
	case "mysql":
		return MySQL
	}
	return 0
}

// Kind is the kind of a token.
type Kind uint8

const (
	EOF       Kind = iota
	Word           // a keyword or bare identifier; on MySQL also @var and @@var
	Ident          // a quoted identifier
	String         // a string literal of any form, prefixed and dollar-quoted ones included
	Number         // a numeric literal: 42, 1.5e3, .5, 0x1F
	Param          // a placeholder: ?, ?NNN, $n, :name, @name, $name
	Comment        // a comment, or an opening or closing delimiter of a MySQL /*! … */
	Semicolon      // ; which ends a statement
	Punct          // any other byte (a ?? or :: or := pair is one token)
)

var kindNames = [...]string{"EOF", "Word", "Ident", "String", "Number", "Param", "Comment", "Semicolon", "Punct"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one token: its kind and its byte span [Start, End) in the text.
type Token struct {
	Kind       Kind
	Start, End int
}

// Error is an unterminated literal or comment, with the byte offset where
// it starts.
type Error struct {
	Offset int
	Msg    string // "unterminated quoted string", …
}

func (e *Error) Error() string {
	return e.Msg + " at byte offset " + strconv.Itoa(e.Offset)
}

// Scanner returns the tokens of one text in order. The zero value is not
// usable; make one with New or Reset.
type Scanner struct {
	q    string
	pos  int
	d    Dialect
	mode Mode
	exec bool // MySQL: inside /*! … */, whose content is code
	err  *Error
	prev Token // the last token returned
	// noBody: NextStatement found a compound body that did not close, and
	// no longer looks for bodies.
	noBody bool
}

// New returns a scanner of q for dialect d.
func New(d Dialect, mode Mode, q string) Scanner {
	return Scanner{q: q, d: d, mode: mode}
}

// Reset makes s a scanner of q, in place.
func (s *Scanner) Reset(d Dialect, mode Mode, q string) {
	*s = Scanner{q: q, d: d, mode: mode}
}

// Text returns the text being scanned.
func (s *Scanner) Text() string { return s.q }

// Err returns the error that ended scanning, or nil. An unterminated
// literal or comment is returned as a token that runs to the end of the
// text, and then Err reports it.
func (s *Scanner) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// Next returns the next token, skipping white space, or a token of kind EOF
// at the end.
func (s *Scanner) Next() Token {
	q := s.q
	n := len(q)
	for s.pos < n {
		i := s.pos
		c := q[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			s.pos++
			continue
		case isWordStart(c) || c == '$' && s.d == MySQL:
			return s.word(i)
		case isDigit(c) || c == '.' && i+1 < n && isDigit(q[i+1]):
			return s.number(i)
		case c == '\'':
			return s.quoted(i, i+1, '\'', String, s.backslash())
		case c == '"':
			if s.d == MySQL && s.mode&ANSIQuotes == 0 {
				return s.quoted(i, i+1, '"', String, s.backslash())
			}
			return s.quoted(i, i+1, '"', Ident, false)
		case c == '`' && s.d != Postgres:
			return s.quoted(i, i+1, '`', Ident, false)
		case c == '[' && s.d == SQLite:
			return s.bracket(i)
		case c == '-' && i+1 < n && q[i+1] == '-' && (s.d != MySQL || i+2 == n || q[i+2] <= ' ' || q[i+2] == 0x7f),
			c == '#' && s.d == MySQL:
			return s.emit(Comment, i, lineEnd(q, i, s.d == Postgres))
		case c == '/' && i+1 < n && q[i+1] == '*':
			return s.blockComment(i)
		case c == '*' && s.exec && i+1 < n && q[i+1] == '/':
			s.exec = false
			return s.emit(Comment, i, i+2)
		case c == ';':
			return s.emit(Semicolon, i, i+1)
		case c == '?':
			return s.question(i)
		case c == '$':
			return s.dollar(i)
		case c == ':':
			if i+1 < n && (q[i+1] == ':' || q[i+1] == '=') {
				return s.emit(Punct, i, i+2)
			}
			end := ParamNameEnd(q, i+1)
			if s.d == SQLite {
				end = nameEnd(q, i+1)
			}
			if end > i+1 {
				return s.emit(Param, i, end)
			}
			return s.emit(Punct, i, i+1)
		case c == '@':
			return s.at(i)
		default:
			return s.emit(Punct, i, i+1)
		}
	}
	if s.exec && s.err == nil {
		s.exec = false
		s.err = &Error{Offset: n, Msg: "unterminated comment /*!"}
	}
	return Token{EOF, n, n}
}

func (s *Scanner) emit(k Kind, start, end int) Token {
	s.pos = end
	s.prev = Token{k, start, end}
	return s.prev
}

// fail ends scanning with an unterminated token starting at start.
func (s *Scanner) fail(k Kind, start int, msg string) Token {
	if s.err == nil {
		s.err = &Error{Offset: start, Msg: msg}
	}
	s.exec = false
	return s.emit(k, start, len(s.q))
}

// backslash reports whether \ escapes inside a MySQL string.
func (s *Scanner) backslash() bool {
	return s.d == MySQL && s.mode&NoBackslashEscapes == 0
}

func (s *Scanner) word(i int) Token {
	q := s.q
	j := i + 1
	for j < len(q) && isWordByte(q[j]) {
		j++
	}
	// A one- or two-letter prefix directly before a quote makes a string:
	// E'…', B'…', X'…', N'…', U&'…' and U&"…".
	if j < len(q) && j-i == 1 {
		switch c := q[i] | 0x20; {
		case q[j] == '\'' && c == 'e' && s.d == Postgres:
			return s.quoted(i, j+1, '\'', String, true)
		case q[j] == '\'' && (c == 'x' || c == 'b' && s.d != SQLite || c == 'n' && s.d != SQLite):
			return s.quoted(i, j+1, '\'', String, s.backslash())
		case c == 'u' && s.d == Postgres && q[j] == '&' && j+1 < len(q) && (q[j+1] == '\'' || q[j+1] == '"'):
			k := String
			if q[j+1] == '"' {
				k = Ident
			}
			return s.quoted(i, j+2, q[j+1], k, false)
		}
	}
	return s.emit(Word, i, j)
}

func (s *Scanner) number(i int) Token {
	q := s.q
	n := len(q)
	j := i
	if q[j] == '0' && j+2 < n && q[j+1]|0x20 == 'x' && isHex(q[j+2]) {
		j += 2
		for j < n && isHex(q[j]) {
			j++
		}
	} else {
		for j < n && isDigit(q[j]) {
			j++
		}
		if j < n && q[j] == '.' {
			j++
			for j < n && isDigit(q[j]) {
				j++
			}
		}
		if j < n && q[j]|0x20 == 'e' {
			k := j + 1
			if k < n && (q[k] == '+' || q[k] == '-') {
				k++
			}
			if k < n && isDigit(q[k]) {
				for k < n && isDigit(q[k]) {
					k++
				}
				j = k
			}
		}
	}
	// MySQL identifiers may begin with digits: 1abc and 2e is a name there.
	// PostgreSQL reads a number run into an identifier as one token of
	// trailing junk (an error) whose $ belong to the identifier: 1abc$$,
	// 0x1F$$ and 1e3$$ start no dollar quote, while 12$$ and 1e+3$$ do.
	if s.d == MySQL && j < n && isWordByte(q[j]) ||
		s.d == Postgres && j < n && (isWordStart(q[j]) || q[j] == '$' && endsInLetter(q[i:j])) {
		for j < n && isWordByte(q[j]) {
			j++
		}
		return s.emit(Word, i, j)
	}
	return s.emit(Number, i, j)
}

// quoted scans a literal whose body starts at body and ends at quote. A
// doubled quote stands for itself; with backslash, \x does too.
func (s *Scanner) quoted(start, body int, quote byte, k Kind, backslash bool) Token {
	q := s.q
	for i := body; i < len(q); i++ {
		switch q[i] {
		case '\\':
			if backslash {
				i++
			}
		case quote:
			if i+1 < len(q) && q[i+1] == quote {
				i++
				continue
			}
			return s.emit(k, start, i+1)
		}
	}
	if k == Ident {
		return s.fail(k, start, "unterminated quoted identifier")
	}
	return s.fail(k, start, "unterminated quoted string")
}

func (s *Scanner) bracket(i int) Token {
	for j := i + 1; j < len(s.q); j++ {
		if s.q[j] == ']' {
			return s.emit(Ident, i, j+1)
		}
	}
	return s.fail(Ident, i, "unterminated [identifier]")
}

func (s *Scanner) blockComment(i int) Token {
	q := s.q
	n := len(q)
	if s.d == MySQL && !s.exec {
		if m := ExecCommentStart(q, i); m > 0 {
			s.exec = true
			return s.emit(Comment, i, m)
		}
	}
	depth := 1
	for j := i + 2; j+1 < n; j++ {
		switch {
		case q[j] == '*' && q[j+1] == '/':
			if depth--; depth == 0 {
				return s.emit(Comment, i, j+2)
			}
			j++
		case q[j] == '/' && q[j+1] == '*' && s.d == Postgres:
			depth++
			j++
		}
	}
	if s.d == SQLite {
		return s.emit(Comment, i, n)
	}
	return s.fail(Comment, i, "unterminated comment")
}

func (s *Scanner) question(i int) Token {
	q := s.q
	if i+1 < len(q) && q[i+1] == '?' {
		return s.emit(Punct, i, i+2)
	}
	j := i + 1
	if s.d == SQLite {
		for j < len(q) && isDigit(q[j]) {
			j++
		}
	}
	return s.emit(Param, i, j)
}

func (s *Scanner) dollar(i int) Token {
	q := s.q
	n := len(q)
	j := i + 1
	if j < n && isDigit(q[j]) {
		for j < n && isDigit(q[j]) {
			j++
		}
		return s.emit(Param, i, j)
	}
	if s.d == SQLite {
		if end := nameEnd(q, j); end > j {
			return s.emit(Param, i, end)
		}
		return s.emit(Punct, i, j)
	}
	// Postgres: $$…$$ or $tag$…$tag$, the tag an identifier without $.
	k := j
	if k < n && isWordStart(q[k]) {
		for k < n && isWordByte(q[k]) && q[k] != '$' {
			k++
		}
	}
	if k >= n || q[k] != '$' {
		return s.emit(Punct, i, j)
	}
	tag := q[i : k+1]
	for m := k + 1; m+len(tag) <= n; m++ {
		if q[m] == '$' && q[m:m+len(tag)] == tag {
			return s.emit(String, i, m+len(tag))
		}
	}
	return s.fail(String, i, "unterminated dollar-quoted string "+tag)
}

func (s *Scanner) at(i int) Token {
	q := s.q
	switch s.d {
	case MySQL:
		// @var, @@var, @@session.var (the dot is a token of its own), @'v'.
		j := i + 1
		if j < len(q) && q[j] == '@' {
			j++
		}
		// The name is quoted as a string ('…', "…") or as an identifier
		// (`…`, and "…" under ANSI_QUOTES, where \ escapes nothing).
		if j < len(q) && (q[j] == '\'' || q[j] == '"' || q[j] == '`') {
			ident := q[j] == '`' || q[j] == '"' && s.mode&ANSIQuotes != 0
			return s.quoted(i, j+1, q[j], Word, !ident && s.backslash())
		}
		end := j
		for end < len(q) && isWordByte(q[end]) {
			end++
		}
		if end > j {
			return s.emit(Word, i, end)
		}
	case SQLite:
		if end := nameEnd(q, i+1); end > i+1 {
			return s.emit(Param, i, end)
		}
	case Postgres:
		// @name is a placeholder of package rewrite, which replaces it
		// before the server reads the text, unless the @ continues an
		// operator (@>, <@, @@): after an operator character other than =
		// with nothing between, a comment or placeholder aside.
		adjacent := s.prev.End == i && i > 0
		operand := adjacent && (s.prev.Kind == Comment || s.prev.Kind == Param)
		if i == 0 || q[i-1] == '=' || !isPGOpChar(q[i-1]) || operand {
			if end := ParamNameEnd(q, i+1); end > i+1 {
				return s.emit(Param, i, end)
			}
		}
	}
	return s.emit(Punct, i, i+1)
}

// ExecCommentStart returns the end of the opening of a MySQL executable
// comment at q[i:] (/*!, /*!50001, MariaDB's /*M!100100), whose content the
// server runs as code, or -1 when none starts there.
func ExecCommentStart(q string, i int) int {
	n := len(q)
	if i+2 > n || q[i] != '/' || q[i+1] != '*' {
		return -1
	}
	m := i + 2
	switch {
	case m < n && q[m] == '!':
		m++
	case m+1 < n && q[m] == 'M' && q[m+1] == '!':
		m += 2
	default:
		return -1
	}
	for k := 0; k < 6 && m < n && isDigit(q[m]); k++ {
		m++
	}
	return m
}

// lineEnd returns the end of a line comment starting at i: its newline, or
// the end of q. With cr, a carriage return ends it too, as PostgreSQL's
// lexer ends -- comments (MySQL and SQLite read on to the newline).
func lineEnd(q string, i int, cr bool) int {
	for ; i < len(q); i++ {
		if q[i] == '\n' || cr && q[i] == '\r' {
			return i
		}
	}
	return len(q)
}

// ParamNameEnd returns the end of the name of a :name (or, on Postgres,
// @name) placeholder starting at i, or i when no name starts there: a
// letter or _ followed by letters, digits, combining marks and _, decoded
// as UTF-8; anything else, invalid UTF-8 included, ends it. The name is
// this project's syntax, not the server's (package rewrite replaces it),
// so this one rule serves the rewrite lexer and the scanner alike.
func ParamNameEnd(q string, i int) int {
	start := i
	for i < len(q) {
		c := q[i]
		if c < utf8.RuneSelf {
			if !isWordStart(c) && (i == start || !isDigit(c)) {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(q[i:])
		if !unicode.IsLetter(r) && (i == start || !unicode.IsDigit(r) && !unicode.IsMark(r)) {
			break
		}
		i += size
	}
	return i
}

// nameEnd returns the end of a SQLite parameter name (:name, @name, $name)
// starting at i, or i when none starts there: SQLite reads every byte from
// 0x80 up as part of a name, and, as Tcl variables, :: inside it ($a::b)
// and a suffix from ( to ) without white space ($a(x)), which ends it
// (tokenize.c).
func nameEnd(q string, i int) int {
	if i >= len(q) || !isWordStart(q[i]) {
		return i
	}
	j := i + 1
	for j < len(q) {
		switch c := q[j]; {
		case isWordByte(c) && c != '$':
			j++
		case c == ':' && j+1 < len(q) && q[j+1] == ':':
			j += 2
		case c == '(':
			k := j + 1
			for k < len(q) && q[k] != ')' && !sqliteSpace(q[k]) {
				k++
			}
			if k < len(q) && q[k] == ')' {
				return k + 1
			}
			return j // SQLite refuses the token; the name ends before (
		default:
			return j
		}
	}
	return j
}

// sqliteSpace reports whether SQLite's tokenizer reads c as white space.
func sqliteSpace(c byte) bool {
	return c == ' ' || '\t' <= c && c <= '\r'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// endsInLetter reports whether the byte before the trailing digits of a
// number's text is a letter (0x1F, 1e3).
func endsInLetter(num string) bool {
	k := len(num)
	for k > 0 && isDigit(num[k-1]) {
		k--
	}
	return k > 0 && isWordStart(num[k-1])
}

// isPGOpChar reports whether c is one of the bytes PostgreSQL operators are
// made of.
func isPGOpChar(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '<', '>', '=', '~', '!', '@', '#', '%', '^', '&', '|', '`', '?':
		return true
	}
	return false
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

// isWordStart reports whether c starts a word: an ASCII letter, _ or any
// byte of a multi-byte UTF-8 character.
func isWordStart(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_' || c >= 0x80
}

func isWordByte(c byte) bool { return isWordStart(c) || isDigit(c) || c == '$' }
