package rewrite

import (
	"github.com/go-databases/databases/sqlscan"

	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// tokKind is the kind of a token the lexer stops at. Everything between two
// tokens is plain SQL that is copied to the output unchanged.
type tokKind uint8

const (
	tokEOF        tokKind = iota
	tokPositional         // ?
	tokEscape             // ?? (a literal ? in the output)
	tokNamed              // :name, or @name on Postgres; the name is q[start+1:end]
	tokNative             // $n on Postgres
	tokString             // a string literal of any form, including dollar-quoted
	tokIdent              // a quoted identifier: "…" or `…`
	tokComment            // a comment, or the delimiters of a MySQL executable comment
)

// lexer scans one query for one dialect (Postgres or MySQL) in a single
// forward pass. It skips plain SQL eight bytes at a time with table lookups
// and stops only at the bytes that can start a token, so a query costs about
// a cycle per byte.
type lexer struct {
	q          string
	pairs      *[1 << 16]uint8 // pairTable()
	pos        int
	dialect    Dialect
	mode       sqlscan.Mode // MySQL: the sql_mode flags that change lexing
	exec       bool         // MySQL: inside /*! … */, whose content is code
	execStart  int
	boundary   int // Postgres: offset just past the last byte the scanner stopped at
	depth      int // Postgres: nesting of [ ], where a colon may be an array slice's
	commentEnd int // offset just past the last comment, so /*c*/@id still starts a name
	operandEnd int // offset just past the last placeholder, an operand and not an operator
	// beforeComment: Postgres, offset just past the SQL before the last
	// comment, whitespace and comments aside (see afterOperand).
	beforeComment int
}

func newLexer(d Dialect, m sqlscan.Mode, q string) lexer {
	var l lexer
	l.reset(d, m, q)
	return l
}

// reset makes l a new lexer for q, in place.
func (l *lexer) reset(d Dialect, m sqlscan.Mode, q string) {
	*l = lexer{q: q, dialect: d, mode: m, pairs: pairTable()}
}

// next returns the next token and its byte span [start, end), or an *Error
// for an unterminated literal or comment (its Offset is where it started).
func (l *lexer) next() (tokKind, int, int, *Error) {
	if l.dialect == MySQL {
		return l.nextMySQL()
	}
	return l.nextPostgres()
}

func (l *lexer) emit(tok tokKind, start, end int) (tokKind, int, int, *Error) {
	l.pos = end
	l.boundary = end
	switch tok {
	case tokComment:
		l.commentEnd = end
	case tokPositional, tokNamed, tokNative:
		l.operandEnd = end
	}
	return tok, start, end, nil
}

// skip returns the offset of the first byte at or after i whose stopBits
// have bit set, or len(q). It looks at eight bytes per step through pairTable,
// which answers for two bytes at once.
func skip(q string, i int, bit uint8, pairs *[1 << 16]uint8) int {
	mask := pairMask(bit)
	for ; i+8 <= len(q); i += 8 {
		w := q[i : i+8]
		if (pairs[uint16(w[0])|uint16(w[1])<<8]|pairs[uint16(w[2])|uint16(w[3])<<8]|
			pairs[uint16(w[4])|uint16(w[5])<<8]|pairs[uint16(w[6])|uint16(w[7])<<8])&mask != 0 {
			break
		}
	}
	for ; i < len(q); i++ {
		if stopBits[q[i]]&bit != 0 {
			break
		}
	}
	return i
}

// pairMask returns the bits of pairTable entries that stand for the stopBits
// bit (pgStop or myStop).
func pairMask(bit uint8) uint8 {
	if bit == myStop {
		return 0b1100
	}
	return 0b0011
}

// firstStop returns the offset, 0 to 7, of the first byte the Postgres scanner
// stops at among eight bytes whose pairTable entries are p0…p3, one of which
// has a stop.
func firstStop(p0, p1, p2, p3 uint8) int {
	return bits.TrailingZeros8(p0&3 | p1&3<<2 | p2&3<<4 | p3<<6)
}

// pairTable returns the table of the stopBits of two bytes b0 and b1 indexed
// by b0|b1<<8: bit 0 is set when the Postgres scanner stops at b0, bit 1 when
// it stops at b1, and bits 2 and 3 likewise for MySQL. It is built on first
// use (64 KiB, so programs that never lex do not pay for it).
func pairTable() *[1 << 16]uint8 {
	if t := pairTablePtr.Load(); t != nil {
		return t
	}
	return buildPairTable()
}

var pairTablePtr atomic.Pointer[[1 << 16]uint8]

func buildPairTable() *[1 << 16]uint8 {
	t := new([1 << 16]uint8)
	for i := range t {
		b0, b1 := stopBits[i&0xff], stopBits[i>>8]
		t[i] = b0&pgStop | b1&pgStop<<1 | (b0&myStop)<<1 | (b1&myStop)<<2
	}
	pairTablePtr.CompareAndSwap(nil, t) // a table built concurrently is the same
	return pairTablePtr.Load()
}

// inIdentifier reports whether the byte at i continues an identifier, given
// that plain text (no byte the scanner stops at) runs from l.boundary to i.
// Postgres identifiers may contain $ and digits, but a run of digits alone is
// a number: a$1 is one identifier, 1$1 is 1 followed by $1.
func (l *lexer) inIdentifier(i int) bool {
	j := i - 1
	for j >= l.boundary && isDigit(l.q[j]) {
		j--
	}
	return j >= l.boundary && identCont[l.q[j]]
}

func (l *lexer) nextPostgres() (tokKind, int, int, *Error) {
	q := l.q
	n := len(q)
	i := l.pos
	for {
		i = skip(q, i, pgStop, l.pairs)
		if i >= n {
			break
		}
		switch c := q[i]; c {
		case '\'':
			// E'…' takes backslash escapes when the E is a word of its own:
			// not the end of an identifier, nor run into a number (1E'…'
			// is trailing junk to PostgreSQL, and the quote a plain one).
			if i-1 >= l.boundary && q[i-1]|0x20 == 'e' && (i-2 < l.boundary || !identCont[q[i-2]]) {
				end, ok := scanBackslashed(q, i+1, '\'')
				if !ok {
					return l.fail(i, "unterminated quoted string")
				}
				return l.emit(tokString, i, end)
			}
			end, ok := scanDoubled(q, i+1, '\'')
			if !ok {
				return l.fail(i, "unterminated quoted string")
			}
			return l.emit(tokString, i, end)
		case '"':
			end, ok := scanDoubled(q, i+1, '"')
			if !ok {
				return l.fail(i, "unterminated quoted identifier")
			}
			return l.emit(tokIdent, i, end)
		case '$':
			if l.inIdentifier(i) {
				for i++; i < n && identCont[q[i]]; i++ {
				}
				break
			}
			j := i + 1
			if j < n && isDigit(q[j]) {
				for j < n && isDigit(q[j]) {
					j++
				}
				return l.emit(tokNative, i, j)
			}
			// $tag$ where tag is an identifier without $, or $$.
			k := j
			if k < n && tagStart[q[k]] {
				k++
				for k < n && tagCont[q[k]] {
					k++
				}
			}
			if k < n && q[k] == '$' {
				delim := q[i : k+1]
				idx := strings.Index(q[k+1:], delim)
				if idx < 0 {
					return l.fail(i, "unterminated dollar-quoted string "+delim)
				}
				return l.emit(tokString, i, k+1+idx+len(delim))
			}
			i++
		case '-':
			if i+1 < n && q[i+1] == '-' {
				end := i + 2
				for end < n && q[end] != '\n' && q[end] != '\r' {
					end++
				}
				l.beforeComment = l.significantEnd(i)
				return l.emit(tokComment, i, end)
			}
			i++
		case '/':
			if i+1 < n && q[i+1] == '*' {
				end, ok := scanNestedComment(q, i+2)
				if !ok {
					return l.fail(i, "unterminated comment")
				}
				l.beforeComment = l.significantEnd(i)
				return l.emit(tokComment, i, end)
			}
			i++
		case '?':
			if i+1 < n && q[i+1] == '?' {
				return l.emit(tokEscape, i, i+2)
			}
			return l.emit(tokPositional, i, i+1)
		case ':':
			if i+1 < n && (q[i+1] == ':' || q[i+1] == '=') {
				i += 2 // a :: cast or := assignment
				break
			}
			// Inside [ ], a colon after an operand separates the bounds of
			// an array slice (arr[lo:hi]); elsewhere :name is a parameter.
			if end := sqlscan.ParamNameEnd(q, i+1); end > i+1 && (l.depth == 0 || !l.afterOperand(i)) {
				return l.emit(tokNamed, i, end)
			}
			i++
		case '@':
			// @? after an operand is the jsonpath operator (doc @? '$.a');
			// elsewhere it is a prefix @ and a ? placeholder, and @?? is @
			// and a literal ?, as ever.
			if i+1 < n && q[i+1] == '?' && (i+2 == n || q[i+2] != '?') && l.afterOperand(i) {
				i += 2
				break
			}
			// @ after an operator character other than = is part of an
			// operator (@>, <@, @@, …); elsewhere @name is a parameter. A
			// placeholder is an operand: ?@x reads as $1@x once rewritten.
			if i == 0 || q[i-1] == '=' || !pgOpChar[q[i-1]] || i == l.commentEnd || i == l.operandEnd {
				if end := sqlscan.ParamNameEnd(q, i+1); end > i+1 {
					return l.emit(tokNamed, i, end)
				}
			}
			i++
		case '[':
			l.depth++
			i++
		default: // ']'
			if l.depth > 0 {
				l.depth--
			}
			i++
		}
		l.boundary = i
	}
	l.pos = n
	return tokEOF, n, n, nil
}

func (l *lexer) nextMySQL() (tokKind, int, int, *Error) {
	q := l.q
	n := len(q)
	i := l.pos
	for {
		i = skip(q, i, myStop, l.pairs)
		if i >= n {
			break
		}
		switch c := q[i]; c {
		case '\'', '"':
			if l.mode != 0 {
				return l.quotedMode(i, c)
			}
			end, ok := scanBackslashed(q, i+1, c)
			if !ok {
				return l.failString(i, c)
			}
			return l.emit(tokString, i, end)
		case '`':
			end, ok := scanDoubled(q, i+1, '`')
			if !ok {
				return l.fail(i, "unterminated quoted identifier")
			}
			return l.emit(tokIdent, i, end)
		case '#':
			return l.emit(tokComment, i, lineEnd(q, i+1))
		case '-':
			// MySQL needs a space or control character after --; 1--1 is arithmetic.
			if i+1 < n && q[i+1] == '-' && (i+2 == n || q[i+2] <= ' ' || q[i+2] == 0x7f) {
				return l.emit(tokComment, i, lineEnd(q, i+2))
			}
			i++
		case '/':
			if i+1 < n && q[i+1] == '*' {
				if !l.exec {
					// /*! … */, /*!50001 … */ and MariaDB's /*M! … */ hold code.
					if m := sqlscan.ExecCommentStart(q, i); m > 0 {
						l.exec = true
						l.execStart = i
						return l.emit(tokComment, i, m)
					}
				}
				idx := strings.Index(q[i+2:], "*/")
				if idx < 0 {
					return l.fail(i, "unterminated comment")
				}
				return l.emit(tokComment, i, i+2+idx+2)
			}
			i++
		case '*':
			if l.exec && i+1 < n && q[i+1] == '/' {
				l.exec = false
				return l.emit(tokComment, i, i+2)
			}
			i++
		case '?':
			if i+1 < n && q[i+1] == '?' {
				return l.emit(tokEscape, i, i+2)
			}
			return l.emit(tokPositional, i, i+1)
		case ':':
			if i+1 < n && (q[i+1] == ':' || q[i+1] == '=') {
				i += 2
				continue
			}
			if end := sqlscan.ParamNameEnd(q, i+1); end > i+1 {
				return l.emit(tokNamed, i, end)
			}
			i++
		default:
			i++
		}
	}
	l.pos = n
	if l.exec {
		return l.fail(l.execStart, "unterminated comment")
	}
	return tokEOF, n, n, nil
}

// quotedMode is nextMySQL's case for '…' and "…" under the sql_mode flags
// l.mode, which are not zero.
func (l *lexer) quotedMode(i int, c byte) (tokKind, int, int, *Error) {
	if c == '"' && l.mode&sqlscan.ANSIQuotes != 0 {
		end, ok := scanDoubled(l.q, i+1, c)
		if !ok {
			return l.fail(i, "unterminated quoted identifier")
		}
		return l.emit(tokIdent, i, end)
	}
	if l.mode&sqlscan.NoBackslashEscapes != 0 {
		end, ok := scanDoubled(l.q, i+1, c)
		if !ok {
			return l.fail(i, "unterminated quoted string")
		}
		return l.emit(tokString, i, end)
	}
	end, ok := scanBackslashed(l.q, i+1, c)
	if !ok {
		return l.failString(i, c)
	}
	return l.emit(tokString, i, end)
}

// failString reports a MySQL string opened at i and not closed when a
// backslash escapes quotes. When the string would end at a quote after a
// backslash without such escapes, the likely cause is a server whose sql_mode
// has NO_BACKSLASH_ESCAPES, and the message says so.
func (l *lexer) failString(i int, quote byte) (tokKind, int, int, *Error) {
	if end, ok := scanDoubled(l.q, i+1, quote); ok && l.q[end-2] == '\\' {
		return l.fail(i, "unterminated quoted string (the \\ at offset "+strconv.Itoa(end-2)+
			" escapes the quote after it; if the server's sql_mode has NO_BACKSLASH_ESCAPES, say so: sql_mode in the URL)")
	}
	return l.fail(i, "unterminated quoted string")
}

// significantEnd returns the offset just past the Postgres SQL before offset
// i, whitespace and comments aside, or 0. It reads back over the whitespace
// just before i and no further (a comment left its own answer in
// beforeComment), and only the byte after a run of whitespace asks, so
// lexing stays linear.
func (l *lexer) significantEnd(i int) int {
	j := i
	for j > 0 && j != l.commentEnd && isSpace(l.q[j-1]) {
		j--
	}
	if j > 0 && j == l.commentEnd {
		return l.beforeComment
	}
	return j
}

// afterOperand reports whether the Postgres SQL before offset i, skipping
// whitespace and comments, ends with an operand: a placeholder, a literal or
// quoted identifier, a closing ) or ], a . (1. is a number), or a word (the
// run of identifier bytes before it) unless that word is one of
// exprKeywords and does not follow a . (t.from is a column). A word counts
// however it was lexed: $$x$$then is one word, and no keyword.
//
// The lexer calls it only at a colon inside [ ] and at @?; it reads back
// over whitespace and at most maxExprKeyword+1 bytes of a word.
func (l *lexer) afterOperand(i int) bool {
	q := l.q
	j := l.significantEnd(i)
	switch {
	case j == 0:
		return false
	case j == l.operandEnd:
		return true
	}
	c := q[j-1]
	if !identCont[c] {
		return c == ')' || c == ']' || c == '\'' || c == '"' || c == '.'
	}
	k := j - 1
	for k > 0 && identCont[q[k-1]] && j-k <= maxExprKeyword {
		k--
	}
	if j-k > maxExprKeyword || !isExprKeyword(q[k:j]) {
		return true
	}
	return k > 0 && q[k-1] == '.'
}

// exprKeywords are the Postgres keywords, reserved but for BETWEEN, that an
// expression may follow (WHEN :a, LIMIT :n) and that are no operand: after
// them a colon inside [ ] starts a parameter, and @? is a prefix @ and a
// placeholder. maxExprKeyword is the length of the longest.
var exprKeywords = [...]string{
	"AND", "OR", "NOT", "CASE", "WHEN", "THEN", "ELSE", "SELECT", "DISTINCT",
	"WHERE", "HAVING", "LIMIT", "OFFSET", "FROM", "FOR", "TO", "BETWEEN",
	"SYMMETRIC", "ASYMMETRIC", "LIKE", "ILIKE", "ON", "USING", "RETURNING",
	"VARIADIC",
}

const maxExprKeyword = 10

func isExprKeyword(w string) bool {
	for _, k := range &exprKeywords {
		if len(k) == len(w) && k[0] == w[0]&^0x20 && strings.EqualFold(k, w) {
			return true
		}
	}
	return false
}

// isSpace reports whether c is Postgres whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (l *lexer) fail(offset int, msg string) (tokKind, int, int, *Error) {
	l.pos = len(l.q)
	return tokEOF, offset, offset, errorAt(offset, msg)
}

