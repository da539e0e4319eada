// Command genwrap writes wrap_gen.go: for each wrapper type (conn, stmt,
// rows) a constructor that returns a value implementing exactly the optional
// driver interfaces the wrapped value implements. Go cannot add methods to a
// value at run time, so every combination of mixins gets its own type.
// Connections and statements get a struct per combination, built with one
// allocation. Rows, made for every query, get a named pointer type per
// combination instead, so wrapping them allocates nothing.
//
// An interface that only newer Go releases have (driver.RowsColumnScanner,
// Go 1.27) takes the high bits of the set: the combinations with it go to
// wrap_gen_go127.go, built only by those releases, and
// wrap_gen_pre_go127.go tells older ones that no rows have it.
//
// It also writes wrap_gen_shapes_test.go: for each set of a connection or
// statement, a real driver value of that shape (an anonymous struct that
// embeds exactly the interfaces of the set), which wrap_gen_test.go hands
// to the wrapper to check every combination.
//
// Run it with `go generate` in the module root.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

type mixin struct {
	typ  string // mixin type, e.g. connPinger
	cond string // when the wrapped value has it, e.g. "w.pinger != nil"
	// real lists the ways a real driver value gets the mixin: each is the
	// interfaces it embeds, e.g. {"driver.ExecerContext"}, {"driver.Execer"}.
	real [][]string
}

type kind struct {
	fn, base, result, doc string
	mixins                []mixin
	// fake is the test's value that implements every interface, and shapes
	// the name of the table of real values built from it.
	fake, shapes string
}

var kinds = []kind{
	{
		fn: "wrapConn", base: "conn", result: "driver.Conn",
		doc:  "the real connection",
		fake: "fakeConn", shapes: "connShapes",
		mixins: []mixin{
			{"connPinger", "w.pinger != nil", one("driver.Pinger")},
			{"connExecer", "w.execer != nil || w.execerLegacy != nil", [][]string{
				{"driver.ExecerContext"}, {"driver.Execer"}, {"driver.ExecerContext", "driver.Execer"},
			}},
			{"connQueryer", "w.queryer != nil || w.queryerLegacy != nil", [][]string{
				{"driver.QueryerContext"}, {"driver.Queryer"}, {"driver.QueryerContext", "driver.Queryer"},
			}},
			{"connPreparer", "w.preparer != nil", one("driver.ConnPrepareContext")},
			{"connBeginner", "w.beginner != nil", one("driver.ConnBeginTx")},
			{"connResetter", "w.resetter != nil", one("driver.SessionResetter")},
			{"connValidator", "w.validator != nil", one("driver.Validator")},
			{"connChecker", "w.claimsChecker()", one("driver.NamedValueChecker")},
		},
	},
	{
		fn: "wrapStmt", base: "stmt", result: "driver.Stmt",
		doc:  "the real statement",
		fake: "fakeStmt", shapes: "stmtShapes",
		mixins: []mixin{
			{"stmtExecer", "w.execer != nil", one("driver.StmtExecContext")},
			{"stmtQueryer", "w.queryer != nil", one("driver.StmtQueryContext")},
			{"stmtChecker", "w.checker != nil", one("driver.NamedValueChecker")},
			// Embedded as driver.ColumnConverter, the field would hide
			// the method of the same name; the test names it otherwise.
			{"stmtConverter", "w.converter != nil", one("columnConverter")},
		},
	},
}

// one is the real interfaces of a mixin that only one interface gives.
func one(iface string) [][]string { return [][]string{{iface}} }

// method is one method a pointer-shaped combination forwards.
type method struct{ name, params, args, results string }

// namedKind is a wrapper whose combinations are named types over the base
// struct: a pointer to one fits in an interface without allocating.
type namedKind struct {
	fn, set, base, iface, result string
	methods                      []method // the base type's
	mixins                       []namedMixin
}

type namedMixin struct {
	typ, iface string
	since      string // the Go release that added iface, e.g. "go1.27"; "" for every supported one
	methods    []method
}

