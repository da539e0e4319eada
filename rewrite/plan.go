package rewrite

import (
	"github.com/go-databases/databases/sqlscan"

	"database/sql/driver"
	"strconv"
	"strings"
	"unsafe"
)

// style is the placeholder style a query was written in.
type style uint8

const (
	styleNone       style = iota // no placeholders at all
	stylePositional              // ?
	styleNative                  // $n (Postgres)
	styleNamed                   // :name or @name (SQLite: also $name)
)

func (s style) String() string {
	switch s {
	case stylePositional:
		return "positional ?"
	case styleNative:
		return "native $n"
	case styleNamed:
		return "named"
	}
	return "no"
}

// maxNative is the largest $n Postgres accepts (its wire protocol counts
// parameters in 16 bits).
const maxNative = 65535

// maxQueryLen keeps every offset within the int32 fields of the parser.
const maxQueryLen = 1<<31 - 1

// param is one distinct named parameter: its name and the offset of its first
// occurrence in the query as written.
type param struct {
	name string
	off  int
}

// Plan is the analysis of one query for one dialect: the native SQL and how
// the arguments database/sql hands over map onto it. A Plan is immutable and
// safe to share between goroutines.
//
// An uncached Parse costs mostly its allocation, so a Plan is 48 bytes and
// shares one allocation with its native query (see newPlanBuf); what only
// named parameters need lives behind a pointer.
type Plan struct {
	query    string // native SQL
	orig     string // the query as written, for error offsets
	extra    *extra // named parameters, rare operations; usually nil
	numInput int32
	op       opCode
	dialect  Dialect
	style    style
	mode     sqlscan.Mode // the sql_mode flags it was lexed with, to lex it again
}

// extra holds what few Plans need.
type extra struct {
	params []param // named: distinct names, in $k order on Postgres
	refs   []int32 // MySQL named: params index of each ? in order
	op     string  // Operation when op is opOther
	lists  *lists  // list placeholders (list.go); nil when there are none
}

// Source returns the query the Plan was made from, as written.
func (p *Plan) Source() string { return p.orig }

// Query returns the native SQL to send to the driver.
func (p *Plan) Query() string { return p.query }

// NumInput returns the number of arguments the query takes when that is known
// from the query alone (the count of ?, or the largest $n), and -1 when the
// query uses named parameters.
func (p *Plan) NumInput() int { return int(p.numInput) }

// Operation returns the query's first keyword upper-cased ("SELECT",
// "INSERT", "WITH", …), skipping leading whitespace, comments, parentheses
// and empty statements as sqlscan.FirstKeyword does, or "" if it does not
// start with one (a word of ASCII letters, digits and _ that starts with a
// letter). Tracing uses it for span names.
func (p *Plan) Operation() string {
	switch p.op {
	case 0:
		return ""
	case opOther:
		return p.extra.op
	}
	return keywords[p.op-1]
}

// Parse lexes query by the rules of dialect d and returns its Plan. Errors are
// of type *Error. For SQLite the native query is the query as written.
func Parse(d Dialect, query string) (*Plan, error) {
	return parseMode(d, 0, query)
}