// scanDoubled scans a literal whose only escape is a doubled quote character,
// starting just past the opening quote. It returns the offset just past the
// closing quote.
func scanDoubled(q string, i int, quote byte) (int, bool) {
	for {
		j := strings.IndexByte(q[i:], quote)
		if j < 0 {
			return len(q), false
		}
		i += j + 1
		if i < len(q) && q[i] == quote {
			i++
			continue
		}
		return i, true
	}
}

// scanBackslashed scans a literal where a backslash escapes the next byte and
// a doubled quote is a quote (Postgres E'…', MySQL '…' and "…").
func scanBackslashed(q string, i int, quote byte) (int, bool) {
	for i < len(q) {
		switch q[i] {
		case '\\':
			i += 2
		case quote:
			if i+1 < len(q) && q[i+1] == quote {
				i += 2
				continue
			}
			return i + 1, true
		default:
			i++
		}
	}
	return len(q), false
}

// scanNestedComment scans a Postgres block comment, which nests, starting just
// past the opening /*.
func scanNestedComment(q string, i int) (int, bool) {
	depth := 1
	for i+1 < len(q) {
		switch {
		case q[i] == '*' && q[i+1] == '/':
			i += 2
			depth--
			if depth == 0 {
				return i, true
			}
		case q[i] == '/' && q[i+1] == '*':
			i += 2
			depth++
		default:
			i++
		}
	}
	return len(q), false
}

