package rewrite

import (
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type listCase struct {
	name  string
	d     Dialect
	in    string
	args  []driver.NamedValue
	want  string // native query
	bound []any  // values Expand returns, in order
	names []string
	err   string // error substring
	off   int    // error offset, when err is set
}

func list(vs ...any) List {
	l := make(List, len(vs))
	for i, v := range vs {
		l[i] = v
	}
	return l
}

// listCases is the table of list expansion; the fuzz targets start from its
// queries too.
var listCases = []listCase{
	{name: "pg/middle", d: Postgres, in: "SELECT * FROM t WHERE a = ? AND id IN (?) AND k = ?", args: pos(1, list(5, 6, 7), "x"),
		want: "SELECT * FROM t WHERE a = $1 AND id IN ($2, $3, $4, $5) AND k = $6", bound: []any{1, 5, 6, 7, 7, "x"}},
	{name: "pg/one element", d: Postgres, in: "SELECT * FROM t WHERE id IN (?) AND k = ?", args: pos(list(5), "x"),
		want: "SELECT * FROM t WHERE id IN ($1) AND k = $2", bound: []any{5, "x"}},
	{name: "pg/scalar at a list", d: Postgres, in: "SELECT * FROM t WHERE id IN (?) AND k = ?", args: pos(5, "x"),
		want: "SELECT * FROM t WHERE id IN ($1) AND k = $2", bound: []any{5, "x"}},
	{name: "pg/not in", d: Postgres, in: "SELECT * FROM t WHERE id NOT IN ( ? )", args: pos(list(1, 2, 3)),
		want: "SELECT * FROM t WHERE id NOT IN ( $1, $2, $3, $4 )", bound: []any{1, 2, 3, 3}},
	{name: "pg/comments between", d: Postgres, in: "SELECT 1 WHERE id in/*a*/(/*b*/ ? -- c\n)", args: pos(list(1, 2)),
		want: "SELECT 1 WHERE id in/*a*/(/*b*/ $1, $2 -- c\n)", bound: []any{1, 2}},
	{name: "pg/named twice", d: Postgres, in: "SELECT 1 WHERE a IN (:ids) OR b IN (:ids) AND k = :k", args: named("k", "x", "ids", list(1, 2, 3)),
		want: "SELECT 1 WHERE a IN ($1, $2, $3, $4) OR b IN ($1, $2, $3, $4) AND k = $5", bound: []any{1, 2, 3, 3, "x"}},
	{name: "pg/@name list", d: Postgres, in: "SELECT 1 WHERE a IN (@ids)", args: named("ids", list(1, 2)),
		want: "SELECT 1 WHERE a IN ($1, $2)", bound: []any{1, 2}},
	{name: "pg/two lists, the first a list", d: Postgres, in: "SELECT 1 WHERE a IN (?) AND b IN (?)", args: pos(list(1, 2), 3),
		want: "SELECT 1 WHERE a IN ($1, $2) AND b IN ($3)", bound: []any{1, 2, 3}},
	{name: "pg/two lists, the second a list", d: Postgres, in: "SELECT 1 WHERE a IN (?) AND b IN (?)", args: pos(3, list(1, 2)),
		want: "SELECT 1 WHERE a IN ($1) AND b IN ($2, $3)", bound: []any{3, 1, 2}},
	{name: "pg/empty in", d: Postgres, in: "SELECT 1 WHERE a IN (?) AND b = ?", args: pos(list(), 2),
		want: "SELECT 1 WHERE a = ANY('{}') AND b = $1", bound: []any{2}},
	{name: "pg/empty not in", d: Postgres, in: "SELECT 1 WHERE a NOT  IN (?) AND b = ?", args: pos(list(), 2),
		want: "SELECT 1 WHERE a <> ALL('{}') AND b = $1", bound: []any{2}},
	{name: "pg/array", d: Postgres, in: "SELECT * FROM t WHERE a = ? AND id IN (?) AND k = ?", args: pos(1, Array{[]int64{5, 6, 7}}, "x"),
		want: "SELECT * FROM t WHERE a = $1 AND id = ANY($2) AND k = $3", bound: []any{1, []int64{5, 6, 7}, "x"}},
	{name: "pg/array not in", d: Postgres, in: "SELECT * FROM t WHERE id NOT IN ( ? /* c */ ) ORDER BY id", args: pos(Array{[]string{"a"}}),
		want: "SELECT * FROM t WHERE id <> ALL($1) ORDER BY id", bound: []any{[]string{"a"}}},
	{name: "pg/array named twice", d: Postgres, in: "SELECT 1 WHERE a IN (:ids) OR b NOT IN (:ids) AND k = :k", args: named("k", "x", "ids", Array{[]int{1}}),
		want: "SELECT 1 WHERE a = ANY($1) OR b <> ALL($1) AND k = $2", bound: []any{[]int{1}, "x"}},
	{name: "pg/array and list", d: Postgres, in: "SELECT 1 WHERE a IN (?) AND b IN (?)", args: pos(Array{[]int64{1}}, list(2, 3, 4)),
		want: "SELECT 1 WHERE a = ANY($1) AND b IN ($2, $3, $4, $5)", bound: []any{[]int64{1}, 2, 3, 4, 4}},
	{name: "pg/array after a comparison", d: Postgres, in: "SELECT 1 WHERE x = a IN (?)", args: pos(Array{[]int64{1}}),
		err: "array argument $1 is bound to a placeholder that cannot become = ANY", off: 25},
	{name: "pg/array before a comparison", d: Postgres, in: "SELECT 1 WHERE a IN (?) = TRUE", args: pos(Array{[]int64{1}}),
		err: "array argument $1 is bound to a placeholder that cannot become = ANY", off: 21},
	{name: "pg/any keeps the slice", d: Postgres, in: "SELECT 1 WHERE a = ANY(?) AND b IN (?)", args: pos([]int64{1}, list(1)),
		want: "SELECT 1 WHERE a = ANY($1) AND b IN ($2)", bound: []any{[]int64{1}, 1}},
	{name: "pg/list not at a list", d: Postgres, in: "SELECT 1 WHERE a = ANY(?) AND b IN (?)", args: pos(list(1), 2),
		err: "list argument $1 is bound to a placeholder that is not the whole list after IN", off: 23},
	{name: "pg/list in a query without lists", d: Postgres, in: "SELECT 1 WHERE a = ?", args: pos(list(1)),
		err: "list argument $1 is bound to a placeholder that is not the whole list after IN", off: -1},
	{name: "pg/not a whole list", d: Postgres, in: "SELECT 1 WHERE a IN (?, 2)", args: pos(list(1)), err: "not the whole list", off: -1},
	{name: "pg/in a literal", d: Postgres, in: "SELECT 'IN (?)' WHERE a = ?", args: pos(list(1)), err: "not the whole list", off: -1},
	{name: "pg/column t.in", d: Postgres, in: `SELECT 1 FROM t WHERE t.in (?)`, args: pos(list(1)), err: "not the whole list", off: -1},
	{name: "pg/?? kept", d: Postgres, in: "SELECT doc ?? 'k' FROM t WHERE id IN (?)", args: pos(list(1, 2)),
		want: "SELECT doc ? 'k' FROM t WHERE id IN ($1, $2)", bound: []any{1, 2}},
	{name: "pg/too many", d: Postgres, in: "SELECT 1 WHERE a = ? AND id IN (?)", args: pos(1, make(List, 65535)),
		err: "list argument $2 has 65535 elements: the statement would have 65536 parameters, more than the 65535 postgres allows", off: 32},
	{name: "pg/padding stops at the limit", d: Postgres, in: "SELECT 1 WHERE id IN (?)", args: pos(make(List, 65000)),
		want: "", bound: nil},

	{name: "mysql/middle", d: MySQL, in: "SELECT * FROM t WHERE a = ? AND id IN (?) AND k = ?", args: pos(1, list(5, 6, 7), "x"),
		want: "SELECT * FROM t WHERE a = ? AND id IN (?, ?, ?, ?) AND k = ?", bound: []any{1, 5, 6, 7, 7, "x"}},
	{name: "mysql/named twice", d: MySQL, in: "SELECT 1 WHERE a IN (:ids) OR b IN (:ids) AND k = :k", args: named("k", "x", "ids", list(1, 2)),
		want: "SELECT 1 WHERE a IN (?, ?) OR b IN (?, ?) AND k = ?", bound: []any{1, 2, 1, 2, "x"}},
	{name: "mysql/empty", d: MySQL, in: "SELECT 1 WHERE a NOT IN (?)", args: pos(list()),
		want: "SELECT 1 WHERE a NOT IN (SELECT NULL FROM DUAL WHERE FALSE)", bound: []any{}},
	{name: "mysql/# comment", d: MySQL, in: "SELECT 1 WHERE a IN ( # x\n ?)", args: pos(list(1, 2, 3, 4, 5)),
		want: "SELECT 1 WHERE a IN ( # x\n ?, ?, ?, ?, ?, ?, ?, ?)", bound: []any{1, 2, 3, 4, 5, 5, 5, 5}},

	{name: "sqlite/middle", d: SQLite, in: "SELECT * FROM t WHERE a = ? AND id IN (?) AND k = ?", args: pos(1, list(5, 6, 7), "x"),
		want: "SELECT * FROM t WHERE a = ? AND id IN (?, ?, ?, ?) AND k = ?", bound: []any{1, 5, 6, 7, 7, "x"}},
	{name: "sqlite/named twice", d: SQLite, in: "SELECT 1 WHERE a IN (:ids) OR b IN ($ids) AND k = @k", args: named("k", "x", "ids", list(1, 2)),
		want: "SELECT 1 WHERE a IN (:ids$1, :ids$2) OR b IN ($ids$1, $ids$2) AND k = @k", bound: []any{1, 2, "x"},
		names: []string{"ids$1", "ids$2", "k"}},
	{name: "sqlite/empty", d: SQLite, in: "SELECT 1 WHERE a IN (?)", args: pos(list()),
		want: "SELECT 1 WHERE a IN ()", bound: []any{}},
	{name: "sqlite/numbered", d: SQLite, in: "SELECT 1 WHERE a IN (?1) AND b = ?2", args: pos(list(1), 2),
		err: "all ? or all named on sqlite", off: 21},
	{name: "sqlite/mixed", d: SQLite, in: "SELECT 1 WHERE a IN (?) AND b = :b", args: pos(list(1), 2),
		err: "named parameter :b follows positional ? parameters", off: 32},
	{name: "sqlite/bracket identifier", d: SQLite, in: "SELECT [in (?)] FROM t WHERE a = ?", args: pos(list(1)),
		err: "not the whole list", off: -1},
	{name: "sqlite/too many", d: SQLite, in: "SELECT 1 WHERE a IN (?)", args: pos(make(List, 32767)),
		err: "more than the 32766 sqlite allows", off: 21},
}

func TestExpand(t *testing.T) {
	// One cache per dialect: cases with the same query share its Plan, and
	// the expansions it keeps.
	caches := map[Dialect]*Cache{Postgres: NewCache(Postgres, 0), MySQL: NewCache(MySQL, 0), SQLite: NewCache(SQLite, 0)}
	for _, tc := range listCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := caches[tc.d].Plan(tc.in)
			var q string
			var out []driver.NamedValue
			if err == nil {
				q, out, err = p.Expand(tc.args)
			}
			if tc.err != "" {
				var re *Error
				if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.err) || re.Offset != tc.off {
					t.Fatalf("Expand = %q, %v; want an error at %d containing %q", q, err, tc.off, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" { // only the count matters
				if len(out) != MaxParams(tc.d) || strings.Count(q, "$") != len(out) {
					t.Fatalf("%d arguments, %d placeholders; want %d", len(out), strings.Count(q, "$"), MaxParams(tc.d))
				}
				return
			}
			if q != tc.want {
				t.Fatalf("query\n%s\nwant\n%s", q, tc.want)
			}
			got := make([]any, len(out))
			for i, a := range out {
				got[i] = a.Value
				if a.Ordinal != i+1 {
					t.Fatalf("argument %d has ordinal %d", i, a.Ordinal)
				}
				if tc.names != nil && a.Name != tc.names[i] {
					t.Fatalf("argument %d named %q, want %q", i, a.Name, tc.names[i])
				}
			}
			if !reflect.DeepEqual(got, tc.bound) {
				t.Fatalf("arguments %v, want %v", got, tc.bound)
			}
			// The same size class gives the same query, from the cache.
			if q2, _, _ := p.Expand(tc.args); q2 != q {
				t.Fatalf("second Expand = %q", q2)
			}
		})
	}
}