var rowsKind = namedKind{
	fn: "wrapRows", set: "rowsMixins", base: "rows", iface: "driver.Rows", result: "driver.Rows",
	methods: []method{
		{"Columns", "", "", "[]string"},
		{"Next", "dest []driver.Value", "dest", "error"},
		{"Close", "", "", "error"},
	},
	mixins: []namedMixin{
		{"rowsNextResultSet", "driver.RowsNextResultSet", "", []method{
			{"HasNextResultSet", "", "", "bool"},
			{"NextResultSet", "", "", "error"},
		}},
		{"rowsScanType", "driver.RowsColumnTypeScanType", "", []method{
			{"ColumnTypeScanType", "i int", "i", "reflect.Type"},
		}},
		{"rowsDBTypeName", "driver.RowsColumnTypeDatabaseTypeName", "", []method{
			{"ColumnTypeDatabaseTypeName", "i int", "i", "string"},
		}},
		{"rowsLength", "driver.RowsColumnTypeLength", "", []method{
			{"ColumnTypeLength", "i int", "i", "(int64, bool)"},
		}},
		{"rowsNullable", "driver.RowsColumnTypeNullable", "", []method{
			{"ColumnTypeNullable", "i int", "i", "(bool, bool)"},
		}},
		{"rowsPrecisionScale", "driver.RowsColumnTypePrecisionScale", "", []method{
			{"ColumnTypePrecisionScale", "i int", "i", "(int64, int64, bool)"},
		}},
		{"rowsColumnScanner", "driver.RowsColumnScanner", "go1.27", []method{
			{"NextRow", "", "", "error"},
			{"ScanColumn", "scanCtx driver.ScanContext, index int, dest any", "scanCtx, index, dest", "error"},
		}},
	},
}

// sharedRowsKind is force_rollback's rows (forcerollback_rows.go), which
// may be read into memory: they offer the optional interfaces of the real
// rows they came from, and only those that still hold for rows in memory
// (RowsColumnScanner does, by database/sql's conversions, as on Go 1.26).
var sharedRowsKind = namedKind{
	fn: "wrapSharedRows", set: "sharedRowsMixins", base: "sharedRows", iface: "driver.Rows", result: "driver.Rows",
	methods: rowsKind.methods,
	mixins: []namedMixin{
		{"sharedRowsNextResultSet", "driver.RowsNextResultSet", "", []method{
			{"HasNextResultSet", "", "", "bool"},
			{"NextResultSet", "", "", "error"},
		}},
		{"sharedRowsScanType", "driver.RowsColumnTypeScanType", "", []method{
			{"ColumnTypeScanType", "i int", "i", "reflect.Type"},
		}},
		{"sharedRowsDBTypeName", "driver.RowsColumnTypeDatabaseTypeName", "", []method{
			{"ColumnTypeDatabaseTypeName", "i int", "i", "string"},
		}},
		{"sharedRowsLength", "driver.RowsColumnTypeLength", "", []method{
			{"ColumnTypeLength", "i int", "i", "(int64, bool)"},
		}},
		{"sharedRowsNullable", "driver.RowsColumnTypeNullable", "", []method{
			{"ColumnTypeNullable", "i int", "i", "(bool, bool)"},
		}},
		{"sharedRowsPrecisionScale", "driver.RowsColumnTypePrecisionScale", "", []method{
			{"ColumnTypePrecisionScale", "i int", "i", "(int64, int64, bool)"},
		}},
		{"sharedRowsColumnScanner", "driver.RowsColumnScanner", "go1.27", []method{
			{"NextRow", "", "", "error"},
			{"ScanColumn", "scanCtx driver.ScanContext, index int, dest any", "scanCtx, index, dest", "error"},
		}},
	},
}

// split splits k's mixins into those every supported Go release has and
// those of one newer release, which must come last; since is that release
// ("" when there are none).
func (k namedKind) split() (base int, since string) {
	base = len(k.mixins)
	for i, m := range k.mixins {
		switch {
		case m.since == "" && since != "":
			log.Fatalf("%s: mixin %s must come before those of %s", k.fn, m.typ, since)
		case m.since != "" && since == "":
			base, since = i, m.since
		case m.since != since:
			log.Fatalf("%s: mixins of two Go releases (%s, %s); the generator handles one", k.fn, since, m.since)
		}
	}
	return base, since
}

// suffix turns a Go release into an identifier part: "go1.27" -> "Go127".
func suffix(since string) string {
	return "Go" + strings.ReplaceAll(strings.TrimPrefix(since, "go"), ".", "")
}