// lineEnd returns the offset of the newline ending a MySQL line comment.
func lineEnd(q string, i int) int {
	if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(q)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

const (
	pgStop = 1 << iota
	myStop
)

const (
	nameStart = 1 // a letter or _: starts or continues a name
	nameDigit = 2 // continues a name
)

var (
	// stopBits: for each byte, the dialects (pgStop, myStop) whose scanner
	// stops there; every other byte is plain text.
	stopBits [256]uint8
	// identCont: bytes that continue a Postgres identifier ($ and all non-ASCII included).
	identCont [256]bool
	// tagStart and tagCont: bytes of a dollar-quote tag.
	tagStart [256]bool
	tagCont  [256]bool
	// pgOpChar: bytes Postgres operators are made of.
	pgOpChar [256]bool
	// nameByte: ASCII bytes of a parameter name.
	nameByte [256]uint8
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		letter := isLetter(b) || b == '_' || b >= utf8.RuneSelf
		tagStart[c] = letter
		tagCont[c] = letter || isDigit(b)
		identCont[c] = tagCont[c] || b == '$'
		if b < utf8.RuneSelf {
			switch {
			case isLetter(b) || b == '_':
				nameByte[c] = nameStart
			case isDigit(b):
				nameByte[c] = nameDigit
			}
		}
	}
	for _, b := range []byte(`'"$-/?:@[]`) {
		stopBits[b] |= pgStop
	}
	for _, b := range []byte("'\"`#-/?:*") {
		stopBits[b] |= myStop
	}
	for _, b := range []byte("+-*/<>=~!@#%^&|`?") {
		pgOpChar[b] = true
	}
}

