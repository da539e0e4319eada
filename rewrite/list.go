package rewrite

import (
	"database/sql/driver"
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-databases/databases/sqlscan"
)

// List is an argument bound to a list placeholder: the elements of a Go
// slice, each already a value the driver takes. Expand writes one native
// placeholder per element where the placeholder is the whole parenthesised
// list after IN or NOT IN.
type List []driver.Value

// Array is an argument bound to a list placeholder on PostgreSQL as one
// array parameter: Expand writes x IN (?) as x = ANY($n) and x NOT IN (?)
// as x <> ALL($n), and passes V, a non-empty Go slice the driver encodes as
// an array, as that parameter. x IN (a, b) is x = a OR x = b, and
// x = ANY(ARRAY[a, b]) is defined as the same OR, NULLs included (x NOT IN
// and x <> ALL are the ANDs of <>), so only the number of parameters
// changes: one for every length, and one plan. Plan.ListKind says where the
// rewrite keeps that meaning: see site.array.
type Array struct{ V any }

// Limits on the number of parameters of one statement: PostgreSQL's and
// MySQL's wire protocols count them in 16 bits, and modernc.org/sqlite is
// built with SQLITE_MAX_VARIABLE_NUMBER 32766.
const (
	maxPostgresParams = 65535
	maxMySQLParams    = 65535
	maxSQLiteParams   = 32766
)

// MaxParams returns the most parameters one statement may have on dialect d.
func MaxParams(d Dialect) int {
	switch d {
	case SQLite:
		return maxSQLiteParams
	case MySQL:
		return maxMySQLParams
	}
	return maxPostgresParams
}

// site is one placeholder of a query that has list placeholders, as written,
// with what Expand needs to write it again.
type site struct {
	start, end int32 // the placeholder in the query as written
	param      int32 // the argument it takes (see Plan.values); -1 for a ?? escape
	kw, close  int32 // a list: start of its IN (or NOT), end of its )
	lead       bool  // Postgres and MySQL: a space before it
	trail      bool  // a space after it
	list       bool  // the whole parenthesised list after IN or NOT IN
	not        bool  // after NOT IN
	// array: PostgreSQL, and the operand before IN is made of operators
	// that bind tighter than = (an identifier, a cast, arithmetic, a
	// function call…), so that IN (…) can become = ANY(…) without another
	// parse: IN binds tighter than the comparison operators there, and
	// a < b IN (…) would turn into a < b = ANY(…).
	array bool
}

// lists is what a Plan with list placeholders keeps to expand them.
type lists struct {
	sites   []site
	nparams int32 // distinct arguments: positional count, or named parameters
	sqlite  sqliteStyle
	bad     int32 // SQLite: offset of a placeholder that rules out expansion
	single  bool  // every list placeholder takes the same argument
	// Expanded queries when single, by bits.Len of the list's padded
	// length, so that a repeated size class costs no formatting.
	cache [18]atomic.Pointer[string]
}

// sqliteStyle is the placeholder style of a SQLite query with lists.
type sqliteStyle uint8

const (
	sqliteNone     sqliteStyle = iota // not SQLite
	sqliteAnon                        // ? only
	sqliteNamed                       // :name, @name, $name only
	sqliteNumbered                    // ?NNN, $NNN: not expanded
)

// HasLists reports whether the query has a placeholder that is the whole
// parenthesised list after IN or NOT IN, which Expand can bind to a List.
func (p *Plan) HasLists() bool { return p.extra != nil && p.extra.lists != nil }

// IsList reports whether the argument nv, by its name or its position,
// binds to a list placeholder.
func (p *Plan) IsList(nv driver.NamedValue) bool {
	list, _ := p.ListKind(nv)
	return list
}

// ListKind reports whether the argument nv, by its name or its position,
// binds to a list placeholder, and whether every placeholder it binds to
// may take an Array (PostgreSQL, see site.array).
func (p *Plan) ListKind(nv driver.NamedValue) (list, array bool) {
	if !p.HasLists() {
		return false, false
	}
	ls := p.extra.lists
	j := int32(-1)
	if nv.Name != "" {
		for i := range p.extra.params {
			if p.extra.params[i].name == nv.Name {
				j = int32(i)
				break
			}
		}
	} else if ls.sqlite != sqliteNamed {
		j = int32(nv.Ordinal - 1)
	}
	if j < 0 {
		return false, false
	}
	array = true
	for i := range ls.sites {
		if s := &ls.sites[i]; s.param == j {
			list = list || s.list
			array = array && s.list && s.array
		}
	}
	return list, list && array
}

