package rewrite

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// maxFastParams is the most ? bytes, placeholders or not, from the first
// placeholder on that a query may hold for rewritePositional, which sizes the
// native query by their number before it has seen them: each may leave up to
// two bytes unused. Queries with more go through parseAll, which sizes it
// exactly.
const maxFastParams = 16

// parsePositional is parse for the commonest queries: ? placeholders only, and
// on Postgres ?? after the first of them, among any literals and comments.
//
// Up to the first ? it only scans, stopping at the bytes stopBits marks and
// taking a lone ? itself; everything else is left to the lexer. On Postgres,
// rewritePositional then copies and rewrites the rest of the query in the same
// pass.
//
// For any other query it returns a nil Plan and the token where parseAll is to
// go on: the first placeholder, with l just past it. When it has consumed a ?
// already (a query that then fails to lex or mixes styles, MySQL's ??), it
// starts l again and returns l's first token.
func parsePositional(l *lexer) (*Plan, tokKind, int, int, *Error) {
	q := l.q
	stop := uint8(pgStop)
	if l.dialect == MySQL {
		stop = myStop
	}
	count := 0
scan:
	for i := 0; ; i++ {
		i = skip(q, i, stop, l.pairs)
		if i >= len(q) {
			if l.exec {
				break // unterminated /*! … */, which the lexer reports
			}
			st := styleNone
			if count > 0 {
				st = stylePositional
			}
			p := new(Plan)
			p.init(l.dialect, q, q, st, count, nil)
			return p, tokEOF, 0, 0, nil
		}
		if q[i] != '?' || i+1 < len(q) && q[i+1] == '?' {
			// Not a lone ?: let the lexer take it, up to its next token.
			l.pos = i
			tok, s, e, err := l.next()
			switch {
			case err != nil:
				break scan
			case tok == tokString || tok == tokIdent || tok == tokComment:
				i = e - 1
				continue
			case tok == tokEOF:
				i = e - 1 // skip stops at once, at the end
				continue
			case tok != tokPositional:
				if count > 0 {
					break scan
				}
				return nil, tok, s, e, nil
			}
			i = s
		}
		// A lone ? at i, as the lexer emits it.
		l.pos, l.boundary, l.operandEnd = i+1, i+1, i+1
		if l.dialect == Postgres {
			c := strings.Count(q[i:], "?")
			if c > maxFastParams {
				return nil, tokPositional, i, i + 1, nil
			}
			if p := rewritePositional(l, i, c); p != nil {
				return p, tokEOF, 0, 0, nil
			}
			break
		}
		if i+1 < len(q) && identCont[q[i+1]] {
			break // ?AND: parseAll adds the space MySQL needs
		}
		count++ // MySQL takes ? as it is
	}
	l.reset(l.dialect, l.mode, q)
	tok, s, e, err := l.next()
	return nil, tok, s, e, err
}

// rewritePositional finishes parsePositional on Postgres from the lone ? at i,
// the first placeholder of the query, or returns nil. c is the number of ?
// bytes from i on, at most maxFastParams. It copies the query up to i, then
// scans and copies the rest in the same pass, rewriting ? into $k and ?? into
// ?, and leaving literals and comments to l: the native query is written into
// the allocation that holds the Plan, whose size is bounded in advance by c:
// $k takes the digits of k more than ?, and at most a space on either side.
func rewritePositional(l *lexer, i, c int) *Plan {
	q := l.q
	n := len(q)
	size := n + c + max(c-9, 0) + 2*c // valid for c < 100
	p, buf := newPlanBuf(size)
	buf = buf[:size]
	j := copy(buf, q[:i])
	count, end := 0, 0
	for {
		i, j, count, end = rewritePlain(buf, j, q, i, count, l.pairs)
		if end > 0 {
			// The lexer's state after the last ?, as if it had emitted it.
			l.boundary, l.operandEnd = end, end
		}
		if i >= n {
			break
		}
		// q[i] is a byte the scanner stops at, and not a lone ?.
		if q[i] == '?' { // ??
			buf[j] = '?'
			j++
			i += 2
			l.boundary = i
			continue
		}
		l.pos = i
		tok, s, e, err := l.next()
		if err != nil {
			return nil
		}
		switch tok {
		case tokString, tokIdent, tokComment:
			j += copy(buf[j:], q[i:e])
			i = e
		case tokPositional, tokEscape:
			j += copy(buf[j:], q[i:s])
			i = s
		case tokEOF:
			j += copy(buf[j:], q[i:])
			i = n
		default:
			return nil // a named or native parameter after ?
		}
	}
	// The bytes are never written again: the string owns them from here on.
	p.init(Postgres, q, unsafe.String(unsafe.SliceData(buf), j), stylePositional, count, nil)
	return p
}

// rewritePlain copies q[i:] to dst[j:], eight bytes at a time where it can,
// and rewrites each lone ? into $k, up to the end or to the first other byte
// the Postgres scanner stops at; count is the number of ? before q[i]. It
// returns the offsets reached in q and dst, the number of ? so far, and the
// offset just past the last ? it rewrote, or 0. dst has room for the rest of
// the native query, and dst[j:] is never shorter than q[i:].
func rewritePlain(dst []byte, j int, q string, i, count int, pairs *[1 << 16]uint8) (int, int, int, int) {
	src := unsafe.Slice(unsafe.StringData(q), len(q)) // read only
	end := 0
	for {
		for i+8 <= len(q) {
			w := q[i : i+8]
			p0, p1 := pairs[uint16(w[0])|uint16(w[1])<<8], pairs[uint16(w[2])|uint16(w[3])<<8]
			p2, p3 := pairs[uint16(w[4])|uint16(w[5])<<8], pairs[uint16(w[6])|uint16(w[7])<<8]
			// All eight bytes are copied: those from a stop on are
			// written again later.
			binary.LittleEndian.PutUint64(dst[j:j+8], binary.LittleEndian.Uint64(src[i:i+8]))
			if (p0|p1|p2|p3)&0b0011 != 0 {
				n := firstStop(p0, p1, p2, p3)
				i += n
				j += n
				goto stop
			}
			i += 8
			j += 8
		}
		for i < len(q) && stopBits[q[i]]&pgStop == 0 {
			dst[j] = q[i]
			i++
			j++
		}
	stop:
		if i >= len(q) || q[i] != '?' || i+1 < len(q) && q[i+1] == '?' {
			return i, j, count, end
		}
		// $k, apart from a neighbouring identifier byte so that Postgres
		// lexes it alone ("?AND" becomes "$1 AND"). The byte written before
		// it is q[i-1], or the ? of a ?? just before, which is no identifier
		// byte either.
		count++
		if i > 0 && identCont[q[i-1]] {
			dst[j] = ' '
			j++
		}
		if count < 10 {
			dst[j], dst[j+1] = '$', byte('0'+count)
			j += 2
		} else {
			j += putDollar(dst[j:], count)
		}
		i++
		end = i
		if i < len(q) && identCont[q[i]] {
			dst[j] = ' '
			j++
		}
	}
}
