package site

import (
	"bytes"
	"html"
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders untrusted Markdown (incident bodies from GitHub, descriptions from the
// config, DORA recommendations). One goldmark instance for the whole build, without
// html.WithUnsafe: raw HTML is dropped. On top of goldmark's own dangerous-URL check, a
// transformer keeps only http, https and mailto links and relative references, after removing
// what browsers ignore in a URL (whitespace and control characters, any case), so
// "JaVa&#x09;script:" tricks stay inert. Images become plain links: the site's CSP allows no
// remote images, and a link is what a reader needs.
type markdown struct{ md goldmark.Markdown }

func newMarkdown() *markdown {
	return &markdown{md: goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkGuard{}, 100))),
	)}
}

// Render returns the HTML of src; rendering errors (a failed write to a buffer) cannot happen.
func (m *markdown) Render(src string) template.HTML {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := m.md.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(buf.String()) //nolint:gosec // goldmark without WithUnsafe, links guarded
}

// RenderUnder renders src to sit under a heading of level parent: its headings are shifted so
// that the highest becomes parent+1 (at most 6), and the page's outline stays nested (an
// incident's "# Impact" under the incident's h3 becomes an h4).
func (m *markdown) RenderUnder(src string, parent int) template.HTML {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	source := []byte(src)
	doc := m.md.Parser().Parse(text.NewReader(source))
	top := 7
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			top = min(top, h.Level)
		}
		return ast.WalkContinue, nil
	})
	if top < 7 {
		shift := parent + 1 - top
		_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if h, ok := n.(*ast.Heading); ok && entering {
				h.Level = min(max(h.Level+shift, 1), 6)
			}
			return ast.WalkContinue, nil
		})
	}
	var buf bytes.Buffer
	if err := m.md.Renderer().Render(&buf, source, doc); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(buf.String()) //nolint:gosec // goldmark without WithUnsafe, links guarded
}

// linkGuard is the AST transformer that neutralises unsafe link destinations.
type linkGuard struct{}

func (linkGuard) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var images []*ast.Image
	var autolinks []*ast.AutoLink
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := n.(type) {
		case *ast.Link:
			if !SafeURL(string(v.Destination)) {
				v.Destination = []byte("#")
			}
		case *ast.Image:
			images = append(images, v)
		case *ast.AutoLink:
			if !SafeURL(string(v.URL(reader.Source()))) {
				autolinks = append(autolinks, v)
			}
		}
		return ast.WalkContinue, nil
	})
	// The tree changes after the walk, which must not see its own edits.
	for _, v := range autolinks {
		// An autolink's text is its URL: keep the text, drop the link.
		t := ast.NewString(v.Label(reader.Source())) // escaped when rendered
		v.Parent().ReplaceChild(v.Parent(), v, t)
	}
	for _, img := range images {
		link := ast.NewLink()
		link.Destination = img.Destination
		if !SafeURL(string(link.Destination)) {
			link.Destination = []byte("#")
		}
		link.Title = img.Title
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		if !link.HasChildren() {
			link.AppendChild(link, ast.NewString([]byte("image")))
		}
		img.Parent().ReplaceChild(img.Parent(), img, link)
	}
}

// SafeURL reports whether a link destination is harmless: a relative reference, a fragment, or
// an http, https or mailto URL. The check runs on the URL as a browser reads it: entities
// decoded, ASCII whitespace and control characters removed, scheme in any case.
func SafeURL(raw string) bool {
	u := html.UnescapeString(raw)
	u = strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, u)
	colon := strings.IndexByte(u, ':')
	if colon < 0 {
		return true
	}
	// A colon after the first /, ? or # is not a scheme separator.
	if i := strings.IndexAny(u, "/?#"); i >= 0 && i < colon {
		return true
	}
	switch strings.ToLower(u[:colon]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}