// maybeList reports whether q may hold a list placeholder: a ( followed,
// after white space, by a byte that can start a placeholder or a comment.
// It keeps the fast path for queries that cannot.
func maybeList(q string) bool {
	for i := 0; ; {
		j := strings.IndexByte(q[i:], '(')
		if j < 0 {
			return false
		}
		i += j + 1
		for i < len(q) && isSpace(q[i]) {
			i++
		}
		if i < len(q) {
			switch q[i] {
			case '?', ':', '@', '$', '/', '-', '#':
				return true
			}
		}
	}
}

// markLists reads q with sqlscan and marks the sites (in order of their
// offsets) that are the whole parenthesised list after IN or NOT IN:
// comments may stand between IN, (, the placeholder and ). It reports
// whether any is.
func markLists(d Dialect, m sqlscan.Mode, q string, sites []site) bool {
	sc := sqlscan.New(d, m, q)
	var toks []sqlscan.Token
	for {
		t := sc.Next()
		if t.Kind == sqlscan.EOF {
			break
		}
		if t.Kind != sqlscan.Comment {
			toks = append(toks, t)
		}
	}
	if sc.Err() != nil {
		return false
	}
	text := func(i int) string {
		if i < 0 || i >= len(toks) {
			return ""
		}
		return q[toks[i].Start:toks[i].End]
	}
	word := func(i int, w string) bool {
		return i >= 0 && i < len(toks) && toks[i].Kind == sqlscan.Word && strings.EqualFold(text(i), w)
	}
	found := false
	k := 0
	for si := range sites {
		s := &sites[si]
		if s.param < 0 {
			continue
		}
		for k < len(toks) && toks[k].Start < int(s.start) {
			k++
		}
		if k == len(toks) || toks[k].Start != int(s.start) {
			continue
		}
		last := k
		for last+1 < len(toks) && toks[last+1].End <= int(s.end) {
			last++
		}
		if toks[last].End != int(s.end) || text(k-1) != "(" || text(last+1) != ")" || !word(k-2, "IN") {
			continue
		}
		if k >= 3 && toks[k-3].Kind == sqlscan.Punct && text(k-3) == "." {
			continue // t.in (…) is no operator
		}
		s.list, s.kw, s.close = true, int32(toks[k-2].Start), int32(toks[last+1].End)
		op := k - 3 // the last token of the operand before IN
		if word(k-3, "NOT") {
			s.not, s.kw = true, int32(toks[k-3].Start)
			op--
		}
		s.array = d == Postgres && tightOperand(q, toks, op) && looseAfter(q, toks, last+2)
		found = true
	}
	return found
}

// tightOperand reports whether the operand that ends at toks[i] and comes
// before an IN is made only of what binds tighter than =: going back from
// it at its parenthesis depth, no comparison (=, <, >, !), no IS, LIKE,
// ILIKE, SIMILAR, BETWEEN or IN comes before a word or byte that starts an
// expression (WHERE, AND, OR, NOT, a comma, an opening parenthesis…);
// CASE … END counts as parentheses. Past an AND only a BETWEEN matters
// (a BETWEEN b AND c IN …). It errs on the side of false: a query it
// rejects is expanded instead.
func tightOperand(q string, toks []sqlscan.Token, i int) bool {
	if i < 0 {
		return false
	}
	depth, pastAnd := 0, false
	for ; i >= 0; i-- {
		t := toks[i]
		text := q[t.Start:t.End]
		switch t.Kind {
		case sqlscan.Semicolon:
			return true
		case sqlscan.Punct:
			switch text {
			case ")":
				depth++
			case "(":
				if depth == 0 {
					return true
				}
				depth--
			case ",":
				if depth == 0 {
					return true
				}
			case "=", "<", ">", "!":
				if depth == 0 && !pastAnd {
					return false
				}
			}
		case sqlscan.Word:
			w := strings.ToUpper(text)
			switch {
			case w == "END": // CASE … END is one operand, read as ( … )
				depth++
				continue
			case w == "CASE" && depth > 0:
				depth--
				continue
			case depth > 0:
				continue
			}
			switch w {
			case "BETWEEN":
				return false
			case "IS", "ISNULL", "NOTNULL", "LIKE", "ILIKE", "SIMILAR", "IN", "ANY", "ALL", "SOME", "ESCAPE", "OVERLAPS":
				if !pastAnd {
					return false
				}
			case "AND":
				pastAnd = true
			case "WHERE", "OR", "NOT", "ON", "WHEN", "THEN", "ELSE", "SELECT", "HAVING", "RETURNING", "CASE", "BY", "SET":
				return true
			}
		}
	}
	return depth == 0
}