// TestExpandBuckets: lengths 1…70 give one native query per power of two.
func TestExpandBuckets(t *testing.T) {
	p, err := Parse(Postgres, "SELECT 1 WHERE id IN (?)")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for n := 1; n <= 70; n++ {
		q, out, err := p.Expand(pos(make(List, n)))
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != bucket(n) || len(out) < n {
			t.Fatalf("n=%d: %d arguments", n, len(out))
		}
		seen[q] = true
	}
	if len(seen) != 8 { // 1 2 4 8 16 32 64 128
		t.Fatalf("%d native queries for lengths 1…70, want 8", len(seen))
	}
}

// TestIsList: positions and names of list placeholders.
func TestIsList(t *testing.T) {
	p, _ := Parse(Postgres, "SELECT 1 WHERE a = ANY(?) AND b IN (?)")
	if p.IsList(driver.NamedValue{Ordinal: 1}) || !p.IsList(driver.NamedValue{Ordinal: 2}) {
		t.Fatal("IsList by position")
	}
	p, _ = Parse(MySQL, "SELECT 1 WHERE a = :a AND b IN (:b)")
	if p.IsList(driver.NamedValue{Ordinal: 1, Name: "a"}) || !p.IsList(driver.NamedValue{Ordinal: 2, Name: "b"}) {
		t.Fatal("IsList by name")
	}
	p, _ = parseSQLite("SELECT 1 WHERE a = :a AND b IN (:b)")
	if p.IsList(driver.NamedValue{Ordinal: 1, Name: "a"}) || !p.IsList(driver.NamedValue{Ordinal: 2, Name: "b"}) {
		t.Fatal("IsList by name on sqlite")
	}
}

