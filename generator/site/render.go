package site

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/portfolio-report/portfolio/generator/digest"
)

// templates holds one parsed template set per page kind: the layout, the partials and the page.
type templates struct {
	sets map[string]*template.Template
}

// pageKinds are the page templates under templates/, each rendered inside layout.html.
var pageKinds = []string{"overview", "products", "dora", "product", "days", "alerts", "alerthistory", "digest", "digests", "404"}

func (b *build) parseTemplates() (*templates, error) {
	funcs := template.FuncMap{
		"asset":       b.asset,
		"url":         b.url,
		"statusLabel": statusLabel,
		"title":       titleCase,
		"plural":      plural,
		"list":        func(s ...string) []string { return s },
		"sub":         func(a, b int) int { return a - b },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
	}
	for k, f := range digest.Funcs() {
		funcs[k] = f
	}
	funcs["rel"] = b.rel
	t := &templates{sets: map[string]*template.Template{}}
	for _, k := range pageKinds {
		set, err := template.New("layout.html").Funcs(funcs).ParseFS(b.opts.FS,
			"templates/layout.html", "templates/partials.html", "templates/"+k+".html")
		if err != nil {
			return nil, fmt.Errorf("site: templates: %w", err)
		}
		t.sets[k] = set
	}
	return t, nil
}

func (t *templates) render(pg *page) ([]byte, error) {
	set, ok := t.sets[pg.Kind]
	if !ok {
		return nil, fmt.Errorf("no template for %s pages", pg.Kind)
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, "layout.html", pg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
