package databases

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
)

// TestReliabilityDoc checks that the table in RELIABILITY.md lists every
// TestReliability* and TestFault* test of the reliability_*_test.go files,
// and nothing else, so the document cannot go stale.
func TestReliabilityDoc(t *testing.T) {
	files, err := filepath.Glob("reliability_*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil &&
				(strings.HasPrefix(fn.Name.Name, "TestReliability") || strings.HasPrefix(fn.Name.Name, "TestFault")) {
				tests = append(tests, fn.Name.Name)
			}
		}
	}
	doc, err := os.ReadFile("RELIABILITY.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(Test\\w+)`")
	var listed []string
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		listed = append(listed, m[1])
	}
	for _, name := range tests {
		if !slices.Contains(listed, name) {
			t.Errorf("RELIABILITY.md has no row for %s", name)
		}
	}
	for _, name := range listed {
		if !slices.Contains(tests, name) {
			t.Errorf("RELIABILITY.md lists %s, which is not a test of reliability_*_test.go", name)
		}
	}
	if len(tests) < 10 {
		t.Errorf("found %d reliability tests, want at least 10", len(tests))
	}
}
