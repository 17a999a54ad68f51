package site_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// bundleFile is the committed ECharts build, tools/echarts its recipe.
var (
	bundleFile = filepath.Join("..", "..", "static", "js", "echarts.min.js")
	bundleDir  = filepath.Join("..", "..", "tools", "echarts")
)

// The chart types and components the site's options need, by the ECharts module that draws them.
var (
	seriesModule = map[string]string{"line": "LineChart", "bar": "BarChart", "scatter": "ScatterChart"}
	optionModule = map[string]string{"grid": "GridComponent", "xAxis": "GridComponent", "yAxis": "GridComponent",
		"tooltip": "TooltipComponent", "legend": "LegendComponent"}
)

// TestEChartsBundle checks that static/js/echarts.min.js is what tools/echarts/build.mjs
// declares: its header names the ECharts version pinned in package.json and package-lock.json,
// and the chart types, components and renderer entry.js imports; the SHA-256 in the header is
// that of the code after it (so a hand edit or a partial build shows); and every series type
// and option component the site emits is in the bundle (ECharts ignores what it lacks silently).
func TestEChartsBundle(t *testing.T) {
	data, err := os.ReadFile(bundleFile)
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(string(data), "*/\n")
	if !ok || !strings.HasPrefix(head, "/*! Apache ECharts ") {
		t.Fatalf("echarts.min.js has no build header (run tools/echarts: npm ci && npm run build)")
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^ \* ` + name + `: (.*)$`).FindStringSubmatch(head)
		if m == nil {
			t.Fatalf("the bundle header has no %q line:\n%s", name, head)
		}
		return strings.TrimSpace(m[1])
	}
	if sum := sha256.Sum256([]byte(body)); hex.EncodeToString(sum[:]) != field("sha256") {
		t.Errorf("the bundle's code has SHA-256 %x, its header says %s: rebuild it with tools/echarts", sum, field("sha256"))
	}

	var pkg struct{ Dependencies map[string]string }
	readJSON(t, filepath.Join(bundleDir, "package.json"), &pkg)
	version := pkg.Dependencies["echarts"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) {
		t.Errorf("package.json pins echarts to %q, want an exact version", version)
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	readJSON(t, filepath.Join(bundleDir, "package-lock.json"), &lock)
	if got := lock.Packages["node_modules/echarts"].Version; got != version {
		t.Errorf("package-lock.json has echarts %q, package.json pins %q", got, version)
	}
	if !strings.HasPrefix(head, "/*! Apache ECharts "+version+" ") {
		t.Errorf("the bundle header names another version than %s: %q", version, strings.SplitN(head, "\n", 2)[0])
	}

	entry, err := os.ReadFile(filepath.Join(bundleDir, "entry.js"))
	if err != nil {
		t.Fatal(err)
	}
	imported := func(from string) []string {
		m := regexp.MustCompile(`import \{([^}]*)\} from "echarts/` + from + `";`).FindSubmatch(entry)
		if m == nil {
			t.Fatalf("entry.js imports nothing from echarts/%s", from)
		}
		var out []string
		for _, s := range strings.Split(string(m[1]), ",") {
			out = append(out, strings.TrimSpace(s))
		}
		return out
	}
	list := func(s string) []string { return strings.Split(s, ", ") }
	for _, k := range []struct{ field, from string }{{"charts", "charts"}, {"components", "components"}, {"renderers", "renderers"}} {
		if got, want := list(field(k.field)), imported(k.from); !slices.Equal(got, want) {
			t.Errorf("bundle header %s: %v, entry.js imports %v", k.field, got, want)
		}
	}

	// What the site emits, on every kind of chart page.
	cfg, st := fixture(t, 3)
	dir, _ := build(t, cfg, st)
	need := map[string]bool{"CanvasRenderer": true}
	jsonBlock := regexp.MustCompile(`<script type="application/json" id="([^"]+)">(.*?)</script>`)
	for name, data := range siteFiles(t, dir) {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		for _, m := range jsonBlock.FindAllSubmatch(data, -1) {
			id := string(m[1])
			if !strings.HasSuffix(id, "_option") {
				continue
			}
			var opt map[string]json.RawMessage
			if err := json.Unmarshal(m[2], &opt); err != nil {
				t.Fatalf("%s #%s: %v", name, id, err)
			}
			for k, v := range opt {
				switch {
				case optionModule[k] != "":
					need[optionModule[k]] = true
				case k == "series":
					var series []map[string]json.RawMessage
					if err := json.Unmarshal(v, &series); err != nil {
						t.Fatal(err)
					}
					for _, s := range series {
						var typ string
						_ = json.Unmarshal(s["type"], &typ)
						if seriesModule[typ] == "" {
							t.Errorf("%s #%s: series type %q has no chart module", name, id, typ)
						}
						need[seriesModule[typ]] = true
						if _, ok := s["markLine"]; ok {
							need["MarkLineComponent"] = true
						}
					}
				case k == "title" || k == "toolbox":
					// go-echarts always writes them; the site's are empty or hidden.
					if s := string(v); s != "{}" && !strings.Contains(s, `"show":false`) {
						t.Errorf("%s #%s: %s %s would need a component the bundle lacks", name, id, k, s)
					}
				case k == "animation" || k == "color":
				default:
					t.Errorf("%s #%s: option %q: is its component in the bundle?", name, id, k)
				}
			}
		}
	}
	need["ScatterChart"] = true // the deployment markers charts.js adds (see markerDoc)
	have := append(append(list(field("charts")), list(field("components"))...), list(field("renderers"))...)
	for m := range need {
		if !slices.Contains(have, m) {
			t.Errorf("the site needs %s; the bundle lacks it (add it to tools/echarts/entry.js and rebuild)", m)
		}
	}

	lic, err := os.ReadFile(filepath.Join("..", "..", "static", "js", "echarts.LICENSE.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Apache License", "zrender", "BSD 3-Clause", "tslib"} {
		if !strings.Contains(string(lic), want) {
			t.Errorf("echarts.LICENSE.txt lacks %q: the bundle holds code under that licence", want)
		}
	}
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