// looseAfter reports whether what follows the ) of an IN list, toks[i],
// binds looser than = or ends the expression: x IN (…) = y is
// (x IN (…)) = y, which x = ANY(…) = y is not.
func looseAfter(q string, toks []sqlscan.Token, i int) bool {
	if i >= len(toks) {
		return true
	}
	t := toks[i]
	switch text := q[t.Start:t.End]; t.Kind {
	case sqlscan.Semicolon:
		return true
	case sqlscan.Punct:
		return text == ")" || text == ","
	case sqlscan.Word:
		switch strings.ToUpper(text) {
		case "BETWEEN", "LIKE", "ILIKE", "SIMILAR", "IN", "NOT", "COLLATE", "AT":
			return false
		}
		return true
	}
	return false
}

// bucket returns the padded length of a list of n elements: the next power
// of two, so that a query whose list length varies has a handful of native
// forms (Hibernate's in_clause_parameter_padding).
func bucket(n int) int {
	if n <= 1 {
		return n
	}
	return 1 << bits.Len(uint(n-1))
}

// Expand is Bind for a query whose arguments may hold Lists: it returns the
// native query with each list placeholder bound to a List written as one
// native placeholder per element, and the arguments to go with it. A List
// is padded to the next power of two by repeating its last element, which
// changes no IN or NOT IN, so that the native query (and a statement cache
// keyed by it) has one form per size class, not one per length. An empty
// List makes IN match nothing and NOT IN match everything: on PostgreSQL
// x IN (…) becomes x = ANY('{}') and x NOT IN (…) x <> ALL('{}'), on MySQL
// the list is an empty subquery, and SQLite takes IN () as it is. An
// Array (PostgreSQL) is written as x = ANY($n) or x <> ALL($n) with its
// slice as the one argument. Without Lists or Arrays, Expand returns Query
// and Bind's arguments.
//
// A List bound to a placeholder that is not a list, an Array bound to one
// that ListKind does not allow, a SQLite query with
// numbered placeholders (?NNN, $NNN), and more parameters
// than the dialect allows (MaxParams) are errors (*Error).
func (p *Plan) Expand(args []driver.NamedValue) (string, []driver.NamedValue, error) {
	hasList := false
	for i := range args {
		if isListValue(args[i].Value) {
			hasList = true
			break
		}
	}
	if !hasList {
		out, err := p.Bind(args)
		return p.query, out, err
	}
	if !p.HasLists() {
		return "", nil, p.misplacedList(args)
	}
	ls := p.extra.lists
	if ls.sqlite == sqliteNumbered {
		return "", nil, errorAt(int(ls.bad), "a list argument needs the query's parameters all ? or all named on sqlite: numbered ones (?NNN, $NNN) are not expanded")
	}
	vals, err := p.values(args)
	if err != nil {
		return "", nil, err
	}
	// widths[j]: the padded length of argument j when it is a List, -2 for
	// an Array, else -1.
	var small [8]int
	widths := small[:0]
	if len(vals) > len(small) {
		widths = make([]int, 0, len(vals))
	}
	for j := range vals {
		w := -1
		switch l := vals[j].Value.(type) {
		case List:
			w = len(l)
		case Array:
			w = -2
		}
		widths = append(widths, w)
	}
	perSite := p.dialect == MySQL || ls.sqlite == sqliteAnon // a parameter per use
	uses := make([]int, len(vals))
	for _, s := range ls.sites {
		if s.param < 0 {
			continue
		}
		if widths[s.param] >= 0 && !s.list {
			return "", nil, errorAt(int(s.start), "list argument "+p.argName(int(s.param), args)+" is bound to a placeholder that is not the whole list after IN")
		}
		if widths[s.param] == -2 && !(s.list && s.array) {
			return "", nil, errorAt(int(s.start), "array argument "+p.argName(int(s.param), args)+" is bound to a placeholder that cannot become = ANY")
		}
		uses[s.param]++
	}
	total := 0
	for j, w := range widths {
		n := max(w, 1)
		if w == 0 {
			n = 0
		}
		if perSite {
			n *= uses[j]
		}
		total += n
	}
	limit := MaxParams(p.dialect)
	if total > limit {
		big := 0
		for j, w := range widths {
			if w > widths[big] {
				big = j
			}
		}
		return "", nil, errorAt(p.firstSite(big), "list argument "+p.argName(big, args)+" has "+plural(widths[big], "element")+
			": the statement would have "+strconv.Itoa(total)+" parameters, more than the "+strconv.Itoa(limit)+" "+p.dialect.String()+" allows")
	}
	room := limit - total
	padded := total
	key, lists := 0, 0
	for j, w := range widths {
		if w <= 0 {
			continue
		}
		lists++
		b := bucket(w)
		per := 1
		if perSite {
			per = uses[j]
		}
		if extra := (b - w) * per; extra > room {
			b = w + room/per
		}
		room -= (b - w) * per
		padded += (b - w) * per
		widths[j] = b
		if b&(b-1) == 0 {
			key = bits.Len(uint(b))
		} else {
			key = -1
		}
	}
	arrays := 0
	for _, w := range widths {
		if w == -2 {
			arrays++
		}
	}
	if lists == 0 && arrays == 1 {
		key = 0 // one Array and no other list: one form, cache[0]
	}
	var query string
	cache := ls.single && (lists == 1 && key > 0 && key < len(ls.cache) || lists == 0 && arrays == 1)
	if cache {
		if s := ls.cache[key].Load(); s != nil {
			query = *s
		}
	}
	if query == "" {
		query = p.expandQuery(widths)
		if cache {
			ls.cache[key].Store(&query)
		}
	}
	return query, p.expandArgs(vals, widths, perSite, padded), nil
}

