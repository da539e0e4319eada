package databases

// The option tables of doc.go and docs/options.md, tied to the option table
// of the URL parser (dsn.Options) and to the With… functions, so that neither
// document can go stale.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dsn"
)

// TestOptionsDoc checks the tables that list options:
//
//   - the options table of doc.go ("Options owned by the package") and the
//     headings of docs/options.md have a row (a heading) for every option
//     of dsn.Options, give each alias in the row of the option it stands
//     for, and list nothing dsn.Options does not know;
//   - every heading of docs/options.md gives the option's type, values,
//     default, backends and an example URL that uses the option (or an
//     alias) and that the parser accepts;
//   - every option in the example URLs of doc.go ("URLs") and README.md
//     ("## URLs") is the package's or one the dialect's real driver reads
//     (dsn.DriverOptions);
//   - README.md's row of options in code lists every exported function that
//     returns an Option, and nothing else.
func TestOptionsDoc(t *testing.T) {
	doc := readFile(t, "doc.go")
	readme := readFile(t, "README.md")
	optionsDoc := readFile(t, filepath.Join("docs", "options.md"))

	docOptions := section(t, "doc.go", doc, "// # Options owned by the package\n", "\n// #")
	headings := optionHeadings(optionsDoc)
	tables := []struct {
		where string
		rows  map[string][]string // option to its aliases
	}{
		{"doc.go's options table", docOptionRows(docOptions)},
		{"docs/options.md's headings", headingRows(headings)},
	}
	for _, table := range tables {
		t.Run(table.where, func(t *testing.T) {
			checkOptionTable(t, table.where, table.rows)
		})
	}

	t.Run("docs/options.md's fields", func(t *testing.T) {
		for _, h := range headings {
			checkOptionHeading(t, h)
		}
	})

	urls := []struct {
		where string
		urls  []string
	}{
		{"doc.go's URLs", docURLs(section(t, "doc.go", doc, "// # URLs\n", "\n// #"))},
		{"README.md's URL table", readmeURLs(section(t, "README.md", readme, "\n## URLs\n", "\n## "))},
	}
	for _, u := range urls {
		t.Run(u.where, func(t *testing.T) {
			if len(u.urls) < 5 {
				t.Fatalf("found %d URLs, want at least 5: %q", len(u.urls), u.urls)
			}
			for _, raw := range u.urls {
				for _, problem := range unknownURLOptions(raw) {
					t.Errorf("%s: %s", raw, problem)
				}
			}
		})
	}

	t.Run("README.md's options in code", func(t *testing.T) {
		want := optionFuncs(t)
		row := regexp.MustCompile("(?m)^\\| ((?:`With\\w+`(?:, )?)+) \\| options \\|$").FindStringSubmatch(readme)
		if row == nil {
			t.Fatal("README.md has no row of With… functions whose second cell is \"options\"")
		}
		var listed []string
		for _, m := range regexp.MustCompile("`(With\\w+)`").FindAllStringSubmatch(row[1], -1) {
			listed = append(listed, m[1])
		}
		for _, name := range want {
			if !slices.Contains(listed, name) {
				t.Errorf("README.md does not list %s among the options", name)
			}
		}
		for _, name := range listed {
			if !slices.Contains(want, name) {
				t.Errorf("README.md lists %s, which is not a function of the package that returns an Option", name)
			}
		}
	})
}

// checkOptionTable compares the rows of one table with dsn.Options.
func checkOptionTable(t *testing.T, where string, rows map[string][]string) {
	if len(rows) < 10 {
		t.Fatalf("found %d rows, want at least 10: %v", len(rows), rows)
	}
	for name, aliases := range rows {
		opt, ok := dsn.Options[name]
		switch {
		case !ok:
			t.Errorf("%s has a row for %s, which the URL parser (Options in internal/dsn/url.go) does not know", where, name)
		case opt.Canonical != "":
			t.Errorf("%s has a row for %s, an alias of %s", where, name, opt.Canonical)
		}
		for _, alias := range aliases {
			if got := dsn.Options[alias].Canonical; got != name {
				t.Errorf("%s gives %s as an alias of %s; the URL parser has it as an alias of %q", where, alias, name, got)
			}
		}
	}
	for name, opt := range dsn.Options {
		if opt.Canonical == "" {
			if _, ok := rows[name]; !ok {
				t.Errorf("%s has no row for %s (docs/options.md: a heading \"## `%s`\" with its fields)", where, name, name)
			}
		} else if !slices.Contains(rows[opt.Canonical], name) {
			t.Errorf("%s does not give %s as an alias of %s", where, name, opt.Canonical)
		}
	}
}

// unknownURLOptions returns a problem for each option of raw, an example
// URL, that neither the package nor the dialect's real driver reads.
func unknownURLOptions(raw string) []string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return []string{"no scheme"}
	}
	base, _, _ := strings.Cut(scheme, "+")
	d, ok := dsn.Schemes[base]
	if !ok {
		return []string{"unknown scheme " + base}
	}
	_, query, _ := strings.Cut(rest, "?")
	var problems []string
	for pair := range strings.SplitSeq(query, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if key == "" {
			continue
		}
		if _, ok := dsn.Options[key]; !ok && !slices.Contains(dsn.DriverOptions[d], key) {
			problems = append(problems, "option "+key+" is neither the package's nor one the "+d.Name+" driver reads")
		}
	}
	return problems
}

