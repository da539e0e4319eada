// Command genwrap writes wrap_gen.go: for each wrapper type (conn, stmt,
// rows) a constructor that returns a value implementing exactly the optional
// driver interfaces the wrapped value implements. Go cannot add methods to a
// value at run time, so every combination of mixins gets its own type.
// Connections and statements get a struct per combination, built with one
// allocation. Rows, made for every query, get a named pointer type per
// combination instead, so wrapping them allocates nothing.
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
}

type kind struct {
	fn, base, result, doc string
	mixins                []mixin
}

var kinds = []kind{
	{
		fn: "wrapConn", base: "conn", result: "driver.Conn",
		doc: "the real connection",
		mixins: []mixin{
			{"connPinger", "w.pinger != nil"},
			{"connExecer", "w.execer != nil || w.execerLegacy != nil"},
			{"connQueryer", "w.queryer != nil || w.queryerLegacy != nil"},
			{"connPreparer", "w.preparer != nil"},
			{"connBeginner", "w.beginner != nil"},
			{"connResetter", "w.resetter != nil"},
			{"connValidator", "w.validator != nil"},
			{"connChecker", "w.checker != nil"},
		},
	},
	{
		fn: "wrapStmt", base: "stmt", result: "driver.Stmt",
		doc: "the real statement",
		mixins: []mixin{
			{"stmtExecer", "w.execer != nil"},
			{"stmtQueryer", "w.queryer != nil"},
			{"stmtChecker", "w.checker != nil"},
			{"stmtConverter", "w.converter != nil"},
		},
	},
}

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
		{"rowsNextResultSet", "driver.RowsNextResultSet", []method{
			{"HasNextResultSet", "", "", "bool"},
			{"NextResultSet", "", "", "error"},
		}},
		{"rowsScanType", "driver.RowsColumnTypeScanType", []method{
			{"ColumnTypeScanType", "i int", "i", "reflect.Type"},
		}},
		{"rowsDBTypeName", "driver.RowsColumnTypeDatabaseTypeName", []method{
			{"ColumnTypeDatabaseTypeName", "i int", "i", "string"},
		}},
		{"rowsLength", "driver.RowsColumnTypeLength", []method{
			{"ColumnTypeLength", "i int", "i", "(int64, bool)"},
		}},
		{"rowsNullable", "driver.RowsColumnTypeNullable", []method{
			{"ColumnTypeNullable", "i int", "i", "(bool, bool)"},
		}},
		{"rowsPrecisionScale", "driver.RowsColumnTypePrecisionScale", []method{
			{"ColumnTypePrecisionScale", "i int", "i", "(int64, int64, bool)"},
		}},
	},
}

// sharedRowsKind is force_rollback's rows (forcerollback_rows.go), which
// may be read into memory: they offer the optional interfaces of the real
// rows they came from, and only those that still hold for rows in memory.
var sharedRowsKind = namedKind{
	fn: "wrapSharedRows", set: "sharedRowsMixins", base: "sharedRows", iface: "driver.Rows", result: "driver.Rows",
	methods: rowsKind.methods,
	mixins: []namedMixin{
		{"sharedRowsNextResultSet", "driver.RowsNextResultSet", []method{
			{"HasNextResultSet", "", "", "bool"},
			{"NextResultSet", "", "", "error"},
		}},
		{"sharedRowsScanType", "driver.RowsColumnTypeScanType", []method{
			{"ColumnTypeScanType", "i int", "i", "reflect.Type"},
		}},
		{"sharedRowsDBTypeName", "driver.RowsColumnTypeDatabaseTypeName", []method{
			{"ColumnTypeDatabaseTypeName", "i int", "i", "string"},
		}},
		{"sharedRowsLength", "driver.RowsColumnTypeLength", []method{
			{"ColumnTypeLength", "i int", "i", "(int64, bool)"},
		}},
		{"sharedRowsNullable", "driver.RowsColumnTypeNullable", []method{
			{"ColumnTypeNullable", "i int", "i", "(bool, bool)"},
		}},
		{"sharedRowsPrecisionScale", "driver.RowsColumnTypePrecisionScale", []method{
			{"ColumnTypePrecisionScale", "i int", "i", "(int64, int64, bool)"},
		}},
	},
}

// writeNamed writes the set function, the constructor and the combination
// types of k.
func writeNamed(b *bytes.Buffer, k namedKind) {
	fmt.Fprintf(b, "\n// %s returns the optional interfaces w has, one bit per mixin, as\n// %s takes them.\n", k.set, k.fn)
	fmt.Fprintf(b, "func %s(w %s) uint {\n\tvar set uint\n", k.set, k.iface)
	for i, m := range k.mixins {
		fmt.Fprintf(b, "\tif _, ok := w.(%s); ok {\n\t\tset |= 1 << %d\n\t}\n", m.iface, i)
	}
	b.WriteString("\treturn set\n}\n")
	fmt.Fprintf(b, "\n// %s returns w as a %s that implements exactly the optional\n// interfaces in set, without allocating.\n", k.fn, k.result)
	fmt.Fprintf(b, "func %s(w *%s, set uint) %s {\n\tswitch set {\n\tcase 0:\n\t\treturn w\n", k.fn, k.base, k.result)
	for set := 1; set < 1<<len(k.mixins); set++ {
		fmt.Fprintf(b, "\tcase %d:\n\t\treturn (*%s%d)(w)\n", set, k.base, set)
	}
	b.WriteString("\t}\n\tpanic(\"unreachable\")\n}\n")
	forward := func(typ, via string, m method) {
		ret := "return "
		if m.results == "" {
			ret = ""
		}
		fmt.Fprintf(b, "func (w *%s) %s(%s) %s { %s(*%s)(w).%s(%s) }\n", typ, m.name, m.params, m.results, ret, via, m.name, m.args)
	}
	for set := 1; set < 1<<len(k.mixins); set++ {
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
				b.WriteString("\t\treturn &w\n")
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
	writeNamed(&b, rowsKind)
	writeNamed(&b, sharedRowsKind)
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("wrap_gen.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
