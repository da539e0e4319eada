package sqlscan

import "strings"

// Body follows the tokens of one statement to tell whether a ';' is inside
// a compound body, which the server reads as part of the statement:
//
//	sqlite    CREATE [TEMP] TRIGGER … BEGIN …; END: the first BEGIN opens
//	          the body (triggers hold no nested blocks), CASE … END nests
//	postgres  CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC …; END:
//	          BEGIN ATOMIC outside parentheses opens it, CASE … END nests
//	mysql     CREATE [DEFINER = u] TRIGGER|FUNCTION|PROCEDURE|EVENT and
//	          MariaDB's BEGIN NOT ATOMIC: BEGIN and CASE open blocks, END
//	          closes one; END IF, END LOOP, END WHILE and END REPEAT close
//	          blocks that were not counted, and END CASE the CASE's own
//
// BEGIN and END may be identifiers on every dialect. An identifier read as
// END closes the body early, so the text is split into more statements,
// each read on its own. A body still open at the end of the text was not
// one: NextStatement then ends the statement at its first ';' instead (see
// there). The zero value is the state before a statement's first token;
// Reset sets the dialect.
type Body struct {
	d        Dialect
	state    uint8
	afterEnd bool  // the previous token was END
	depth    int32 // open blocks
	paren    int32 // open parentheses before the body (postgres)
}

// The states of a Body: where in the statement it is.
const (
	bodyStart   uint8 = iota // before the first token
	bodyCreate               // after CREATE and its modifiers (OR REPLACE, TEMP, …)
	bodyDefiner              // in MySQL's DEFINER = user clause
	bodyHeader               // a routine's header, before its body (sqlite, postgres)
	bodyBeginPG              // BEGIN outside parentheses in a header: ATOMIC opens the body
	bodyBeginMy              // a MySQL statement's first BEGIN: NOT ATOMIC opens a block
	bodyOpen                 // in the body: blocks are counted
	bodyNone                 // any other statement, or after the body
)

// Reset readies b for a statement of dialect d.
func (b *Body) Reset(d Dialect) { *b = Body{d: d} }

// Open reports whether a ';' now would be inside the body.
func (b *Body) Open() bool { return b.depth > 0 }

// Token takes the statement's next token from q, its ';' inside the body
// included. Comments are skipped.
func (b *Body) Token(q string, t Token) {
	if t.Kind == Comment || b.state == bodyNone {
		return
	}
	w := ""
	if t.Kind == Word {
		w = q[t.Start:t.End]
	}
	afterEnd := b.afterEnd
	b.afterEnd = false
	switch b.state {
	case bodyStart:
		b.state = bodyNone
		switch {
		case isWord(w, "CREATE"):
			b.state = bodyCreate
		case b.d == MySQL && isWord(w, "BEGIN"):
			b.state = bodyBeginMy
		}
	case bodyBeginMy:
		b.state = bodyNone
		if isWord(w, "NOT") {
			b.state, b.depth = bodyOpen, 1
		}
	case bodyCreate, bodyDefiner:
		switch {
		case b.d == SQLite && isWord(w, "TRIGGER"),
			b.d == Postgres && (isWord(w, "FUNCTION") || isWord(w, "PROCEDURE")):
			b.state = bodyHeader
		case b.d == MySQL && (isWord(w, "TRIGGER") || isWord(w, "FUNCTION") || isWord(w, "PROCEDURE") || isWord(w, "EVENT")):
			b.state = bodyOpen
		case b.state == bodyCreate && (isWord(w, "OR") || isWord(w, "REPLACE") || isWord(w, "TEMP") ||
			isWord(w, "TEMPORARY") || isWord(w, "AGGREGATE")):
		case b.d == MySQL && isWord(w, "DEFINER"):
			b.state = bodyDefiner
		case b.state == bodyDefiner && (t.Kind != Punct || strings.Contains("=@()", q[t.Start:t.End])):
			// = user, 'user'@'host', `user`@`host`, CURRENT_USER()
		default:
			b.state = bodyNone
		}
	case bodyHeader:
		switch {
		case t.Kind == Punct && q[t.Start] == '(':
			b.paren++
		case t.Kind == Punct && q[t.Start] == ')':
			b.paren--
		case isWord(w, "BEGIN") && b.d == SQLite:
			b.state, b.depth = bodyOpen, 1
		case isWord(w, "BEGIN") && b.paren == 0:
			b.state = bodyBeginPG
		}
	case bodyBeginPG:
		b.state = bodyHeader
		if isWord(w, "ATOMIC") {
			b.state, b.depth = bodyOpen, 1
		}
	case bodyOpen:
		switch {
		case b.d == MySQL && afterEnd && (isWord(w, "IF") || isWord(w, "LOOP") || isWord(w, "WHILE") || isWord(w, "REPEAT")):
			b.depth++
		case b.d == MySQL && afterEnd && isWord(w, "CASE"):
		case isWord(w, "CASE"), b.d == MySQL && isWord(w, "BEGIN"):
			b.depth++
		case isWord(w, "END") && b.depth > 0:
			b.depth--
			b.afterEnd = true
			if b.depth == 0 && b.d != MySQL {
				b.state = bodyNone
			}
		}
	}
}

// isWord reports whether w is word, compared without regard to ASCII case.
func isWord(w, word string) bool { return strings.EqualFold(w, word) }
