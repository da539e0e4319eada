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
//	          blocks that were not counted, and END CASE the CASE's own.
//	          begin is an identifier there too, so BEGIN opens a block only
//	          where a block may start (the end of the routine's header, or
//	          after ; : THEN ELSE DO LOOP REPEAT or an opening BEGIN) and
//	          before a word that starts a statement (blockStart) or a
//	          label (lbl:); an empty BEGIN END only where no expression
//	          may be (after ; or a label, or ending the header)
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
	pending  uint8 // mysql: the previous token was a BEGIN that opens a block if the next starts a statement (pending…)
	object   uint8 // mysql: the routine's kind, its word's first letter (t, f, p, e)
	params   bool  // mysql: the header's parameter list has started
	depth    int32 // open blocks
	paren    int32 // open parentheses before the body
	prev     Token // the previous token other than a comment
	prevWord string
	prev2    string // the word before prevWord, when both are words
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

// The kinds of a pending MySQL BEGIN: where it is, and so what must follow
// for it to open a block.
const (
	pendingNone  uint8 = iota
	pendingStart       // where only a statement may start (after ; or a label, or ending a header): END or a label may follow too
	pendingAfter       // after THEN, ELSE, DO, LOOP, REPEAT or BEGIN, where an expression may be too
	pendingLabel       // BEGIN and a word: a ':' makes the word a label
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
	prev, prevWord, prev2 := b.prev, b.prevWord, b.prev2
	b.prev, b.prevWord, b.prev2 = t, w, ""
	if w != "" {
		b.prev2 = prevWord
	}
	afterEnd := b.afterEnd
	b.afterEnd = false
	if p := b.pending; p != pendingNone {
		b.pending = pendingNone
		switch {
		case p == pendingLabel && t.Kind == Punct && t.End-t.Start == 1 && q[t.Start] == ':',
			p != pendingLabel && blockStart(w),
			p == pendingStart && isWord(w, "END"):
			b.depth++
			b.state = bodyOpen
		case p != pendingLabel && w != "":
			b.pending = pendingLabel
		}
	}
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
			b.state, b.object = bodyHeader, w[0]|0x20
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
			b.params = true
		case t.Kind == Punct && q[t.Start] == ')':
			b.paren--
		case !isWord(w, "BEGIN"):
		case b.d == SQLite:
			b.state, b.depth = bodyOpen, 1
		case b.paren != 0:
		case b.d == Postgres:
			b.state = bodyBeginPG
		case b.d == MySQL && b.headerEnd(q, prev, prevWord, prev2):
			b.pending = pendingStart
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
		case isWord(w, "CASE"):
			b.depth++
		case b.d == MySQL && isWord(w, "BEGIN"):
			switch {
			case prev.Kind == Semicolon || prev.Kind == Punct && prev.End-prev.Start == 1 && q[prev.Start] == ':':
				b.pending = pendingStart
			case isWord(prevWord, "THEN") || isWord(prevWord, "ELSE") || isWord(prevWord, "DO") ||
				isWord(prevWord, "LOOP") || isWord(prevWord, "REPEAT") || isWord(prevWord, "BEGIN"):
				b.pending = pendingAfter
			}
		case isWord(w, "END") && b.depth > 0:
			b.depth--
			b.afterEnd = true
			if b.depth == 0 && b.d != MySQL {
				b.state = bodyNone
			}
		}
	}
}

// headerEnd reports whether a MySQL routine's header may end before the
// current token, a BEGIN outside parentheses: after FOR EACH ROW or
// FOLLOWS|PRECEDES name (a trigger), DO (an event), or once the parameters
// have started, after ')', a COMMENT string or a characteristic's last
// word (a procedure), or after any word (a function, whose header ends in
// its return type, and whose body has a RETURN, so is no lone statement
// that could hold an identifier begin).
func (b *Body) headerEnd(q string, prev Token, prevWord, prev2 string) bool {
	switch b.object {
	case 't':
		return isWord(prevWord, "ROW") || isWord(prev2, "FOLLOWS") || isWord(prev2, "PRECEDES")
	case 'e':
		return isWord(prevWord, "DO")
	case 'f':
		return b.params && (prev.Kind == Word || prev.Kind == String || prev.Kind == Punct && q[prev.Start] == ')')
	case 'p':
		return b.params && (prev.Kind == String || prev.Kind == Punct && q[prev.Start] == ')' ||
			isWord(prevWord, "DETERMINISTIC") || isWord(prevWord, "SQL") || isWord(prevWord, "DATA") ||
			isWord(prevWord, "DEFINER") || isWord(prevWord, "INVOKER"))
	}
	return false
}

// blockStart reports whether w, the word after a MySQL BEGIN where a block
// may start, starts a statement, so the BEGIN opens a block and is no
// identifier begin: a reserved word that starts a statement of a stored
// program. Words that may follow an identifier (FROM, FOR, WITH, END, …)
// are not among them; a block that starts otherwise is not counted, and
// its END then ends the body early, which splits the text into more
// statements, each read on its own.
func blockStart(w string) bool {
	if w == "" {
		return false
	}
	switch w[0] | 0x20 {
	case 'b':
		return isWord(w, "BEGIN")
	case 'c':
		return isWord(w, "CALL") || isWord(w, "CASE") || isWord(w, "CLOSE")
	case 'd':
		return isWord(w, "DECLARE") || isWord(w, "DELETE")
	case 'f':
		return isWord(w, "FETCH")
	case 'g':
		return isWord(w, "GET")
	case 'i':
		return isWord(w, "IF") || isWord(w, "INSERT") || isWord(w, "ITERATE")
	case 'l':
		return isWord(w, "LEAVE") || isWord(w, "LOOP")
	case 'o':
		return isWord(w, "OPEN")
	case 'r':
		return isWord(w, "REPEAT") || isWord(w, "REPLACE") || isWord(w, "RESIGNAL") || isWord(w, "RETURN")
	case 's':
		return isWord(w, "SELECT") || isWord(w, "SET") || isWord(w, "SIGNAL")
	case 'u':
		return isWord(w, "UPDATE")
	case 'w':
		return isWord(w, "WHILE")
	}
	return false
}

// isWord reports whether w is word, compared without regard to ASCII case.
func isWord(w, word string) bool { return strings.EqualFold(w, word) }