// writeNamed writes the set function, the constructor and the combination
// types of k. Combinations with a mixin of a newer Go release go to newer,
// and older releases get stubs in older saying no value has them.
func writeNamed(b, newer, older *bytes.Buffer, k namedKind) {
	nb, since := k.split()
	all := uint(1) << len(k.mixins)
	baseSets := uint(1) << nb
	setFn, wrapFn := k.set, k.fn
	if since != "" {
		setFn, wrapFn = k.set+suffix(since), k.fn+suffix(since)
	}
	// mixinChecks writes the type assertions for mixins [from, to).
	mixinChecks := func(b *bytes.Buffer, from, to int) {
		for i := from; i < to; i++ {
			fmt.Fprintf(b, "\tif _, ok := w.(%s); ok {\n\t\tset |= 1 << %d\n\t}\n", k.mixins[i].iface, i)
		}
	}
	cases := func(b *bytes.Buffer, from, to uint) {
		for set := from; set < to; set++ {
			fmt.Fprintf(b, "\tcase %d:\n\t\treturn (*%s%d)(w)\n", set, k.base, set)
		}
	}

	fmt.Fprintf(b, "\n// %s returns the optional interfaces w has, one bit per mixin, as\n// %s takes them.\n", k.set, k.fn)
	fmt.Fprintf(b, "func %s(w %s) uint {\n\tvar set uint\n", k.set, k.iface)
	mixinChecks(b, 0, nb)
	if since != "" {
		fmt.Fprintf(b, "\treturn set | %s(w)\n}\n", setFn)
	} else {
		b.WriteString("\treturn set\n}\n")
	}
	fmt.Fprintf(b, "\n// %s returns w as a %s that implements exactly the optional\n// interfaces in set, without allocating.\n", k.fn, k.result)
	fmt.Fprintf(b, "func %s(w *%s, set uint) %s {\n\tswitch set {\n\tcase 0:\n\t\treturn w\n", k.fn, k.base, k.result)
	cases(b, 1, baseSets)
	if since != "" {
		fmt.Fprintf(b, "\t}\n\treturn %s(w, set)\n}\n", wrapFn)
	} else {
		b.WriteString("\t}\n\tpanic(\"unreachable\")\n}\n")
	}
	writeTypes(b, k, 1, baseSets)
	if since == "" {
		return
	}

	fmt.Fprintf(newer, "\n// %s returns the bits of %s for the interfaces %s added.\n", setFn, k.set, since)
	fmt.Fprintf(newer, "func %s(w %s) uint {\n\tvar set uint\n", setFn, k.iface)
	mixinChecks(newer, nb, len(k.mixins))
	newer.WriteString("\treturn set\n}\n")
	fmt.Fprintf(newer, "\n// %s is %s for the sets with an interface %s added.\n", wrapFn, k.fn, since)
	fmt.Fprintf(newer, "func %s(w *%s, set uint) %s {\n\tswitch set {\n", wrapFn, k.base, k.result)
	cases(newer, baseSets, all)
	newer.WriteString("\t}\n\tpanic(\"unreachable\")\n}\n")
	writeTypes(newer, k, baseSets, all)

	fmt.Fprintf(older, "\n// %s: before %s no %s has the interfaces it added.\nfunc %s(%s) uint { return 0 }\n", setFn, since, k.iface, setFn, k.iface)
	fmt.Fprintf(older, "\n// %s is never called before %s: %s is always 0.\nfunc %s(*%s, uint) %s { panic(\"unreachable\") }\n", wrapFn, since, setFn, wrapFn, k.base, k.result)
}

// writeTypes writes the combination types of k for the sets [from, to).
func writeTypes(b *bytes.Buffer, k namedKind, from, to uint) {
	forward := func(typ, via string, m method) {
		ret := "return "
		if m.results == "" {
			ret = ""
		}
		fmt.Fprintf(b, "func (w *%s) %s(%s) %s { %s(*%s)(w).%s(%s) }\n", typ, m.name, m.params, m.results, ret, via, m.name, m.args)
	}
	for set := from; set < to; set++ {
		typ := fmt.Sprintf("%s%d", k.base, set)
		var names, ifaces []string
		for i, m := range k.mixins {
			if set&(1<<i) != 0 {
				names = append(names, m.typ)
				ifaces = append(ifaces, m.iface)
			}
		}
		fmt.Fprintf(b, "\n// %s is %s with %s.\ntype %s %s\n\n", typ, k.base, strings.Join(names, ", "), typ, k.base)
		fmt.Fprintf(b, "var _ interface {\n\t%s\n\t%s\n} = (*%s)(nil)\n\n", k.iface, strings.Join(ifaces, "\n\t"), typ)
		for _, m := range k.methods {
			forward(typ, k.base, m)
		}
		for i, mx := range k.mixins {
			if set&(1<<i) != 0 {
				for _, m := range mx.methods {
					forward(typ, mx.typ, m)
				}
			}
		}
	}
}

