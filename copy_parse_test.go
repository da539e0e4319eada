package databases

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseCopy: the statements lib/pq users write and pq.CopyIn writes
// are read; anything else is refused with the byte offset where it stops.
func TestParseCopy(t *testing.T) {
	n := func(name string, quoted bool) copyName { return copyName{name: name, quoted: quoted} }
	cases := []struct {
		q       string
		table   []copyName
		columns []copyName
		errAt   string // "" when it parses
	}{
		{q: "COPY t (a, b) FROM STDIN", table: []copyName{n("t", false)}, columns: []copyName{n("a", false), n("b", false)}},
		{q: `COPY "public"."My ""T""" ("a", "B c") FROM STDIN`, table: []copyName{n("public", true), n(`My "T"`, true)}, columns: []copyName{n("a", true), n("B c", true)}},
		{q: "  copy `t` (`a`)\n from\tstdin ;  ", table: []copyName{n("t", true)}, columns: []copyName{n("a", true)}},
		{q: "COPY été (ñ1, _x$) FROM STDIN", table: []copyName{n("été", false)}, columns: []copyName{n("ñ1", false), n("_x$", false)}},
		{q: "COPY t FROM STDIN", errAt: "byte offset 7"},
		{q: "COPY t (a) FROM STDIN WITH (FORMAT csv)", errAt: "byte offset 22"},
		{q: "COPY t (a,) FROM STDIN", errAt: "byte offset 10"},
		{q: `COPY "t (a) FROM STDIN`, errAt: "byte offset 5"},
		{q: "COPY t (a) TO STDIN", errAt: "byte offset 11"},
		{q: "COPY t (1a) FROM STDIN", errAt: "byte offset 8"},
	}
	for _, tc := range cases {
		spec, err := parseCopy(tc.q)
		if tc.errAt != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errAt) {
				t.Errorf("%q: %v; want an error at %s", tc.q, err, tc.errAt)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.q, err)
			continue
		}
		if !reflect.DeepEqual(spec.table, tc.table) || !reflect.DeepEqual(spec.columns, tc.columns) {
			t.Errorf("%q: %+v", tc.q, spec)
		}
		if !isCopyFromStdin(tc.q) {
			t.Errorf("%q: isCopyFromStdin says no", tc.q)
		}
	}
	for _, q := range []string{"SELECT 1", "COPY t TO STDOUT", "COPYRIGHT", "copy"} {
		if isCopyFromStdin(q) {
			t.Errorf("%q: isCopyFromStdin says yes", q)
		}
	}
}

// FuzzParseCopy: reading never panics, and what copyText writes for the
// names read reads back as the same names.
func FuzzParseCopy(f *testing.F) {
	for _, q := range []string{"COPY t (a, b) FROM STDIN", `COPY "s"."t" ("a""b") FROM STDIN;`, "copy `x` (`y`) from stdin", "COPY t (a"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		spec, err := parseCopy(q)
		if err != nil {
			return
		}
		var table, columns []string
		for _, p := range spec.table {
			table = append(table, p.name)
		}
		for _, c := range spec.columns {
			columns = append(columns, c.name)
		}
		text := copyText(strings.Join(table, "."), columns)
		again, err := parseCopy(text)
		if err != nil {
			t.Fatalf("%q: copyText wrote %q, which does not parse: %v", q, text, err)
		}
		if strings.Contains(strings.Join(table, ""), ".") {
			return // a quoted dot splits when written as one name
		}
		for i := range again.table {
			again.table[i].quoted = spec.table[i].quoted
		}
		for i := range again.columns {
			again.columns[i].quoted = spec.columns[i].quoted
		}
		if !reflect.DeepEqual(again, spec) {
			t.Fatalf("%q: read %+v, written as %q, read back as %+v", q, spec, text, again)
		}
	})
}