// docOptionRows reads the rows of doc.go's options table: "//\tname  meaning",
// the meaning giving aliases as "(alias name)".
func docOptionRows(text string) map[string][]string {
	rows := map[string][]string{}
	alias := regexp.MustCompile(`\(alias(?:es)? ([\w, ]+)\)`)
	for _, m := range regexp.MustCompile(`(?m)^//\t(\w+) {2,}(.*)$`).FindAllStringSubmatch(text, -1) {
		rows[m[1]] = nil
		for _, a := range alias.FindAllStringSubmatch(m[2], -1) {
			for name := range strings.SplitSeq(a[1], ",") {
				rows[m[1]] = append(rows[m[1]], strings.TrimSpace(name))
			}
		}
	}
	return rows
}

// optionHeading is the section of one option in docs/options.md: a heading
// "## `name`", an optional line "Alias: `a`." or "Aliases: `a`, `b`.", a
// description, and the fields "- Type: …", "- Values: …", "- Default: …",
// "- Backends: …" and "- Example: `url`".
type optionHeading struct {
	name    string
	aliases []string
	body    string
}

// optionHeadings splits docs/options.md at its option headings.
func optionHeadings(text string) []optionHeading {
	var out []optionHeading
	heading := regexp.MustCompile("(?m)^## `(\\w+)`\\s*$")
	alias := regexp.MustCompile("(?m)^Alias(?:es)?: (.*)$")
	locs := heading.FindAllStringSubmatchIndex(text, -1)
	for k, loc := range locs {
		end := len(text)
		if k+1 < len(locs) {
			end = locs[k+1][0]
		}
		h := optionHeading{name: text[loc[2]:loc[3]], body: text[loc[1]:end]}
		if m := alias.FindStringSubmatch(h.body); m != nil {
			for _, a := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[1], -1) {
				h.aliases = append(h.aliases, a[1])
			}
		}
		out = append(out, h)
	}
	return out
}

// headingRows gives the headings as rows: option to its aliases.
func headingRows(headings []optionHeading) map[string][]string {
	rows := map[string][]string{}
	for _, h := range headings {
		rows[h.name] = h.aliases
	}
	return rows
}

// checkOptionHeading checks that h has every field, and an example URL that
// sets the option (or an alias) and that the parser accepts.
func checkOptionHeading(t *testing.T, h optionHeading) {
	t.Helper()
	for _, field := range []string{"Type", "Values", "Default", "Backends", "Example"} {
		if !regexp.MustCompile("(?m)^- " + field + ": \\S").MatchString(h.body) {
			t.Errorf("docs/options.md: %s has no \"- %s: …\" line", h.name, field)
		}
	}
	m := regexp.MustCompile("(?m)^- Example: `([^`]+)`").FindStringSubmatch(h.body)
	if m == nil {
		return
	}
	example := m[1]
	if _, err := dsn.Parse(example); err != nil {
		t.Errorf("docs/options.md: the example of %s does not parse: %v", h.name, err)
	}
	_, query, _ := strings.Cut(example, "?")
	sets := false
	for pair := range strings.SplitSeq(query, "&") {
		key, _, _ := strings.Cut(pair, "=")
		sets = sets || key == h.name || slices.Contains(h.aliases, key)
	}
	if !sets {
		t.Errorf("docs/options.md: the example of %s, %s, does not set it", h.name, example)
	}
}

// docURLs returns the URLs of doc.go's URL list: "//\turl  description".
func docURLs(text string) []string {
	var urls []string
	for _, m := range regexp.MustCompile(`(?m)^//\t(\S+://\S*)`).FindAllStringSubmatch(text, -1) {
		urls = append(urls, m[1])
	}
	return urls
}

// readmeURLs returns the URLs of the first cells of README.md's URL table,
// each cell holding one or more "`url`".
func readmeURLs(text string) []string {
	var urls []string
	for _, m := range regexp.MustCompile("(?m)^\\| (`[^|]*) \\|").FindAllStringSubmatch(text, -1) {
		for _, u := range regexp.MustCompile("`([^`]+://[^`]*)`").FindAllStringSubmatch(m[1], -1) {
			urls = append(urls, u[1])
		}
	}
	return urls
}

// optionFuncs returns the exported functions of the package that return an
// Option.
func optionFuncs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fn.Type.Results.List[0].Type.(*ast.Ident); ok && id.Name == "Option" {
				names = append(names, fn.Name.Name)
			}
		}
	}
	if len(names) < 5 {
		t.Fatalf("found %d functions that return an Option, want at least 5: %v", len(names), names)
	}
	return names
}

// section returns the text of file from the line start to the next end.
func section(t *testing.T, file, text, start, end string) string {
	t.Helper()
	i := strings.Index(text, start)
	if i < 0 {
		t.Fatalf("%s has no %q", file, strings.TrimSpace(start))
	}
	text = text[i+len(start):]
	if j := strings.Index(text, end); j >= 0 {
		text = text[:j]
	}
	return text
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
