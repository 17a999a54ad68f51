package site

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
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
//
// A hostile text cannot stall the build: goldmark takes quadratic time on some inputs (nested
// "[a](" or "> ", ~1 s for 64 KB, ~30 s for 256 KB) and a GFM table pads every row to the
// header's width (a 16 KB table of 2,000 columns and 2,700 rows is 5.6 million cells). So the
// input is cut at MaxMarkdown bytes, with a note and a link to the whole text, and a table of
// more than maxTableCells cells stays a paragraph of text.
type markdown struct{ md goldmark.Markdown }

// MaxMarkdown is how much of one text is rendered.
const MaxMarkdown = 16 << 10

// maxTableCells is the largest table rendered as a table (columns × rows).
const maxTableCells = 20000

func newMarkdown() *markdown {
	return &markdown{md: goldmark.New(
		goldmark.WithExtensions(extension.Linkify, boundedTables{}, extension.Strikethrough, extension.TaskList), // GFM
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkGuard{}, 100))),
	)}
}

// Render returns the HTML of src, cut at MaxMarkdown bytes with a note; rendering errors (a
// failed write to a buffer) cannot happen.
func (m *markdown) Render(src string) template.HTML { return m.RenderLinked(src, 0, "") }

// RenderUnder renders src to sit under a heading of level parent: its headings are shifted so
// that the highest becomes parent+1 (at most 6), and the page's outline stays nested (an
// incident's "# Impact" under the incident's h3 becomes an h4).
func (m *markdown) RenderUnder(src string, parent int) template.HTML {
	return m.RenderLinked(src, parent, "")
}

// RenderLinked is RenderUnder (parent 0: headings as they are) whose note, when src is cut,
// links to the whole text at more (an issue on GitHub) when more is a safe URL.
func (m *markdown) RenderLinked(src string, parent int, more string) template.HTML {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	src, cut := capMarkdown(src)
	source := []byte(src)
	doc := m.md.Parser().Parse(text.NewReader(source))
	if parent > 0 {
		shiftHeadings(doc, parent)
	}
	var buf bytes.Buffer
	if err := m.md.Renderer().Render(&buf, source, doc); err != nil {
		buf.Reset()
		buf.WriteString(template.HTMLEscapeString(src))
	}
	if cut > 0 {
		fmt.Fprintf(&buf, `<p class="muted small">… %s more not shown`, byteCount(cut))
		if more != "" && SafeURL(more) {
			fmt.Fprintf(&buf, `: <a href="%s">read the whole text</a>`, template.HTMLEscapeString(more))
		}
		buf.WriteString(".</p>\n")
	}
	return template.HTML(buf.String()) //nolint:gosec // goldmark without WithUnsafe, links guarded
}

// shiftHeadings moves doc's headings so that the highest becomes parent+1 (at most 6).
func shiftHeadings(doc ast.Node, parent int) {
	top := 7
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			top = min(top, h.Level)
		}
		return ast.WalkContinue, nil
	})
	if top == 7 {
		return
	}
	shift := parent + 1 - top
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			h.Level = min(max(h.Level+shift, 1), 6)
		}
		return ast.WalkContinue, nil
	})
}

// capMarkdown cuts src to at most MaxMarkdown bytes, at the last line break of the last
// kilobyte when there is one, else on a character boundary; it returns what it kept and how
// many bytes it dropped.
func capMarkdown(src string) (string, int) {
	if len(src) <= MaxMarkdown {
		return src, 0
	}
	end := MaxMarkdown
	for end > 0 && !utf8.RuneStart(src[end]) {
		end--
	}
	if nl := strings.LastIndexByte(src[:end], '\n'); nl >= MaxMarkdown-1024 {
		end = nl
	}
	return src[:end], len(src) - end
}

// byteCount is n bytes as a reader says it: "512 bytes", "16 KB", "1.5 MB".
func byteCount(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KB", (n+512)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
}

// boundedTables is goldmark's GFM table extension with a guard before its paragraph
// transformer: a paragraph that would become a table of more than maxTableCells cells is left
// as text.
type boundedTables struct{}

func (boundedTables) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithParagraphTransformers(util.Prioritized(tableGuard{extension.NewTableParagraphTransformer()}, 200)),
		parser.WithASTTransformers(util.Prioritized(extension.NewTableASTTransformer(), 0)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(extension.NewTableHTMLRenderer(), 500)))
}

type tableGuard struct{ next parser.ParagraphTransformer }

// Transform counts the cells the paragraph could become (its widest line's columns times its
// lines: every row is padded to the header's width) before letting the table transformer in.
func (g tableGuard) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	cols := 0
	for i := range lines.Len() {
		seg := lines.At(i)
		cols = max(cols, bytes.Count(seg.Value(reader.Source()), []byte("|"))+1)
	}
	if cols*lines.Len() > maxTableCells {
		return
	}
	g.next.Transform(node, reader, pc)
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