// isListValue reports whether v is a List or an Array.
func isListValue(v any) bool {
	switch v.(type) {
	case List, Array:
		return true
	}
	return false
}

// values maps args onto the query's distinct arguments (positional order,
// or named parameters in order of first use), validating them as Bind does.
func (p *Plan) values(args []driver.NamedValue) ([]driver.NamedValue, error) {
	if p.extra.lists.sqlite == sqliteNamed {
		return p.bindNamed(args, true)
	}
	out, err := p.Bind(args)
	if err != nil || p.dialect != MySQL || p.style != styleNamed {
		return out, err
	}
	// MySQL binds named parameters per use; take each one's first.
	vals := make([]driver.NamedValue, len(p.extra.params))
	seen := make([]bool, len(vals))
	for i, r := range p.extra.refs {
		if !seen[r] {
			seen[r] = true
			vals[r] = out[i]
		}
	}
	return vals, nil
}

// argName names argument j in errors: its name, or its position.
func (p *Plan) argName(j int, args []driver.NamedValue) string {
	if p.extra != nil && j < len(p.extra.params) && (p.style == styleNamed || p.extra.lists != nil && p.extra.lists.sqlite == sqliteNamed) {
		return strconv.Quote(p.extra.params[j].name)
	}
	return "$" + strconv.Itoa(j+1)
}

// firstSite returns the offset of the first placeholder of argument j.
func (p *Plan) firstSite(j int) int {
	for _, s := range p.extra.lists.sites {
		if int(s.param) == j {
			return int(s.start)
		}
	}
	return -1
}

// misplacedList reports a List bound to a query without list placeholders.
func (p *Plan) misplacedList(args []driver.NamedValue) *Error {
	for i := range args {
		if isListValue(args[i].Value) {
			name := "$" + strconv.Itoa(args[i].Ordinal)
			if args[i].Name != "" {
				name = strconv.Quote(args[i].Name)
			}
			return errorAt(-1, "list argument "+name+" is bound to a placeholder that is not the whole list after IN")
		}
	}
	return errorAt(-1, "no list argument")
}

