package databases

// Reading the text of "COPY table (columns) FROM STDIN", the statement of
// lib/pq's convention (pq.CopyIn writes it) and the one CopyFrom prepares.

import (
	"fmt"
	"strings"
)

// copySpec is what a COPY … FROM STDIN statement names.
type copySpec struct {
	table   []copyName // schema-qualified when longer than one
	columns []copyName
}

// copyName is an identifier as written: quoted ones keep their case,
// bare ones fold as the dialect folds them (copyIdent).
type copyName struct {
	name   string
	quoted bool
}

// copyText writes the statement CopyFrom prepares: table split at its
// dots, every name quoted.
func copyText(table string, columns []string) string {
	return copyTextQuoted(strings.Split(table, "."), columns, '"')
}

// copyTextQuoted writes the statement of table's parts and columns, each
// name between quote characters.
func copyTextQuoted(table, columns []string, quote byte) string {
	var b strings.Builder
	b.WriteString("COPY ")
	for i, part := range table {
		if i > 0 {
			b.WriteByte('.')
		}
		writeQuoted(&b, part, quote)
	}
	b.WriteString(" (")
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		writeQuoted(&b, c, quote)
	}
	b.WriteString(") FROM STDIN")
	return b.String()
}

// copyDisplayText is the text a load's middleware call shows: query as
// written, except CopyFrom's own statement on MySQL, whose "double-quoted"
// names the MySQL redactor would read as string literals and hide; it is
// shown with `backquoted` names, as MySQL quotes identifiers.
func copyDisplayText(quote byte, spec copySpec, query string) string {
	if quote == '"' {
		return query
	}
	names := func(ns []copyName) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = n.name
		}
		return out
	}
	table, columns := names(spec.table), names(spec.columns)
	if query != copyTextQuoted(table, columns, '"') {
		return query
	}
	return copyTextQuoted(table, columns, quote)
}

// writeQuoted writes name between quote characters, doubling those inside.
func writeQuoted(b *strings.Builder, name string, quote byte) {
	b.WriteByte(quote)
	for i := 0; i < len(name); i++ {
		if name[i] == quote {
			b.WriteByte(quote)
		}
		b.WriteByte(name[i])
	}
	b.WriteByte(quote)
}

// isCopyFromStdin reports, cheaply, whether query may be a COPY … FROM
// STDIN: it begins with COPY and names STDIN. Only such a query is read
// with parseCopy, so every other Prepare pays a prefix test.
func isCopyFromStdin(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) > 5 && strings.EqualFold(q[:4], "copy") && isSpace(q[4]) &&
		strings.Contains(strings.ToUpper(q), "STDIN")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// parseCopy reads "COPY name[.name…] (col, …) FROM STDIN [;]". Names are
// bare words, "double-quoted" or `backquoted` (either quote on every
// backend: COPY is this package's own statement on MySQL and SQLite). An
// error names the byte offset where the text stopped making sense.
func parseCopy(query string) (copySpec, error) {
	p := copyParser{q: query}
	var spec copySpec
	if !p.keyword("COPY") {
		return spec, p.fail("COPY")
	}
	for {
		n, ok := p.name()
		if !ok {
			return spec, p.fail("a table name")
		}
		spec.table = append(spec.table, n)
		if !p.punct('.') {
			break
		}
	}
	if !p.punct('(') {
		return spec, p.fail("a parenthesized column list (COPY needs the columns named)")
	}
	for {
		n, ok := p.name()
		if !ok {
			return spec, p.fail("a column name")
		}
		spec.columns = append(spec.columns, n)
		if p.punct(')') {
			break
		}
		if !p.punct(',') {
			return spec, p.fail(", or )")
		}
	}
	if !p.keyword("FROM") {
		return spec, p.fail("FROM")
	}
	if !p.keyword("STDIN") {
		return spec, p.fail("STDIN")
	}
	p.punct(';')
	if p.skip(); p.i < len(p.q) {
		return spec, p.fail("the end of the statement (options after STDIN are not supported: the rows are sent in the backend's own format)")
	}
	return spec, nil
}

// copyParser is parseCopy's position in the text.
type copyParser struct {
	q string
	i int
}

func (p *copyParser) skip() {
	for p.i < len(p.q) && isSpace(p.q[p.i]) {
		p.i++
	}
}

func (p *copyParser) fail(want string) error {
	p.skip()
	return fmt.Errorf("databases: COPY … FROM STDIN: want %s at byte offset %d", want, p.i)
}

func (p *copyParser) punct(c byte) bool {
	p.skip()
	if p.i < len(p.q) && p.q[p.i] == c {
		p.i++
		return true
	}
	return false
}

// word reads a bare word: letters, digits, _ and $, not starting with a
// digit or $, and any byte of a multi-byte character.
func (p *copyParser) word() (string, bool) {
	p.skip()
	start := p.i
	for p.i < len(p.q) {
		c := p.q[p.i]
		if c == '_' || 'a' <= c|0x20 && c|0x20 <= 'z' || c >= 0x80 || p.i > start && (c == '$' || '0' <= c && c <= '9') {
			p.i++
			continue
		}
		break
	}
	return p.q[start:p.i], p.i > start
}

func (p *copyParser) keyword(kw string) bool {
	save := p.i
	w, ok := p.word()
	if ok && strings.EqualFold(w, kw) {
		return true
	}
	p.i = save
	return false
}

// name reads a bare or quoted identifier.
func (p *copyParser) name() (copyName, bool) {
	p.skip()
	if p.i < len(p.q) && (p.q[p.i] == '"' || p.q[p.i] == '`') {
		quote := p.q[p.i]
		var b strings.Builder
		for j := p.i + 1; j < len(p.q); j++ {
			if p.q[j] != quote {
				b.WriteByte(p.q[j])
				continue
			}
			if j+1 < len(p.q) && p.q[j+1] == quote {
				b.WriteByte(quote)
				j++
				continue
			}
			p.i = j + 1
			return copyName{name: b.String(), quoted: true}, true
		}
		return copyName{}, false
	}
	w, ok := p.word()
	return copyName{name: w}, ok
}
