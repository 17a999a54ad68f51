package httpclient_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoClientBypassesWrap reads the program's source (tests and fakes aside) for the ways a
// request could leave without the rules: an http.Client literal without a Timeout, the
// timeout-less http.DefaultClient and its shortcuts (http.Get, http.Post…), a go-github or
// posthog-go client built from anything but a wrapped client or transport, and a package that
// builds requests but never calls Wrap. A new integration that forgets the rule fails here.
func TestNoClientBypassesWrap(t *testing.T) {
	root := filepath.Join("..")
	fset := token.NewFileSet()
	wrapped := map[string]bool{} // package dir → calls httpclient.Wrap or Transport
	sends := map[string]string{} // package dir → a file that sends requests
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testutil" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "/httpclient/") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if isSel(n.Type, "http", "Client") && !hasField(n, "Timeout") {
					t.Errorf("%s: an http.Client without a Timeout", fset.Position(n.Pos()))
				}
			case *ast.SelectorExpr:
				if isSel(n, "http", "DefaultClient") {
					t.Errorf("%s: http.DefaultClient has no timeout; use httpclient.Wrap", fset.Position(n.Pos()))
				}
			case *ast.CallExpr:
				for _, short := range []string{"Get", "Post", "Head", "PostForm"} {
					if isSel(n.Fun, "http", short) {
						t.Errorf("%s: http.%s uses http.DefaultClient", fset.Position(n.Pos()), short)
					}
				}
				if isSel(n.Fun, "httpclient", "Wrap") || isSel(n.Fun, "httpclient", "Transport") {
					wrapped[dir] = true
				}
				if isSel(n.Fun, "gh", "NewClient") && (len(n.Args) != 1 || !isCall(n.Args[0], "httpclient", "Wrap")) {
					t.Errorf("%s: gh.NewClient of a client httpclient.Wrap did not make", fset.Position(n.Pos()))
				}
				if isSel(n.Fun, "http", "NewRequestWithContext") || isSel(n.Fun, "http", "NewRequest") ||
					isSel(n.Fun, "gh", "NewClient") || isSel(n.Fun, "ph", "NewWithConfig") {
					sends[dir] = fset.Position(n.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// notify.PostJSON sends with the client its channel wrapped.
	delete(sends, filepath.Join(root, "notify"))
	for dir, where := range sends {
		if !wrapped[dir] {
			t.Errorf("%s sends requests (%s) but its package never calls httpclient.Wrap", dir, where)
		}
	}
	if len(sends) < 6 {
		t.Errorf("found %d packages that send requests: the scan is broken", len(sends))
	}
}

func isSel(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok || s.Sel.Name != name {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == pkg
}

func isCall(e ast.Expr, pkg, name string) bool {
	c, ok := e.(*ast.CallExpr)
	return ok && isSel(c.Fun, pkg, name)
}

func hasField(c *ast.CompositeLit, name string) bool {
	for _, el := range c.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == name {
				return true
			}
		}
	}
	return false
}
