package sqlscan

import (
	"strings"
	"testing"
)

// FuzzScan checks, for every dialect and mode, that tokens cover the text in
// order without overlap, that only white space lies between them, that a
// scanning error names an offset inside the text, and that statements are
// made of those tokens.
func FuzzScan(f *testing.F) {
	for _, q := range []string{
		"SELECT 1; BEGIN", "# c\nBEGIN", "/*!40000 ALTER TABLE t */", "E'\\''", "$a$ $b$ $a$",
		"U&'x' U&\"y\"", "[a]", "'it''s'", "x::int :id @v ?1 $2", "/* /* */ */ --x\n;",
	} {
		f.Add(q, uint8(0))
	}
	f.Fuzz(func(t *testing.T, q string, mode uint8) {
		for _, d := range []Dialect{SQLite, Postgres, MySQL} {
			m := Mode(mode) & (NoBackslashEscapes | ANSIQuotes)
			s := New(d, m, q)
			prev := 0
			for {
				tok := s.Next()
				if tok.Start < prev || tok.End < tok.Start || tok.End > len(q) {
					t.Fatalf("%s %q: token %v after offset %d", d, q, tok, prev)
				}
				if gap := q[prev:tok.Start]; strings.TrimLeft(gap, " \t\r\n\f\v") != "" {
					t.Fatalf("%s %q: non-space %q skipped before %v", d, q, gap, tok)
				}
				if tok.Kind == EOF {
					if tok.Start != len(q) {
						t.Fatalf("%s %q: EOF at %d", d, q, tok.Start)
					}
					break
				}
				if tok.End == tok.Start {
					t.Fatalf("%s %q: empty token %v", d, q, tok)
				}
				prev = tok.End
			}
			if err, ok := s.Err().(*Error); ok && (err.Offset < 0 || err.Offset > len(q)) {
				t.Fatalf("%s %q: error offset %d", d, q, err.Offset)
			}
			s.Reset(d, m, q)
			end := 0
			for {
				st, ok := s.NextStatement()
				if !ok {
					break
				}
				if st.Start < end || st.End < st.Start || st.End > len(q) {
					t.Fatalf("%s %q: statement [%d,%d) after %d", d, q, st.Start, st.End, end)
				}
				if kw := st.Keyword(); kw != "" && !strings.Contains(q[st.Start:st.End], kw) {
					t.Fatalf("%s %q: keyword %q outside its statement", d, q, kw)
				}
				end = st.End
			}
		}
	})
}
