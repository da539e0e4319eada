package rewrite

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// fastPlan returns the Plan of parsePositional, or nil.
func fastPlan(g lang, q string) *Plan {
	l := newLexer(g.d, g.m, q)
	p, _, _, _, _ := parsePositional(&l)
	return p
}

// parseSlow parses q with parseAll alone.
func parseSlow(g lang, q string) (*Plan, *Error) {
	l := newLexer(g.d, g.m, q)
	tok, s, e, err := l.next()
	return parseAll(&l, tok, s, e, err, false)
}

// checkFastPath asserts that parsePositional, when it takes q, returns the
// same Plan as parseAll.
func checkFastPath(t *testing.T, d lang, q string) {
	t.Helper()
	fast := fastPlan(d, q)
	if fast == nil {
		return
	}
	all, err := parseSlow(d, q)
	if err != nil {
		t.Fatalf("%s %q: fast path gives %q, parseAll fails: %v", d, q, fast.Query(), err)
	}
	if fast.query != all.query || fast.orig != all.orig || fast.numInput != all.numInput ||
		fast.op != all.op || fast.dialect != all.dialect || fast.style != all.style ||
		(fast.extra == nil) != (all.extra == nil) || fast.extra != nil && fast.extra.op != all.extra.op {
		t.Fatalf("%s %q: fast path plan\n%+v\nparseAll plan\n%+v", d, q, *fast, *all)
	}
}

func TestFastPath(t *testing.T) {
	many := strings.Repeat("?, ", maxFastParams) + "?"
	for _, tc := range []struct {
		d    Dialect
		in   string
		fast bool // parsePositional takes it
	}{
		{Postgres, "SELECT 1", true},
		{Postgres, "?", true},
		{Postgres, "??", false},
		{Postgres, "? ??", true},
		{Postgres, "?? ?", false},
		{Postgres, "a?b?c", true},
		{Postgres, "SELECT '?', \"?\", $$?$$ /* ? */ -- ?\n, ?", true},
		{Postgres, "SELECT E'\\'?', ?, x[1:2], ?::int, a@>b, ? - ? / ? AND a$1 = ?", true},
		{Postgres, "SELECT ?, :name", false},
		{Postgres, "SELECT ?, $1", false},
		{Postgres, "SELECT :name", false},
		{Postgres, "SELECT ?, 'open", false},
		{Postgres, "SELECT " + many, false},
		{Postgres, "SELECT " + strings.Repeat("'?' ", maxFastParams) + "?", true},
		{Postgres, "SELECT ?" + strings.Repeat(", '?'", maxFastParams), false},
		{Postgres, "SELECT " + strings.Repeat("?ab", maxFastParams), true},
		{MySQL, "SELECT ?, ?", true},
		{MySQL, "SELECT ??", false},
		{MySQL, "SELECT /*! ? */ ?", true},
		{MySQL, "SELECT /*! ?", false},
		{MySQL, "SELECT " + many, true},
	} {
		g := lang{d: tc.d}
		p := fastPlan(g, tc.in)
		if (p != nil) != tc.fast {
			t.Errorf("%s %q: fast path taken: %v, want %v", tc.d, tc.in, p != nil, tc.fast)
		}
		checkFastPath(t, g, tc.in)
		checkQuery(t, g, tc.in)
	}
}

// TestFastPathSize checks the bound on the native query's length: every ?
// becomes " $k " with k of two digits.
func TestFastPathSize(t *testing.T) {
	q := strings.Repeat("a?", maxFastParams) + "a"
	p := fastPlan(lang{d: Postgres}, q)
	if p == nil {
		t.Fatalf("%q: fast path not taken", q)
	}
	checkFastPath(t, lang{d: Postgres}, q)
}

// TestFastPathRandom compares the fast path with parseAll, and checks the
// fuzz properties, on random queries made of the pieces the lexers care
// about, long enough to cross the eight-byte steps of the scanners: pieces of
// any kind, and pieces that leave most queries to the fast path.
func TestFastPathRandom(t *testing.T) {
	common := []string{
		"?", "?", "?", "??", " ", " ", "a", "abcdefgh", "x1", "_", "1", ",", "(", ")", "=", ".",
		"'", "''", `"`, "E'", "e'", "U&'", "X'", `\`, "--", "-", "/*", "*/", "/", "*", "\n",
		"::", "[", "]", "#", "`", "é", "?a", "a?", "<@", "@>", "a$b", "@?", "THEN", "t.", "\t",
	}
	other := []string{"$", "$1", "$$", "$t$", ":", ":a", ":=", "@", "@a", "/*!", "/*M!", "[:a", ": ", "And"}
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for k, pieces := range [][]string{append(common, other...), common} {
		rng := rand.New(rand.NewPCG(1, uint64(k)))
		var b strings.Builder
		for range n {
			b.Reset()
			for range rng.IntN(40) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			q := b.String()
			for _, g := range langs {
				checkFastPath(t, g, q)
				checkQuery(t, g, q)
			}
		}
	}
}

// TestSkip compares skip, and firstStop through the pair table, with a byte
// by byte search.
func TestSkip(t *testing.T) {
	pairs := pairTable()
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab ?'\"$-/:@[]#`*\\\xc3"
	buf := make([]byte, 40)
	for range 5000 {
		for k := range buf {
			buf[k] = alphabet[rng.IntN(len(alphabet))]
		}
		q := string(buf[:rng.IntN(len(buf))])
		for _, bit := range []uint8{pgStop, myStop} {
			for i := 0; i <= len(q); i++ {
				want := i
				for want < len(q) && stopBits[q[want]]&bit == 0 {
					want++
				}
				if got := skip(q, i, bit, pairs); got != want {
					t.Fatalf("skip(%q, %d, %d) = %d, want %d", q, i, bit, got, want)
				}
				if bit != pgStop || i+8 > len(q) || want >= i+8 {
					continue
				}
				w := q[i : i+8]
				p0, p1 := pairs[uint16(w[0])|uint16(w[1])<<8], pairs[uint16(w[2])|uint16(w[3])<<8]
				p2, p3 := pairs[uint16(w[4])|uint16(w[5])<<8], pairs[uint16(w[6])|uint16(w[7])<<8]
				if got := i + firstStop(p0, p1, p2, p3); got != want {
					t.Fatalf("firstStop in %q at %d = %d, want %d", q, i, got, want)
				}
			}
		}
	}
}