// TestListKind: on PostgreSQL a list placeholder takes an Array only where
// IN (…) can become = ANY(…) with the same meaning: its operand and what
// follows bind tighter than = (see tightOperand); never on MySQL or SQLite.
func TestListKind(t *testing.T) {
	for _, tc := range []struct {
		d     Dialect
		q     string
		array bool
	}{
		{Postgres, "SELECT 1 FROM t WHERE id IN (?)", true},
		{Postgres, "SELECT 1 FROM t WHERE id NOT IN (?) ORDER BY id", true},
		{Postgres, "SELECT 1 FROM t WHERE t.id::int + 1 IN (?)", true},
		{Postgres, "SELECT 1 FROM t WHERE lower(name || 'x') IN (?)", true},
		{Postgres, "SELECT 1 FROM t WHERE a = 1 AND id IN (?) AND b = 2", true},
		{Postgres, "SELECT 1 FROM t WHERE (a = 1) IN (?)", true},
		{Postgres, "SELECT 1 FROM t WHERE NOT id IN (?)", true},
		{Postgres, "SELECT id IN (?) FROM t", true},
		{Postgres, "SELECT 1 FROM t WHERE CASE WHEN b = 1 THEN 1 ELSE 2 END IN (?)", true},
		{Postgres, "SELECT 1 FROM t WHERE id IN (?) IS TRUE", true},
		{Postgres, "SELECT 1 FROM t WHERE f(id IN (?), 2)", true},
		{Postgres, "SELECT 1 FROM t WHERE x = id IN (?)", false},
		{Postgres, "SELECT 1 FROM t WHERE x <= id IN (?)", false},
		{Postgres, "SELECT 1 FROM t WHERE a BETWEEN 1 AND id IN (?)", false},
		{Postgres, "SELECT 1 FROM t WHERE a LIKE b IN (?)", false},
		{Postgres, "SELECT 1 FROM t WHERE a = CASE WHEN b THEN 1 ELSE 2 END IN (?)", false},
		{Postgres, "SELECT 1 FROM t WHERE id IN (?) = TRUE", false},
		{Postgres, "SELECT 1 FROM t WHERE id IN (?) < x", false},
		{Postgres, "SELECT 1 FROM t WHERE id IN (?) NOT LIKE 'x'", false},
		{Postgres, "x END IN (?)", false},
		{MySQL, "SELECT 1 FROM t WHERE id IN (?)", false},
	} {
		p, err := Parse(tc.d, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		list, array := p.ListKind(driver.NamedValue{Ordinal: 1})
		if !list || array != tc.array {
			t.Errorf("%s: ListKind = %v, %v; want true, %v", tc.q, list, array, tc.array)
		}
	}
	p, _ := parseSQLite("SELECT 1 FROM t WHERE id IN (?)")
	if list, array := p.ListKind(driver.NamedValue{Ordinal: 1}); !list || array {
		t.Errorf("sqlite: ListKind = %v, %v; want true, false", list, array)
	}
	// A parameter used at two lists takes an Array only when both can.
	p, _ = Parse(Postgres, "SELECT 1 WHERE a IN (:ids) OR x = b IN (:ids)")
	if list, array := p.ListKind(driver.NamedValue{Ordinal: 1, Name: "ids"}); !list || array {
		t.Errorf("two sites: ListKind = %v, %v; want true, false", list, array)
	}
}

// checkLists checks the list properties of Plan p of q, for the fuzz
// targets: binding a one-element List to every list argument gives Query and
// Bind's arguments with the element in its place; a List of three elements
// gives four arguments in its place, and on Postgres (reparse, when the
// query had no ??) a native query with exactly as many parameters.
func checkLists(t *testing.T, g, q string, p *Plan, reparse bool) {
	t.Helper()
	if !p.HasLists() {
		return
	}
	ls := p.extra.lists
	named := p.style == styleNamed || ls.sqlite == sqliteNamed
	n := int(ls.nparams)
	anyList := false
	args := func(l func(j int) any) []driver.NamedValue {
		out := make([]driver.NamedValue, n)
		for j := range out {
			out[j] = driver.NamedValue{Ordinal: j + 1, Value: j}
			if named {
				out[j].Name = p.extra.params[j].name
			}
			if p.IsList(out[j]) && onlyLists(ls, j) {
				out[j].Value = l(j)
				anyList = true
			}
		}
		return out
	}
	plain := args(func(j int) any { return j })
	wantQ, wantArgs := p.Query(), plain
	if p.dialect != SQLite {
		var err error
		if wantArgs, err = p.Bind(plain); err != nil {
			t.Fatalf("%s %q: Bind: %v", g, q, err)
		}
	}
	gotQ, gotArgs, err := p.Expand(args(func(j int) any { return List{j} }))
	if err != nil {
		t.Fatalf("%s %q: Expand of one-element lists: %v", g, q, err)
	}
	if p.dialect == SQLite && named {
		// The element is bound by its name with $1 added: :ids$1.
		if len(gotArgs) != len(wantArgs) {
			t.Fatalf("%s %q: Expand of one-element lists: %d arguments, want %d", g, q, len(gotArgs), len(wantArgs))
		}
		return
	}
	if gotQ != wantQ || !reflect.DeepEqual(gotArgs, wantArgs) {
		t.Fatalf("%s %q: Expand of one-element lists = %q %v, want %q %v", g, q, gotQ, gotArgs, wantQ, wantArgs)
	}
	gotQ, gotArgs, err = p.Expand(args(func(j int) any { return List{j, j, j} }))
	if err != nil {
		t.Fatalf("%s %q: Expand of three-element lists: %v", g, q, err)
	}
	if p.dialect == Postgres && reparse {
		p2, err := Parse(Postgres, gotQ)
		if err != nil || p2.NumInput() != len(gotArgs) {
			t.Fatalf("%s %q -> %q: reparsed %v, %v; want %d parameters", g, q, gotQ, p2, err, len(gotArgs))
		}
	}
	if anyList && len(gotArgs) <= len(wantArgs) {
		t.Fatalf("%s %q: Expand of three-element lists gave %d arguments, one-element lists %d", g, q, len(gotArgs), len(wantArgs))
	}
}

// onlyLists reports whether every placeholder of argument j is a list: a
// List bound to one that is not is an error.
func onlyLists(ls *lists, j int) bool {
	for _, s := range ls.sites {
		if int(s.param) == j && !s.list {
			return false
		}
	}
	return true
}
