package sqlscan

import "strings"

// MaxWords is how many leading words a Statement keeps.
const MaxWords = 5

// Statement is one statement of a text: its span and its leading words.
type Statement struct {
	// Start and End are the byte span from its first token to the end of
	// its last, without the ';' that ends it.
	Start, End int
	// Code reports whether the statement has a token other than comments
	// (a statement of comments alone has Code false and no words).
	Code bool
	// words are the leading words, after comments and opening parentheses,
	// up to the first token that is not a word or comment.
	words [MaxWords]string
	nword int
}

// Keyword returns the statement's first word as written ("select",
// "BEGIN"), or "" when it does not start with a word.
func (st *Statement) Keyword() string { return st.words[0] }

// Word returns the i-th leading word (from 0), or "".
func (st *Statement) Word(i int) string {
	if i < 0 || i >= st.nword {
		return ""
	}
	return st.words[i]
}

// Is reports whether the statement's leading words are words, compared
// without regard to ASCII case: st.Is("START", "TRANSACTION").
func (st *Statement) Is(words ...string) bool {
	if len(words) > st.nword {
		return false
	}
	for i, w := range words {
		if !strings.EqualFold(st.words[i], w) {
			return false
		}
	}
	return true
}

// NextStatement returns the next statement of the text and true, or false
// when none is left. Empty statements (";;") are skipped; a statement of
// comments alone is returned with Code false. A ';' inside a compound body
// (Body) is part of the statement; a body still open at the end of the
// text was misread, so the statement then ends at its first ';' after all,
// and bodies are no longer looked for in the rest of the text (which keeps
// the scan linear: the text after that ';' is read at most twice).
// Scanning errors end the statement at the end of the text and are
// reported by Err.
func (s *Scanner) NextStatement() (Statement, bool) {
	var st Statement
	st.Start = -1
	words := true // still reading leading words
	var body Body
	body.Reset(s.d)
	// The first ';' inside the body, to end the statement at should the
	// body not close: the scanner's state after it and the statement's end
	// before it.
	var (
		semi     Token
		semiExec bool
		semiEnd  int
	)
	semi.Start = -1
	for {
		t := s.Next()
		switch t.Kind {
		case EOF:
			if body.Open() && semi.Start >= 0 {
				s.pos, s.prev, s.exec, s.noBody = semi.End, semi, semiExec, true
				st.End = semiEnd
				return st, true
			}
			return st, st.Start >= 0
		case Semicolon:
			if !body.Open() {
				if st.Start >= 0 {
					return st, true
				}
				continue
			}
			if semi.Start < 0 {
				semi, semiExec, semiEnd = t, s.exec, st.End
			}
		}
		if st.Start < 0 {
			st.Start = t.Start
		}
		if !s.noBody {
			body.Token(s.q, t)
		}
		st.End = t.End
		switch {
		case t.Kind == Comment:
		case t.Kind == Punct && words && st.nword == 0 && s.q[t.Start] == '(':
			st.Code = true
		case t.Kind == Word && words:
			st.Code = true
			if st.nword < MaxWords {
				st.words[st.nword] = s.q[t.Start:t.End]
				st.nword++
			}
		default:
			st.Code = true
			words = false
		}
	}
}

// FirstKeyword returns the first word of the first statement of q, after
// white space, comments and opening parentheses, or "".
func FirstKeyword(d Dialect, mode Mode, q string) string {
	// The common case, a query starting with its keyword, without a scan.
	if q != "" && isWordStart(q[0]) && q[0] < 0x80 {
		j := 1
		for j < len(q) && isWordByte(q[j]) {
			j++
		}
		if j == len(q) || q[j] != '\'' && q[j] != '&' {
			return q[:j]
		}
	}
	s := New(d, mode, q)
	st, _ := s.NextStatement()
	return st.Keyword()
}