// expandQuery writes the native query with list argument j written as
// widths[j] placeholders (widths[j] < 0: not a List).
func (p *Plan) expandQuery(widths []int) string {
	ls := p.extra.lists
	q := p.orig
	var base []int // Postgres: the $n of each argument's first placeholder
	if p.dialect == Postgres {
		base = make([]int, len(widths))
		n := 1
		for j, w := range widths {
			base[j] = n
			if w < 0 {
				n++
			} else {
				n += w
			}
		}
	}
	var b strings.Builder
	b.Grow(len(q) + 8*len(ls.sites))
	prev := 0
	var num [8]byte
	dollar := func(k int) {
		b.WriteByte('$')
		b.Write(strconv.AppendInt(num[:0], int64(k), 10))
	}
	one := func(s site) { // a placeholder as Query writes it
		if s.lead {
			b.WriteByte(' ')
		}
		switch {
		case s.param < 0:
			b.WriteByte('?')
		case p.dialect == Postgres:
			dollar(base[s.param])
		case p.dialect == MySQL:
			b.WriteByte('?')
		default:
			b.WriteString(q[s.start:s.end])
		}
		if s.trail {
			b.WriteByte(' ')
		}
	}
	for _, s := range ls.sites {
		w := -1
		if s.param >= 0 {
			w = widths[s.param]
		}
		if w == -2 && s.list {
			b.WriteString(q[prev:s.kw])
			if s.not {
				b.WriteString("<> ALL(")
			} else {
				b.WriteString("= ANY(")
			}
			dollar(base[s.param])
			b.WriteByte(')')
			prev = int(s.close)
			continue
		}
		if w < 0 || !s.list {
			if p.dialect == SQLite {
				continue // copied as written
			}
			b.WriteString(q[prev:s.start])
			one(s)
			prev = int(s.end)
			continue
		}
		if w == 0 {
			switch p.dialect {
			case Postgres:
				b.WriteString(q[prev:s.kw])
				if s.not {
					b.WriteString("<> ALL('{}')")
				} else {
					b.WriteString("= ANY('{}')")
				}
				prev = int(s.close)
			case MySQL:
				b.WriteString(q[prev:s.start])
				b.WriteString("SELECT NULL FROM DUAL WHERE FALSE")
				prev = int(s.end)
			default:
				b.WriteString(q[prev:s.start]) // SQLite takes IN ()
				prev = int(s.end)
			}
			continue
		}
		b.WriteString(q[prev:s.start])
		if s.lead {
			b.WriteByte(' ')
		}
		for i := range w {
			if i > 0 {
				b.WriteString(", ")
			}
			switch {
			case p.dialect == Postgres:
				dollar(base[s.param] + i)
			case p.dialect == MySQL || ls.sqlite == sqliteAnon:
				b.WriteByte('?')
			default: // SQLite named: :ids$1, … which no sql.Named name can be
				b.WriteString(q[s.start:s.end])
				b.WriteByte('$')
				b.Write(strconv.AppendInt(num[:0], int64(i+1), 10))
			}
		}
		if s.trail {
			b.WriteByte(' ')
		}
		prev = int(s.end)
	}
	b.WriteString(q[prev:])
	return b.String()
}

// expandArgs returns the native arguments: vals (one per distinct argument)
// with each List spread over its width, its last element repeated.
func (p *Plan) expandArgs(vals []driver.NamedValue, widths []int, perSite bool, n int) []driver.NamedValue {
	ls := p.extra.lists
	out := make([]driver.NamedValue, 0, n)
	put := func(j int, name string) {
		l, ok := vals[j].Value.(List)
		if !ok {
			v := vals[j].Value
			if a, ok := v.(Array); ok {
				v = a.V
			}
			out = append(out, driver.NamedValue{Ordinal: len(out) + 1, Name: name, Value: v})
			return
		}
		for i := range widths[j] {
			v := l[min(i, len(l)-1)]
			var nm string
			if name != "" {
				nm = name + "$" + strconv.Itoa(i+1)
			}
			out = append(out, driver.NamedValue{Ordinal: len(out) + 1, Name: nm, Value: v})
		}
	}
	switch {
	case perSite:
		for _, s := range ls.sites {
			if s.param >= 0 {
				put(int(s.param), "")
			}
		}
	case ls.sqlite == sqliteNamed:
		for j := range vals {
			put(j, p.extra.params[j].name)
		}
	default:
		for j := range vals {
			put(j, "")
		}
	}
	return out
}

// attachLists records the sites of a Postgres or MySQL query when some are
// list placeholders.
func (p *Plan) attachLists(m sqlscan.Mode, sites []site, nparams int) {
	if !markLists(p.dialect, m, p.orig, sites) {
		return
	}
	if p.extra == nil {
		p.extra = new(extra)
	}
	p.extra.lists = &lists{sites: sites, nparams: int32(nparams), single: singleList(sites)}
}

// singleList reports whether every list placeholder takes one argument.
func singleList(sites []site) bool {
	j := int32(-1)
	for _, s := range sites {
		if s.list {
			if j >= 0 && s.param != j {
				return false
			}
			j = s.param
		}
	}
	return true
}
