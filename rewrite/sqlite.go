package rewrite

import (
	"github.com/go-databases/databases/sqlscan"

	"strconv"
)

// maxSQLiteNumber is the largest ?NNN SQLite takes (SQLITE_MAX_VARIABLE_NUMBER
// in modernc.org/sqlite).
const maxSQLiteNumber = maxSQLiteParams

// parseSQLite is Parse for SQLite. The native query is the query as written,
// which SQLite understands, but the query is lexed (with sqlscan, whose
// placeholders are SQLite's) so that it gets the verdict it gets on the other
// dialects: one placeholder style, and arguments that match it (Bind).
//
//	?                  positional, as everywhere
//	:name @name $name  named, bound with sql.Named
//	$NNN ?NNN          native, numbered: argument NNN, as $NNN on Postgres
//	??                 an error, as on MySQL: SQLite has no ? operator
//
// A mix of these styles, and positional ? in more than one statement (SQLite
// binds each statement of a script from the first argument), are errors.
// The Plan also knows the query's list placeholders (list.go).
func parseSQLite(q string) (*Plan, *Error) {
	sc := sqlscan.New(SQLite, 0, q)
	track := maybeList(q)
	var (
		st      style
		firstAt int
		count   int // positional ? seen
		maxN    int // largest native number
		params  []param
		sites   []site
		stmt    int // statements ended before the current token
		posStmt = -1
		bad     = -1 // a native placeholder, which lists cannot expand
	)
	for {
		t := sc.Next()
		if t.Kind == sqlscan.EOF {
			break
		}
		s, e := t.Start, t.End
		switch t.Kind {
		case sqlscan.Semicolon:
			stmt++
			continue
		case sqlscan.Punct:
			if q[s:e] == "??" {
				return nil, errorAt(s, "?? has no meaning on sqlite, where every ? outside a literal is a parameter")
			}
			continue
		case sqlscan.Param:
		default:
			continue
		}
		want := styleNamed
		switch sqliteKind(q, s, e) {
		case tokPositional:
			want = stylePositional
		case tokNative:
			want = styleNative
		}
		if st != want {
			if st != styleNone {
				return nil, mixError(q, SQLite, st, want, firstAt, s, e)
			}
			st, firstAt = want, s
		}
		si := site{start: int32(s), end: int32(e), param: -1}
		switch want {
		case stylePositional:
			if posStmt >= 0 && posStmt != stmt {
				return nil, errorAt(s, "positional ? parameters in more than one statement: SQLite binds each statement from the first argument (number them ?1, ?2, … or name them)")
			}
			posStmt = stmt
			si.param = int32(count)
			count++
		case styleNative:
			n, err := strconv.Atoi(q[s+1 : min(e, s+7)])
			if err != nil || n < 1 || n > maxSQLiteNumber || e-s > 6 {
				return nil, errorAt(s, "parameter "+q[s:e]+" is out of range "+q[s:s+1]+"1…"+q[s:s+1]+strconv.Itoa(maxSQLiteNumber))
			}
			maxN = max(maxN, n)
			si.param = int32(n - 1)
			if bad < 0 {
				bad = s
			}
		case styleNamed:
			name := q[s+1 : e]
			for i := range params {
				if params[i].name == name {
					si.param = int32(i)
					break
				}
			}
			if si.param < 0 {
				si.param = int32(len(params))
				params = append(params, param{name: name, off: s})
			}
		}
		if track {
			sites = append(sites, si)
		}
	}
	if err := sc.Err(); err != nil {
		se := err.(*sqlscan.Error)
		return nil, errorAt(se.Offset, se.Msg)
	}
	var ex *extra
	if params != nil {
		ex = &extra{params: params}
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
	p := new(Plan)
	p.init(SQLite, q, q, st, n, ex)
	if len(sites) > 0 && markLists(SQLite, 0, q, sites) {
		ls := &lists{sites: sites, sqlite: sqliteAnon, nparams: int32(count), bad: int32(bad), single: singleList(sites)}
		switch st {
		case styleNative:
			ls.sqlite = sqliteNumbered
		case styleNamed:
			ls.sqlite, ls.nparams = sqliteNamed, int32(len(params))
		}
		if p.extra == nil {
			p.extra = new(extra)
		}
		p.extra.lists = ls
	}
	return p, nil
}

// sqliteKind returns the kind of the SQLite placeholder q[s:e]: ? is
// tokPositional, ?NNN and $NNN tokNative, :name, @name and $name tokNamed.
func sqliteKind(q string, s, e int) tokKind {
	switch c := q[s]; {
	case e-s == 1 && c == '?':
		return tokPositional
	case c == '?' || c == '$' && isDigit(q[s+1]):
		return tokNative
	}
	return tokNamed
}