func main() {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/genwrap; DO NOT EDIT.\n\npackage databases\n\nimport (\n\t\"database/sql/driver\"\n\t\"reflect\"\n)\n")
	for _, k := range kinds {
		fmt.Fprintf(&b, "\n// %s returns w as a %s that implements exactly the optional\n// interfaces of %s.\n", k.fn, k.result, k.doc)
		fmt.Fprintf(&b, "func %s(w %s) %s {\n\tvar set uint\n", k.fn, k.base, k.result)
		for i, m := range k.mixins {
			fmt.Fprintf(&b, "\tif %s {\n\t\tset |= 1 << %d\n\t}\n", m.cond, i)
		}
		b.WriteString("\tswitch set {\n")
		for set := 0; set < 1<<len(k.mixins); set++ {
			fmt.Fprintf(&b, "\tcase %d:\n", set)
			if set == 0 {
				// A copy of its own, so that w escapes only in this case.
				b.WriteString("\t\tx := w\n\t\treturn &x\n")
				continue
			}
			var fields, assigns []string
			for i, m := range k.mixins {
				if set&(1<<i) != 0 {
					fields = append(fields, "*"+m.typ)
					assigns = append(assigns, fmt.Sprintf("\t\tx.%s = (*%s)(&x.%s)\n", m.typ, m.typ, k.base))
				}
			}
			fmt.Fprintf(&b, "\t\tx := &struct {\n\t\t\t%s\n\t\t\t%s\n\t\t}{%s: w}\n", k.base, strings.Join(fields, "\n\t\t\t"), k.base)
			b.WriteString(strings.Join(assigns, ""))
			b.WriteString("\t\treturn x\n")
		}
		b.WriteString("\t}\n\tpanic(\"unreachable\")\n}\n")
	}
	var shapes bytes.Buffer
	shapes.WriteString("// Code generated by internal/genwrap; DO NOT EDIT.\n\n//lint:file-ignore SA1019 real drivers may have the legacy interfaces\n\npackage databases\n\nimport \"database/sql/driver\"\n")
	for _, k := range kinds {
		writeShapes(&shapes, k)
	}
	write("wrap_gen_shapes_test.go", shapes.Bytes())
	var newer, older bytes.Buffer
	writeNamed(&b, &newer, &older, rowsKind)
	writeNamed(&b, &newer, &older, sharedRowsKind)
	write("wrap_gen.go", b.Bytes())
	if _, since := rowsKind.split(); since != "" {
		const head = "// Code generated by internal/genwrap; DO NOT EDIT.\n\n//go:build %s\n\npackage databases\n\nimport (\n%s)\n"
		name := strings.ToLower(suffix(since))
		write("wrap_gen_"+name+".go", append(fmt.Appendf(nil, head, since, "\t\"database/sql/driver\"\n\t\"reflect\"\n"), newer.Bytes()...))
		write("wrap_gen_pre_"+name+".go", append(fmt.Appendf(nil, head, "!"+since, "\t\"database/sql/driver\"\n"), older.Bytes()...))
	}
}

// writeShapes writes the table of real values of k: entry set embeds
// exactly the interfaces of set's mixins. A mixin that more than one set
// of real interfaces gives takes them in turn across the sets that have it.
func writeShapes(b *bytes.Buffer, k kind) {
	fmt.Fprintf(b, "\n// %s[set] is a real value forwarding to f with exactly the optional\n// interfaces that make %s build set.\n", k.shapes, k.fn)
	fmt.Fprintf(b, "var %s = [...]func(f *%s) %s{\n", k.shapes, k.fake, k.result)
	for set := 0; set < 1<<len(k.mixins); set++ {
		fields, values := []string{k.result}, []string{"f"}
		for i, m := range k.mixins {
			if set&(1<<i) == 0 {
				continue
			}
			for _, iface := range m.real[(set>>i)%len(m.real)] {
				fields = append(fields, iface)
				values = append(values, "f")
			}
		}
		fmt.Fprintf(b, "\t%d: func(f *%s) %s { return struct{ %s }{%s} },\n", set, k.fake, k.result, strings.Join(fields, "; "), strings.Join(values, ", "))
	}
	b.WriteString("}\n")
}

// write formats src and writes it to the file name.
func write(name string, src []byte) {
	src, err := format.Source(src)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	if err := os.WriteFile(name, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
