package insights

import (
	"strings"
	"unicode/utf8"

	"github.com/go-databases/databases/sqlscan"
)

// MaxSummaryLen is the length in bytes beyond which a summary is cut (at
// a character boundary, with "…" appended): a query of several megabytes
// with inlined data must not keep megabytes alive, nor fill the page.
const MaxSummaryLen = 1024

// Summarize returns the summary of query q as this package keeps it: the
// query read with the lexical rules of dialect d (sqlscan), its comments
// dropped, white space between tokens made one space, every string and
// numeric literal and every placeholder written '?', and a parenthesised
// list of only such values after IN or VALUES written (...), further VALUES
// rows dropped, so that IN lists and VALUES rows of any length make one
// summary:
//
//	SELECT *  FROM users /* by id */ WHERE id = $1          → SELECT * FROM users WHERE id = ?
//	INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')          → INSERT INTO t (a, b) VALUES (...)
//	DELETE FROM t WHERE id IN (?, ?, ?)                     → DELETE FROM t WHERE id IN (...)
//
// It is what pg_stat_statements calls a normalised query. It carries no
// value of the query: no literal, no argument, no password. Names and
// keywords are kept as written, and so are the numbers of a statement that
// begins with CREATE, ALTER or DROP, which are sizes and precisions of
// types rather than values (VARCHAR(20), DECIMAL(10, 2)); its strings are
// still written '?'. Bytes that are not UTF-8 become U+FFFD, and
// a summary longer than MaxSummaryLen is cut.
func Summarize(d sqlscan.Dialect, mode sqlscan.Mode, q string) string {
	toks := make([]word, 0, 16)
	s := sqlscan.New(d, mode, q)
	n, space, short := 0, false, false
	first, ddl := true, false // at a statement's first token; in DDL
	for {
		t := s.Next()
		if t.Kind == sqlscan.EOF {
			break
		}
		if t.Kind == sqlscan.Comment {
			space = true
			continue
		}
		if n > MaxSummaryLen {
			short = true // more to come than a summary holds
			break
		}
		w := word{text: q[t.Start:t.End], gap: space || len(toks) > 0 && t.Start > toks[len(toks)-1].end, end: t.End}
		if first {
			ddl = t.Kind == sqlscan.Word && (strings.EqualFold(w.text, "CREATE") || strings.EqualFold(w.text, "ALTER") || strings.EqualFold(w.text, "DROP"))
		}
		first = t.Kind == sqlscan.Semicolon
		if t.Kind == sqlscan.String || t.Kind == sqlscan.Number && !ddl || t.Kind == sqlscan.Param {
			w.text = "?"
		}
		space = false
		toks = append(toks, w)
		n += len(w.text) + 1
	}
	toks = collapseLists(toks)

	var b strings.Builder
	b.Grow(min(n, MaxSummaryLen+4))
	for _, w := range toks {
		if b.Len() > 0 && w.gap {
			b.WriteByte(' ')
		}
		b.WriteString(w.text)
		if b.Len() > MaxSummaryLen {
			break
		}
	}
	return cut(b.String(), short)
}

// cut returns s with bytes that are not UTF-8 replaced by U+FFFD (which
// can make it longer), then cut to MaxSummaryLen bytes at a character
// boundary with "…" appended; "…" is appended too when more was left out.
func cut(s string, more bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > MaxSummaryLen {
		n := MaxSummaryLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return s[:n] + "…"
	}
	if more {
		return s + "…"
	}
	return s
}

// word is a token of a summary: its text, and whether white space or a
// comment came before it.
type word struct {
	text string
	gap  bool
	end  int // where it ends in the query
}

// collapseLists replaces each parenthesised list of values, ( ? [, ?]... ),
// that follows IN or VALUES by one word "(...)", and drops the lists that
// follow one after a comma, the further rows of a VALUES clause. Other
// parentheses, such as VARCHAR(?) or coalesce(?, ?), are kept.
func collapseLists(toks []word) []word {
	out := toks[:0]
	for i := 0; i < len(toks); i++ {
		k := len(out)
		row := k >= 2 && out[k-1].text == "," && out[k-2].text == "(...)"
		if end := listEnd(toks, i); end > 0 && (row || k >= 1 && (strings.EqualFold(out[k-1].text, "IN") || strings.EqualFold(out[k-1].text, "VALUES"))) {
			if row {
				out = out[:k-1] // a further row: drop it and its comma
			} else {
				out = append(out, word{text: "(...)", gap: toks[i].gap})
			}
			i = end
			continue
		}
		out = append(out, toks[i])
	}
	return out
}

// listEnd returns the index of the ")" that closes a list of values opened
// at toks[i], or 0 when toks[i] does not open one.
func listEnd(toks []word, i int) int {
	if toks[i].text != "(" {
		return 0
	}
	for j := i + 1; j+1 < len(toks); j += 2 {
		if toks[j].text != "?" {
			return 0
		}
		switch toks[j+1].text {
		case ")":
			return j + 1
		case ",":
		default:
			return 0
		}
	}
	return 0
}
