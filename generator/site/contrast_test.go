package site

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// luminance is the WCAG 2 relative luminance of #rgb or #rrggbb.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	h := strings.TrimPrefix(hex, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		t.Fatalf("colour %q", hex)
	}
	var c [3]float64
	for i := range c {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		x := float64(v) / 255
		if x <= 0.03928 {
			c[i] = x / 12.92
		} else {
			c[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// schemes reads the custom properties of static/css/site.css: the light ones from :root, the
// dark ones from the prefers-color-scheme: dark block over them.
func schemes(t *testing.T) map[string]map[string]string {
	t.Helper()
	css, err := os.ReadFile(filepath.Join("..", "..", "static", "css", "site.css"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(css)
	prop := regexp.MustCompile(`--([a-z0-9-]+):\s*(#[0-9a-fA-F]{3,6})\b`)
	read := func(block string, into map[string]string) {
		for _, m := range prop.FindAllStringSubmatch(block, -1) {
			into[m[1]] = m[2]
		}
	}
	dm := strings.Index(s, "@media (prefers-color-scheme: dark)")
	if dm < 0 {
		t.Fatal("site.css has no dark scheme")
	}
	end := strings.Index(s[dm:], "}\n}")
	light, dark := map[string]string{}, map[string]string{}
	read(s[:dm], light)
	for k, v := range light {
		dark[k] = v
	}
	read(s[dm:dm+end], dark)
	return map[string]map[string]string{"light": light, "dark": dark}
}

// TestContrast holds every colour pair the pages use to WCAG AA in both schemes: text 4.5:1
// against the backgrounds it sits on, graphics (strip days, chart series, thresholds, markers,
// focus rings) 3:1, and the badges' white text 4.5:1 on each badge colour.
func TestContrast(t *testing.T) {
	text := [][2]string{
		{"fg", "bg"}, {"fg", "panel"}, {"muted", "bg"}, {"muted", "panel"}, {"link", "bg"}, {"link", "panel"},
		{"bg", "fg"},                                                 // the current navigation entry and the pressed range button
		{"fg", "warn-bg"}, {"muted", "warn-bg"}, {"link", "warn-bg"}, // a stale source's row, the demo banner
		{"fg", "info-bg"}, {"muted", "info-bg"}, {"link", "info-bg"}, // the level in force
	}
	for _, c := range []string{"ok", "warn", "bad", "info", "orange", "unk"} {
		text = append(text, [2]string{c, "bg"}, [2]string{c, "panel"}, [2]string{c, c + "-bg"}) // statuses, severities
	}
	for _, c := range []string{"elite", "high", "medium", "low"} {
		text = append(text, [2]string{c, "bg"}, [2]string{c, "panel"}, [2]string{c, "info-bg"}) // DORA levels
	}
	graphics := [][2]string{{"focus", "bg"}, {"focus", "panel"}}
	for _, d := range []string{"day-ok", "day-warn", "day-bad", "day-none"} {
		graphics = append(graphics, [2]string{d, "bg"}, [2]string{d, "panel"})
	}
	js, err := os.ReadFile(filepath.Join("..", "..", "static", "js", "charts.js"))
	if err != nil {
		t.Fatal(err)
	}
	jsColours := regexp.MustCompile(`\{ fg: "(#[0-9a-f]+)", grid: "#[0-9a-f]+", axis: "(#[0-9a-f]+)", threshold: "(#[0-9a-f]+)" \}`).FindAllStringSubmatch(string(js), -1)
	if len(jsColours) != 2 {
		t.Fatalf("charts.js: %d colour sets, want dark and light", len(jsColours))
	}
	canvas := map[string][]string{"dark": jsColours[0][1:], "light": jsColours[1][1:]}

	for name, v := range schemes(t) {
		for _, p := range text {
			fg, bg := v[p[0]], v[p[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s: --%s or --%s is not set", name, p[0], p[1])
				continue
			}
			if c := contrast(t, fg, bg); c < 4.5 {
				t.Errorf("%s: text --%s %s on --%s %s: %.2f:1, want 4.5:1", name, p[0], fg, p[1], bg, c)
			}
		}
		for _, p := range graphics {
			if c := contrast(t, v[p[0]], v[p[1]]); c < 3 {
				t.Errorf("%s: --%s %s on --%s %s: %.2f:1, want 3:1", name, p[0], v[p[0]], p[1], v[p[1]], c)
			}
		}
		// Charts: on the page's background (the chart box has none of its own) and panels.
		for _, bg := range []string{v["bg"], v["panel"]} {
			for _, c := range append(append([]string{}, palette...), thresholdColor, deployOKColor, deployFailedColor, canvas[name][1]) {
				if r := contrast(t, c, bg); r < 3 {
					t.Errorf("%s: chart colour %s on %s: %.2f:1, want 3:1", name, c, bg, r)
				}
			}
			for _, c := range []string{canvas[name][0], canvas[name][2]} { // axis labels, threshold labels
				if r := contrast(t, c, bg); r < 4.5 {
					t.Errorf("%s: chart text %s on %s: %.2f:1, want 4.5:1", name, c, bg, r)
				}
			}
		}
	}
	for name, c := range badgeColors {
		if r := contrast(t, "#fff", c); r < 4.5 {
			t.Errorf("badge %s %s: white text at %.2f:1, want 4.5:1", name, c, r)
		}
	}
	if r := contrast(t, "#fff", badgeLabelColor); r < 4.5 {
		t.Errorf("badge label %s: %.2f:1", badgeLabelColor, r)
	}
}