// parseMode is Parse under the MySQL sql_mode flags m, which are 0 for other
// dialects.
func parseMode(d Dialect, m sqlscan.Mode, query string) (*Plan, error) {
	if len(query) > maxQueryLen {
		return nil, errorAt(-1, "query of "+strconv.Itoa(len(query))+" bytes is too long")
	}
	switch d {
	case SQLite:
		p, err := parseSQLite(query)
		if err != nil {
			return nil, err
		}
		return p, nil
	case Postgres, MySQL:
		p, err := parse(d, m, query)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, errorAt(-1, "unknown dialect "+d.String())
}

// init fills in a fresh, zero Plan, including its operation.
func (p *Plan) init(d Dialect, q, native string, st style, numInput int, ex *extra) {
	op, other := operation(d, q)
	if op == opOther {
		if ex == nil {
			ex = new(extra)
		}
		ex.op = other
	}
	// Field by field: p is fresh and zero, and a composite literal would be
	// copied in with a bulk write barrier.
	p.query = native
	p.orig = q
	p.extra = ex
	p.numInput = int32(numInput)
	p.op = op
	p.dialect = d
	p.style = st
}

// planBuf is a Plan and the bytes of its native query in one allocation.
type planBuf[B any] struct {
	plan Plan
	buf  B
}

// newPlanBuf returns a Plan and an empty buffer of capacity n that share one
// allocation when n is small, so that a rewrite allocates once.
func newPlanBuf(n int) (*Plan, []byte) {
	// Plan is 48 bytes on 64-bit platforms: each case fills a malloc size
	// class (96, 128, … 512, 640, 768, 1024 bytes) exactly.
	switch {
	case n <= 48:
		pb := new(planBuf[[48]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 80:
		pb := new(planBuf[[80]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 112:
		pb := new(planBuf[[112]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 144:
		pb := new(planBuf[[144]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 176:
		pb := new(planBuf[[176]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 208:
		pb := new(planBuf[[208]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 240:
		pb := new(planBuf[[240]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 272:
		pb := new(planBuf[[272]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 336:
		pb := new(planBuf[[336]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 400:
		pb := new(planBuf[[400]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 464:
		pb := new(planBuf[[464]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 592:
		pb := new(planBuf[[592]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 720:
		pb := new(planBuf[[720]byte])
		return &pb.plan, pb.buf[:0:n]
	case n <= 976:
		pb := new(planBuf[[976]byte])
		return &pb.plan, pb.buf[:0:n]
	}
	return new(Plan), make([]byte, 0, n)
}

// edit is one placeholder token of the query as written and what replaces it.
type edit struct {
	start, end  int32
	num         int32 // $num on Postgres; 0 writes ?
	lead, trail bool  // a space before, after
}

// parse lexes q and writes its native query into a buffer allocated together
// with the Plan. Queries with only ? placeholders, the commonest, take
// parsePositional, which writes the native query as it lexes; any other goes
// on in parseAll from its first placeholder, which is not a ?, so that it is
// still lexed once (a query that turns out wrong after a ? is lexed again).
func parse(d Dialect, m sqlscan.Mode, q string) (*Plan, *Error) {
	var l lexer
	l.reset(d, m, q)
	if maybeList(q) {
		// A query that may have list placeholders takes the path that
		// records every placeholder, to find them.
		tok, s, e, err := l.next()
		p, err := parseAll(&l, tok, s, e, err, true)
		if err != nil {
			return nil, err
		}
		p.mode = m
		return p, nil
	}
	p, tok, s, e, err := parsePositional(&l)
	if p == nil {
		if p, err = parseAll(&l, tok, s, e, err, false); err != nil {
			return nil, err
		}
	}
	p.mode = m
	return p, nil
}

// parseAll is parse for any query: it lexes the query once, recording the
// edits and the exact length of the native query, then writes the native
// query. It goes on from the token l returned last (tok, s, e, lexError),
// which no placeholder precedes. With track, it records every placeholder
// and keeps them in the Plan when some are list placeholders (list.go).
func parseAll(l *lexer, tok tokKind, s, e int, lexError *Error, track bool) (*Plan, *Error) {
	d, q := l.dialect, l.q
	var (
		small   [8]edit
		edits   = small[:0]
		outLen  = len(q)
		last    byte // last byte of the native query written so far
		prevEnd int  // end of the previous edit
		st      style
		firstAt int // offset of the first placeholder of style st
		count   int // positional ? seen
		maxN    int // largest native $n
		params  []param
		refs    []int32
		index   map[string]int32 // name → params index, once params is long
		sites   []site           // every placeholder, with track
	)
	for ; ; tok, s, e, lexError = l.next() {
		if lexError != nil {
			return nil, lexError
		}
		var want style
		switch tok {
		case tokEOF:
			p := finish(d, q, st, count, maxN, params, refs, edits, outLen)
			if track && len(sites) > 0 && st != styleNative {
				p.attachLists(l.mode, sites, max(count, len(params)))
			}
			return p, nil
		case tokString, tokIdent, tokComment:
			continue
		case tokEscape:
			if d == MySQL {
				return nil, errorAt(s, "?? has no meaning on mysql, where every ? outside a literal is a parameter")
			}
			edits = append(edits, edit{start: int32(s), end: int32(e)})
			if track {
				sites = append(sites, site{start: int32(s), end: int32(e), param: -1})
			}
			outLen--
			last, prevEnd = '?', e
			continue
		case tokPositional:
			want = stylePositional
		case tokNative:
			want = styleNative
		case tokNamed:
			want = styleNamed
		}
		if st != want {
			if st != styleNone {
				return nil, mixError(q, d, st, want, firstAt, s, e)
			}
			st, firstAt = want, s
		}
		if s > prevEnd {
			last = q[s-1]
		}
		k := 0 // $k to write on Postgres
		switch tok {
		case tokPositional:
			count++
			if d == MySQL {
				// ? is native, but MySQL reads it alone only apart from an
				// identifier byte after it: ?AND becomes ? AND.
				trail := e < len(q) && identCont[q[e]]
				if track {
					sites = append(sites, site{start: int32(s), end: int32(e), param: int32(count - 1), trail: trail})
				}
				if trail {
					edits = append(edits, edit{start: int32(s), end: int32(e), trail: true})
					outLen++
					last, prevEnd = '?', e
				}
				continue
			}
			if count > maxNative {
				return nil, errorAt(s, "more than 65535 parameters")
			}
			k = count
		case tokNative:
			n, ok := atoiNative(q[s+1 : e])
			if !ok {
				return nil, errorAt(s, "parameter "+q[s:e]+" is out of range $1…$65535")
			}
			maxN = max(maxN, n)
			continue
		case tokNamed:
			name := q[s+1 : e]
			j := int32(-1)
			if index != nil {
				if v, ok := index[name]; ok {
					j = v
				}
			} else {
				for i := range params {
					if params[i].name == name {
						j = int32(i)
						break
					}
				}
			}
			if j < 0 {
				if d == Postgres && len(params) == maxNative {
					return nil, errorAt(s, "more than 65535 parameters")
				}
				j = int32(len(params))
				params = append(params, param{name: name, off: s})
				if index != nil {
					index[name] = j
				} else if len(params) > 16 {
					index = make(map[string]int32, 2*len(params))
					for i, p := range params {
						index[p.name] = int32(i)
					}
				}
			}
			if d == MySQL {
				// ? for each use, apart from a ? just before so that the
				// output never holds a ?? .
				lead, trail := last == '?', e < len(q) && identCont[q[e]]
				edits = append(edits, edit{start: int32(s), end: int32(e), lead: lead, trail: trail})
				if track {
					sites = append(sites, site{start: int32(s), end: int32(e), param: j, lead: lead, trail: trail})
				}
				outLen += 1 - (e - s) + b2i(lead) + b2i(trail)
				refs = append(refs, j)
				last, prevEnd = '?', e
				continue
			}
			k = int(j) + 1
		}
		// $k, apart from a neighbouring identifier byte so that Postgres
		// lexes it alone ("?AND" becomes "$1 AND").
		ed := edit{start: int32(s), end: int32(e), num: int32(k), lead: identCont[last], trail: e < len(q) && identCont[q[e]]}
		edits = append(edits, ed)
		if track {
			sites = append(sites, site{start: ed.start, end: ed.end, param: int32(k - 1), lead: ed.lead, trail: ed.trail})
		}
		outLen += 1 + numDigits(k) - (e - s) + b2i(ed.lead) + b2i(ed.trail)
		last, prevEnd = byte('0'+k%10), e
		if ed.trail {
			last = ' '
		}
	}
}

func finish(d Dialect, q string, st style, count, maxN int, params []param, refs []int32, edits []edit, outLen int) *Plan {
	var ex *extra
	if params != nil {
		ex = &extra{params: params, refs: refs}
	}
	n := 0
	switch st {
	case stylePositional:
		n = count
	case styleNative:
		n = maxN
	case styleNamed:
		n = -1
	}
	if len(edits) == 0 {
		p := new(Plan)
		p.init(d, q, q, st, n, ex)
		return p
	}
	p, buf := newPlanBuf(outLen)
	buf = buf[:outLen]
	j, prev := 0, 0
	for _, ed := range edits {
		j += copy(buf[j:], q[prev:ed.start])
		if ed.lead {
			buf[j] = ' '
			j++
		}
		if ed.num == 0 {
			buf[j] = '?'
			j++
		} else {
			j += putDollar(buf[j:], int(ed.num))
		}
		if ed.trail {
			buf[j] = ' '
			j++
		}
		prev = int(ed.end)
	}
	copy(buf[j:], q[prev:])
	// The bytes are never written again: the string owns them from here on.
	p.init(d, q, unsafe.String(unsafe.SliceData(buf), len(buf)), st, n, ex)
	return p
}

// putDollar writes $k at the start of buf and returns its length.
func putDollar(buf []byte, k int) int {
	if k < 10 {
		_ = buf[1]
		buf[0], buf[1] = '$', byte('0'+k)
		return 2
	}
	n := 1 + numDigits(k)
	buf[0] = '$'
	for i := n - 1; i > 0; i-- {
		buf[i] = byte('0' + k%10)
		k /= 10
	}
	return n
}

func numDigits(k int) int {
	n := 1
	for k >= 10 {
		k /= 10
		n++
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func atoiNative(digits string) (int, bool) {
	if len(digits) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
	}
	return n, 1 <= n && n <= maxNative
}

// mixError reports a placeholder of another style than the first one, at
// firstAt. On Postgres a ? before a $n is most often the jsonb operator:
// the error points at the ? and says how to write it.
func mixError(q string, d Dialect, first, conflict style, firstAt, s, e int) *Error {
	what := "parameter " + q[s:e]
	if conflict == styleNamed {
		what = "named " + what
	}
	if d == Postgres && first == stylePositional && conflict == styleNative {
		return errorAt(firstAt, what+" at offset "+strconv.Itoa(s)+" follows positional ? parameters (one style per query): if a ? is the jsonb operator write it ?? (also ?| and ?&), or pass placeholders=native to send the query as written; first ?")
	}
	return errorAt(s, what+" follows "+first.String()+" parameters (one style per query)")
}

// firstOffset returns the offset of the query's first placeholder, or -1. It
// is for error messages only, so it lexes the query again.
func (p *Plan) firstOffset() int {
	if p.extra != nil && len(p.extra.params) > 0 {
		return p.extra.params[0].off
	}
	off := -1
	p.placeholders(func(_ tokKind, s, _ int) bool {
		off = s
		return false
	})
	return off
}

// placeholders calls f with each placeholder of the query as written (?,
// $n or a name; SQLite's ?NNN is a tokNative), in order, until f returns
// false. It is for error messages only, so it lexes the query again.
func (p *Plan) placeholders(f func(tok tokKind, s, e int) bool) {
	if p.dialect == SQLite {
		sc := sqlscan.New(SQLite, 0, p.orig)
		for {
			t := sc.Next()
			if t.Kind == sqlscan.EOF {
				return
			}
			if t.Kind == sqlscan.Param && !f(sqliteKind(p.orig, t.Start, t.End), t.Start, t.End) {
				return
			}
		}
	}
	l := newLexer(p.dialect, p.mode, p.orig)
	for {
		tok, s, e, err := l.next()
		if err != nil || tok == tokEOF {
			return
		}
		if (tok == tokPositional || tok == tokNative || tok == tokNamed) && !f(tok, s, e) {
			return
		}
	}
}

// Bind maps the arguments database/sql hands the driver to the arguments the
// native query takes. When nothing changes it returns args itself without
// allocating. The returned arguments have Ordinals 1…n; their Names are
// cleared when the native style is positional. A count that does not match,
// a named parameter without an argument, an argument the query never uses and
// a mix of named and positional arguments are errors (*Error): Bind never
// guesses.
func (p *Plan) Bind(args []driver.NamedValue) ([]driver.NamedValue, error) {
	if p.style != styleNamed && len(args) == int(p.numInput) {
		// What database/sql hands over unless sql.Named is used: as many
		// arguments as the query takes, numbered 1…n, without names.
		i := 0
		for i < len(args) && args[i].Name == "" && args[i].Ordinal == i+1 {
			i++
		}
		if i == len(args) {
			return args, nil
		}
	}
	return p.bind(args)
}

// bind is Bind for arguments that are named, numbered otherwise or too
// many or few.
func (p *Plan) bind(args []driver.NamedValue) ([]driver.NamedValue, error) {
	if p.style == styleNamed {
		return p.bindNamed(args, false)
	}
	renumber := false
	for i := range args {
		if args[i].Name != "" {
			if p.style == styleNone {
				return nil, errorAt(-1, "argument "+strconv.Quote(args[i].Name)+" is not used by the query")
			}
			return nil, errorAt(p.firstOffset(), "query uses "+p.style.String()+" parameters, got named argument "+
				strconv.Quote(args[i].Name))
		}
		if args[i].Ordinal != i+1 {
			renumber = true
		}
	}
	if len(args) != int(p.numInput) {
		return nil, p.countError(len(args))
	}
	if renumber {
		out := make([]driver.NamedValue, len(args))
		for i := range args {
			out[i] = driver.NamedValue{Ordinal: i + 1, Value: args[i].Value}
		}
		return out, nil
	}
	return args, nil
}

// countError reports a positional argument count that does not match. It is
// the slow path, so it lexes the query again to find the placeholder at fault:
// the first one left without an argument, or the last one when there are too
// many arguments.
func (p *Plan) countError(got int) *Error {
	if p.style == styleNone {
		msg := "query has no parameters, got " + plural(got, "argument")
		if p.dialect == MySQL && strings.Contains(p.orig, "$") {
			msg += "; MySQL takes ? for parameters, not $n"
		}
		return errorAt(-1, msg)
	}
	var msg string
	if p.style == styleNative {
		last := "$" + strconv.Itoa(int(p.numInput))
		if p.dialect == SQLite { // ?NNN or $NNN, as written
			p.placeholders(func(_ tokKind, s, e int) bool {
				if n, _ := strconv.Atoi(p.orig[s+1 : e]); n == int(p.numInput) {
					last = p.orig[s:e]
					return false
				}
				return true
			})
		}
		msg = "query has parameters up to " + last + ", got " + plural(got, "argument")
	} else {
		msg = "query has " + plural(int(p.numInput), "positional parameter") + ", got " + plural(got, "argument")
	}
	off, k := -1, 0
	p.placeholders(func(tok tokKind, s, e int) bool {
		k++
		if tok == tokNative {
			k, _ = strconv.Atoi(p.orig[s+1 : e])
		}
		off = s
		return k <= got
	})
	return errorAt(off, msg)
}

// linearArgs is how many arguments Bind searches by name one by one before it
// builds a map: a few comparisons beat hashing.
const linearArgs = 16

// bindNamed is Bind for named parameters. On SQLite, which binds names
// itself, it returns args as given once they match, unless ordered asks for
// them in the order of the parameters' first use (Expand).
func (p *Plan) bindNamed(args []driver.NamedValue, ordered bool) ([]driver.NamedValue, error) {
	params, refs := p.extra.params, p.extra.refs
	for i := range args {
		if args[i].Name == "" {
			return nil, errorAt(p.firstOffset(), "query uses named parameters, got positional argument "+strconv.Itoa(args[i].Ordinal))
		}
	}
	var byName map[string]int
	if len(args) > linearArgs {
		byName = make(map[string]int, len(args))
		for i := len(args) - 1; i >= 0; i-- {
			byName[args[i].Name] = i
		}
	}
	var small [linearArgs]int
	idx := small[:0]
	if len(params) > linearArgs {
		idx = make([]int, 0, len(params))
	}
	for _, prm := range params {
		j := -1
		if byName != nil {
			if v, ok := byName[prm.name]; ok {
				j = v
			}
		} else {
			for i := range args {
				if args[i].Name == prm.name {
					j = i
					break
				}
			}
		}
		if j < 0 {
			return nil, errorAt(prm.off, "named parameter "+p.orig[prm.off:prm.off+1]+prm.name+" has no argument")
		}
		idx = append(idx, j)
	}
	if len(args) != len(params) {
		return nil, p.unusedError(args, idx)
	}
	if p.dialect == SQLite && !ordered {
		return args, nil
	}
	var out []driver.NamedValue
	if p.dialect == MySQL {
		out = make([]driver.NamedValue, len(refs))
		for i, r := range refs {
			out[i] = driver.NamedValue{Ordinal: i + 1, Value: args[idx[r]].Value}
		}
	} else {
		out = make([]driver.NamedValue, len(idx))
		for k, j := range idx {
			out[k] = driver.NamedValue{Ordinal: k + 1, Value: args[j].Value}
		}
	}
	return out, nil
}

// unusedError names the first argument no parameter took: a name the query
// does not use, or a name given twice.
func (p *Plan) unusedError(args []driver.NamedValue, idx []int) *Error {
	used := make([]bool, len(args))
	for _, j := range idx {
		used[j] = true
	}
	for i := range args {
		if used[i] {
			continue
		}
		for _, j := range idx {
			if args[j].Name == args[i].Name {
				return errorAt(-1, "argument "+strconv.Quote(args[i].Name)+" is given more than once")
			}
		}
		return errorAt(-1, "argument "+strconv.Quote(args[i].Name)+" is not used by the query")
	}
	return errorAt(-1, "arguments do not match the query's parameters")
}
