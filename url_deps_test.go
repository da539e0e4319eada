package databases

// The layering of the URL parser: url.go and dsn.go sit under the
// connector, so what they use must not reach back up.

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestURLDependsOnNothingAbove follows every package-level declaration
// that url.go and dsn.go use, and every one those use in turn, and checks
// that they are declared in url.go, dsn.go, url_hosts.go (host lists),
// replica_url.go (the replica options), credentials_url.go (password_file), dialect.go (the dialect table) or
// redact.go (RedactURL and the scrubbing of the real driver's messages),
// and import only the standard library, sqlscan, rewrite (each
// dialect's placeholder rules, in the dialect table) and go-sql-driver's
// DSN config: never the connector, the connections, the options or the
// middleware.
func TestURLDependsOnNothingAbove(t *testing.T) {
	roots := []string{"url.go", "dsn.go"}
	allowedFiles := append([]string{"dialect.go", "redact.go", "url_hosts.go", "replica_url.go", "credentials_url.go"}, roots...)
	allowedImport := func(path string) bool {
		first, _, _ := strings.Cut(path, "/")
		return !strings.Contains(first, ".") || slices.Contains([]string{
			"github.com/go-databases/databases/sqlscan",
			"github.com/go-databases/databases/rewrite",
			"github.com/go-sql-driver/mysql",
		}, path)
	}

	// The package as this Go release builds it, type-checked with every
	// import stubbed: what matters is which of the package's own
	// declarations each identifier denotes, which needs no other package.
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(".", name); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		if slices.Contains(roots, name) {
			for _, is := range f.Imports {
				if path, _ := strconv.Unquote(is.Path.Value); !allowedImport(path) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: stubImporter{}, Error: func(error) {}}
	pkg, _ := conf.Check("github.com/go-databases/databases", fset, files, info)

	// Every package-level declaration and method, by the position of its
	// name.
	type decl struct {
		file, name string
		node       ast.Node
	}
	decls := map[token.Pos]*decl{}
	for _, f := range files {
		file := filepath.Base(fset.Position(f.Pos()).Filename)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				name := d.Name.Name
				if d.Recv != nil {
					name = "(" + types.ExprString(d.Recv.List[0].Type) + ")." + name
				}
				decls[d.Name.Pos()] = &decl{file, name, d}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						decls[s.Name.Pos()] = &decl{file, s.Name.Name, s}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							decls[n.Pos()] = &decl{file, n.Name, s}
						}
					}
				}
			}
		}
	}

	reached := map[*decl]string{} // to the declaration that uses it
	var queue []*decl
	for _, d := range decls {
		if slices.Contains(roots, d.file) {
			reached[d] = d.file
			queue = append(queue, d)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		ast.Inspect(d.node, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			switch obj := info.Uses[id].(type) {
			case nil:
			case *types.PkgName:
				if path := obj.Imported().Path(); !allowedImport(path) {
					t.Errorf("%s of %s (used by %s) uses %s", d.name, d.file, reached[d], path)
				}
			default:
				if obj.Pkg() != pkg {
					break
				}
				if used, ok := decls[obj.Pos()]; ok {
					if _, seen := reached[used]; !seen {
						reached[used] = d.name
						queue = append(queue, used)
					}
				}
			}
			return true
		})
	}

	var all []string
	for d, by := range reached {
		if !slices.Contains(allowedFiles, d.file) {
			t.Errorf("%s of %s is used by %s, which url.go or dsn.go uses", d.name, d.file, by)
		}
		all = append(all, d.name)
	}
	slices.Sort(all)
	t.Logf("reached: %s", strings.Join(all, " "))
	// The walk itself: it must reach across files and into methods.
	for _, must := range []string{"parseURL", "setLog", "(*urlParse).mysql", "(poolOptions).given", "RedactURL", "secretSpans", "schemes", "dialectMySQL"} {
		if !slices.Contains(all, must) {
			t.Errorf("the walk did not reach %s", must)
		}
	}
}

// stubImporter gives every import as an empty package of the name its
// path implies.
type stubImporter struct{}

func (stubImporter) Import(path string) (*types.Package, error) {
	elems := strings.Split(path, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
		name = elems[len(elems)-2] // github.com/jackc/pgx/v5 is pgx
	}
	p := types.NewPackage(path, name)
	p.MarkComplete()
	return p, nil
}
