package site

import (
	"strings"
	"testing"
)

// hostileMarkdown are texts on which goldmark's work grows faster than their size: nested
// links and quotes (quadratic), and a table whose header is far wider than its rows (every row
// is padded to the header's width).
var hostileMarkdown = map[string]func(n int) string{
	"nested links":  func(n int) string { return strings.Repeat("[a](", n/4) },
	"nested quotes": func(n int) string { return strings.Repeat("> ", n/2) + "a" },
	"wide table": func(n int) string {
		cols := n / 8
		return strings.Repeat("|a", cols) + "\n" + strings.Repeat("|-", cols) + "\n" + strings.Repeat("|a\n", n/6)
	},
}

// TestMarkdownHostileBodyIsCut: a body of a megabyte is cut at MaxMarkdown with a note that
// links to the whole issue, and the HTML stays in proportion to what was kept (work is bounded
// by the output: a padded table would be millions of cells).
func TestMarkdownHostileBodyIsCut(t *testing.T) {
	md := newMarkdown()
	for name, gen := range hostileMarkdown {
		t.Run(name, func(t *testing.T) {
			src := gen(1 << 20)
			got := string(md.RenderLinked(src, 0, "https://github.com/acme/shop/issues/7"))
			if !strings.Contains(got, `more not shown: <a href="https://github.com/acme/shop/issues/7">read the whole text</a>.</p>`) {
				t.Errorf("no note linking to the issue at the end:\n…%s", got[max(0, len(got)-300):])
			}
			if len(got) > 20*MaxMarkdown {
				t.Errorf("%d bytes of HTML from %d bytes kept", len(got), MaxMarkdown)
			}
		})
	}
}

func TestMarkdownCut(t *testing.T) {
	md := newMarkdown()
	short := "a **short** body"
	if got := string(md.RenderLinked(short, 0, "https://github.com/acme/shop/issues/7")); strings.Contains(got, "not shown") {
		t.Errorf("a short body got a note: %s", got)
	}
	// Cut at a line break near the limit, never inside a character; a bad link is not linked.
	long := strings.Repeat("line of text é\n", MaxMarkdown/10)
	got := string(md.RenderLinked(long, 0, "javascript:alert(1)"))
	if !strings.Contains(got, " more not shown.</p>") || strings.Contains(got, "javascript") || strings.Contains(got, "\uFFFD") {
		t.Errorf("cut = …%s", got[len(got)-200:])
	}
	kept, dropped := capMarkdown(long)
	if len(kept) > MaxMarkdown || !strings.HasSuffix(kept, "é") || len(kept)+dropped != len(long) {
		t.Errorf("capMarkdown kept %d bytes ending %q, dropped %d of %d", len(kept), kept[len(kept)-5:], dropped, len(long))
	}
	// A table of sensible size is still a table.
	table := "| a | b |\n|---|---|\n| 1 | 2 |\n"
	if got := string(md.Render(table)); !strings.Contains(got, "<table>") {
		t.Errorf("table = %s", got)
	}
}

// BenchmarkMarkdownHostile renders a megabyte of each hostile text: bounded by the cut (without
// it: nested links ~30 s for 256 KB, a 22 KB wide table ~34 s, measured here).
func BenchmarkMarkdownHostile(b *testing.B) {
	md := newMarkdown()
	for name, gen := range hostileMarkdown {
		src := gen(1 << 20)
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				md.RenderLinked(src, 0, "https://github.com/acme/shop/issues/7")
			}
		})
	}
}