// opCode is a Plan's Operation: 0 for none, i+1 for keywords[i], or opOther
// for a word outside the table, kept in the Plan's extra.
type opCode uint8

const opOther opCode = 255

// operation returns the first keyword of q as sqlscan reads it, after white
// space, comments and opening parentheses: as an opCode when it is one of the
// keywords, else upper-cased as a string. The sql_mode flags do not matter
// here: they change only where a string or quoted identifier ends, and a
// query that starts with one has no keyword. sqlscan reads only the prefix
// of the query, so this is cheap even for SQLite, whose queries are
// otherwise never lexed.
func operation(d Dialect, q string) (opCode, string) {
	return keyword(sqlscan.FirstKeyword(d, 0, q))
}

// keywords are the statement keywords a Plan stores as an opCode.
var keywords = [...]string{
	"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "TABLE",
	"CREATE", "DROP", "ALTER", "TRUNCATE", "MERGE", "REPLACE", "UPSERT",
	"BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END",
	"SET", "SHOW", "EXPLAIN", "ANALYZE", "CALL", "COPY", "LOCK", "GRANT",
	"REVOKE", "PRAGMA", "VACUUM", "DO", "DECLARE", "FETCH", "PREPARE",
	"EXECUTE", "DEALLOCATE", "LISTEN", "NOTIFY", "USE", "DESCRIBE",
	"REFRESH", "REINDEX", "CLUSTER", "COMMENT", "RESET", "LOAD", "HANDLER",
	"CHECKPOINT", "DISCARD", "UNLISTEN", "ABORT", "ATTACH", "DETACH",
	"OPTIMIZE", "REPAIR", "CHECK", "RENAME", "FLUSH", "KILL", "XA",
}

// maxKeyword bounds the length of a word Operation will return: no statement
// keyword is longer, and a long word is an identifier, not a keyword.
const maxKeyword = 32

// keyword returns the opCode of the word w, or opOther and w upper-cased. A
// word that is not ASCII letters, digits and _ from a letter (MySQL's @var or
// 1abc, a name with $ or non-ASCII letters) is no statement keyword: 0.
func keyword(w string) (opCode, string) {
	if len(w) > maxKeyword {
		return 0, ""
	}
	for i, k := range &keywords {
		if len(k) == len(w) && (k == w || strings.EqualFold(k, w)) {
			return opCode(i + 1), ""
		}
	}
	if w == "" || !isLetter(w[0]) {
		return 0, ""
	}
	for i := 1; i < len(w); i++ {
		if nameByte[w[i]] == 0 {
			return 0, ""
		}
	}
	return opOther, strings.ToUpper(w)
}
