package site_test

import (
	"encoding/json"
	"html"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// chartScript finds the chart data of a page: <script type="application/json" id="ID_option">
// and id="ID_ranges".
var chartScript = regexp.MustCompile(`<script type="application/json" id="([a-z0-9_]+)_(option|ranges)">(.*?)</script>`)

type rangeDoc struct {
	Default   string   `json:"default"`
	Cols      []string `json:"cols"`
	File      string   `json:"file"`
	Threshold *struct {
		Name  string  `json:"name"`
		YAxis float64 `json:"yAxis"`
	} `json:"threshold"`
	Ranges map[string]struct {
		X [2]int64 `json:"x"`
		Y struct {
			Min, Max, Interval float64
		} `json:"y"`
		W     int64   `json:"w"`
		Mark  bool    `json:"mark"`
		Note  string  `json:"note"`
		Empty bool    `json:"empty"`
		Rows  [][]any `json:"rows"`
	} `json:"ranges"`
}

// expand turns rows (the first time in ms, then seconds since the row before) into each
// series' points: [time ms, value or nil].
func expand(rows [][]any) [][][2]any {
	var out [][][2]any
	var t float64
	for k, row := range rows {
		if k == 0 {
			t = row[0].(float64)
		} else {
			t += row[0].(float64) * 1000
		}
		for i, v := range row[1:] {
			for len(out) <= i {
				out = append(out, nil)
			}
			out[i] = append(out[i], [2]any{t, v})
		}
	}
	return out
}

type chartDoc struct {
	Option map[string]any
	Ranges *rangeDoc
}

// chartDataDoc is a product page's "chart-data": where each range's rows are.
type chartDataDoc struct {
	Cols    []string `json:"cols"`
	Markers string   `json:"markers"`
	Ranges  map[string]struct {
		X     [2]int64 `json:"x"`
		From  int64    `json:"from"`
		W     int64    `json:"w"`
		Files []string `json:"files"`
	} `json:"ranges"`
}

// fileSeries reads, as charts.js does, the rows of range key from the chart files the page
// names, and gives each column of cols (a "$" suffix: drawn at its bucket's end) as points:
// [time ms, value or nil], rows before the range's first bucket left out.
func fileSeries(t *testing.T, files map[string][]byte, page, key string, cols []string) [][][2]any {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="chart-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no chart-data document")
	}
	var doc chartDataDoc
	if err := json.Unmarshal([]byte(m[1]), &doc); err != nil {
		t.Fatal(err)
	}
	rd := doc.Ranges[key]
	var rows [][]any
	for _, f := range rd.Files {
		data, ok := files[strings.TrimPrefix(f, "/")]
		if !ok {
			t.Fatalf("%s: the chart file %s is not in the site", key, f)
		}
		var chunk struct {
			Rows   [][]any            `json:"rows"`
			Ranges map[string][][]any `json:"ranges"`
		}
		if err := json.Unmarshal(data, &chunk); err != nil {
			t.Fatal(err)
		}
		rs := chunk.Rows
		if chunk.Ranges != nil {
			rs = chunk.Ranges[key]
		}
		var at float64
		for k, row := range rs {
			if k == 0 {
				at = row[0].(float64)
			} else {
				at += row[0].(float64) * 1000
			}
			if at >= float64(rd.From) {
				rows = append(rows, append([]any{at}, row[1:]...))
			}
		}
	}
	out := make([][][2]any, len(cols))
	for i, c := range cols {
		end := strings.HasSuffix(c, "$")
		idx := slices.Index(doc.Cols, strings.TrimSuffix(c, "$")) + 1
		if idx == 0 {
			t.Fatalf("column %q is not in the chart files' %v", c, doc.Cols)
		}
		for _, row := range rows {
			x := row[0].(float64)
			if end {
				x = math.Min(x+float64(rd.W), float64(rd.X[1]))
			}
			out[i] = append(out[i], [2]any{x, row[idx]})
		}
	}
	return out
}

// pageCharts reads every chart of a page, by id.
func pageCharts(t *testing.T, page string) map[string]*chartDoc {
	t.Helper()
	out := map[string]*chartDoc{}
	for _, m := range chartScript.FindAllStringSubmatch(page, -1) {
		c := out[m[1]]
		if c == nil {
			c = &chartDoc{}
			out[m[1]] = c
		}
		// html/template escapes the JSON for the script element only with \u003c and the like,
		// which encoding/json reads back; entities would be a bug.
		body := m[3]
		if strings.Contains(body, "&#") || strings.Contains(body, "&lt;") {
			t.Fatalf("chart %s: HTML entities in JSON: %.80s", m[1], html.UnescapeString(body))
		}
		var err error
		if m[2] == "option" {
			err = json.Unmarshal([]byte(body), &c.Option)
		} else {
			c.Ranges = &rangeDoc{}
			err = json.Unmarshal([]byte(body), c.Ranges)
		}
		if err != nil {
			t.Fatalf("chart %s %s: %v", m[1], m[2], err)
		}
	}
	return out
}

// The rules the chart kinds follow (see axis.go): whether the threshold and zero are always
// inside the axis, and the bounds the axis cannot pass.
var kindRules = map[string]struct {
	include, zero bool
	floor, ceil   float64
	minSpan       float64
}{
	"latency":      {false, false, 0, math.Inf(1), 10},
	"errors":       {true, true, 0, 100, 0.1},
	"traffic":      {false, true, 0, math.Inf(1), 1},
	"availability": {true, false, 0, 100, 0.1},
	"dau":          {false, false, 0, math.Inf(1), 10},
	"budget":       {true, true, -100, 100, 10},
}

// TestChartOptions checks every time chart of every product page, per chart kind and range:
// every data point lies inside the x range and inside the value axis; the axis fits the data
// (what the kind's rule keeps inside it spans at least half the axis); gridlines are even; the
// threshold is drawn exactly when it lies inside the axis away from its ends, and otherwise the
// chart says where it is in words; deployments are markers within the 90 days.
func TestChartOptions(t *testing.T) {
	cfg, st := fixture(t, 90)
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	seen := map[string]int{}
	for _, p := range cfg.Products {
		page := string(files["products/"+p.ID+"/index.html"])
		charts := pageCharts(t, page)
		ids := make([]string, 0, len(charts))
		for id := range charts {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			c := charts[id]
			kind, _, _ := strings.Cut(id, "__")
			if _, known := kindRules[kind]; !known {
				t.Errorf("%s: a chart of unknown kind %q", p.ID, kind)
				continue
			}
			if c.Ranges == nil {
				t.Errorf("%s: no ranges: it ignores the range switch", id)
				continue
			}
			seen[kind]++
			t.Run(p.ID+"/"+kind, func(t *testing.T) { checkTimeChart(t, kind, c, files, page) })
			if !strings.Contains(page, `data-ranges="`+id+`_ranges" data-markers="deployments"`) {
				t.Errorf("%s: the chart's element does not point at its ranges and the deployment markers", id)
			}
		}
	}
	for _, p := range cfg.Products {
		checkMarkers(t, p.ID, string(files["products/"+p.ID+"/index.html"]), files)
	}
	for kind := range kindRules {
		if seen[kind] == 0 {
			t.Errorf("no %s chart on any product page", kind)
		}
	}

	// Category charts: the overview's deployments a day and the DORA page's weekly charts.
	for _, page := range []string{"index.html", "dora/index.html"} {
		charts := pageCharts(t, string(files[page]))
		if len(charts) == 0 {
			t.Errorf("%s: no chart", page)
		}
		for id, c := range charts {
			t.Run(page+"/"+id, func(t *testing.T) { checkCategoryChart(t, c) })
		}
	}
}

// bucketed are the kinds whose points are buckets of the range's one width.
var bucketed = map[string]bool{"latency": true, "errors": true, "traffic": true, "availability": true}

func checkTimeChart(t *testing.T, kind string, c *chartDoc, files map[string][]byte, page string) {
	rule := kindRules[kind]
	doc := c.Ranges
	want := map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour}
	if len(doc.Ranges) != len(want) || doc.Default != "7d" {
		t.Fatalf("ranges %d, default %q: want the four ranges, 7d first", len(doc.Ranges), doc.Default)
	}
	series, _ := c.Option["series"].([]any)
	for key, r := range doc.Ranges {
		where := key
		if d := time.Duration(r.X[1]-r.X[0]) * time.Millisecond; d != want[key] {
			t.Errorf("%s: x axis spans %s", where, d)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		points := expand(r.Rows)
		if doc.File != "" {
			var f struct {
				Ranges map[string][][]any `json:"ranges"`
			}
			if err := json.Unmarshal(files[strings.TrimPrefix(doc.File, "/")], &f); err != nil {
				t.Fatalf("%s: the rows file %s: %v", where, doc.File, err)
			}
			points = expand(f.Ranges[key])
		}
		if doc.Cols != nil {
			if r.Rows != nil {
				t.Errorf("%s: rows in the page and columns of the chart files", where)
			}
			points = fileSeries(t, files, page, key, doc.Cols)
		}
		for i, data := range points {
			if i >= len(series) {
				t.Fatalf("%s: %d columns for %d series", where, i+1, len(series))
			}
			prev := math.Inf(-1)
			for _, pt := range data {
				x := pt[0].(float64)
				if x < float64(r.X[0]) || x > float64(r.X[1]) {
					t.Errorf("%s series %d: point at %v outside the x range %v", where, i, x, r.X)
				}
				if x <= prev {
					t.Errorf("%s series %d: points out of order", where, i)
				}
				// One bucket width: points are whole buckets apart (the budget is read at
				// bucket ends and now, users once a day).
				if bucketed[kind] && !math.IsInf(prev, -1) && math.Mod(x-prev, float64(r.W)) != 0 {
					t.Errorf("%s series %d: points %v ms apart, not whole buckets of %d ms", where, i, x-prev, r.W)
				}
				prev = x
				if pt[1] == nil {
					continue
				}
				v := pt[1].(float64) // a band's top, for a band
				lo, hi = math.Min(lo, v), math.Max(hi, v)
				if v < r.Y.Min || v > r.Y.Max {
					t.Errorf("%s series %d: value %v outside the axis %v–%v", where, i, v, r.Y.Min, r.Y.Max)
				}
			}
		}
		if r.Empty != (lo > hi) {
			t.Errorf("%s: empty %v, but values %v–%v", where, r.Empty, lo, hi)
		}
		if r.Y.Min < rule.floor || r.Y.Max > rule.ceil {
			t.Errorf("%s: axis %v–%v passes the kind's bounds %v–%v", where, r.Y.Min, r.Y.Max, rule.floor, rule.ceil)
		}
		if n := (r.Y.Max - r.Y.Min) / r.Y.Interval; math.Abs(n-math.Round(n)) > 1e-6 || n < 3 || n > 8 {
			t.Errorf("%s: %v gridline intervals of %v on %v–%v", where, n, r.Y.Interval, r.Y.Min, r.Y.Max)
		}
		if !r.Empty {
			// What the rule keeps inside spans at least half the axis: it fits the data.
			klo, khi := lo, hi
			if doc.Threshold != nil && rule.include {
				klo, khi = math.Min(klo, doc.Threshold.YAxis), math.Max(khi, doc.Threshold.YAxis)
			}
			if rule.zero {
				klo, khi = math.Min(klo, 0), math.Max(khi, 0)
			}
			if span := khi - klo; span >= rule.minSpan && span < 0.5*(r.Y.Max-r.Y.Min) {
				t.Errorf("%s: data %v–%v on an axis %v–%v: the axis does not fit its data", where, lo, hi, r.Y.Min, r.Y.Max)
			}
		}
		if doc.Threshold == nil {
			if r.Mark || r.Note != "" {
				t.Errorf("%s: no threshold, but mark %v note %q", where, r.Mark, r.Note)
			}
			continue
		}
		th, span := doc.Threshold.YAxis, r.Y.Max-r.Y.Min
		inside := th >= r.Y.Min+0.02*span && th <= r.Y.Max-0.02*span
		if r.Mark != inside {
			t.Errorf("%s: threshold %v on %v–%v drawn %v, want %v", where, th, r.Y.Min, r.Y.Max, r.Mark, inside)
		}
		if !r.Mark {
			word := "above"
			switch {
			case th < r.Y.Min:
				word = "below"
			case th <= r.Y.Min+0.02*span:
				word = "at the bottom"
			case th <= r.Y.Max:
				word = "at the top"
			}
			if !strings.HasPrefix(r.Note, doc.Threshold.Name+", ") || !strings.Contains(r.Note, word) {
				t.Errorf("%s: threshold %v not drawn on %v–%v; note %q, want %q and %q", where, th, r.Y.Min, r.Y.Max, r.Note, doc.Threshold.Name, word)
			}
		}
	}
	// The base option is the default range: its axis, and the threshold drawn or not.
	def := doc.Ranges[doc.Default]
	ys, _ := c.Option["yAxis"].([]any)
	if len(ys) != 2 {
		t.Fatalf("yAxis %v: want the value axis and the markers' axis", ys)
	}
	y0 := ys[0].(map[string]any)
	if y0["min"] != def.Y.Min || y0["max"] != def.Y.Max {
		t.Errorf("option's axis %v–%v, default range's %v–%v", y0["min"], y0["max"], def.Y.Min, def.Y.Max)
	}
	if doc.Threshold != nil {
		ml, _ := series[0].(map[string]any)["markLine"].(map[string]any)
		data, _ := ml["data"].([]any)
		if (len(data) > 0) != def.Mark {
			t.Errorf("option draws the threshold %v, the default range says %v", len(data) > 0, def.Mark)
		}
	}
	for _, s := range series {
		if id, _ := s.(map[string]any)["id"].(string); strings.HasPrefix(id, "deploy") {
			t.Errorf("deployment markers %s inside the option: they belong to the page's one document", id)
		}
	}
}

// checkMarkers: the page's deployments (a file the chart document names) are scatter series on
// the hidden second axis, within the 90 days, labelled with commit and outcome, coloured by
// outcome; a suspect deployment (a regression after it) is a pin of its own series, in its
// outcome's colour, whose label says what regressed.
func checkMarkers(t *testing.T, id, page string, files map[string][]byte) {
	const deployOKColor, deployFailedColor = "#2f8f5b", "#d1453b" // as charts.go draws them
	m := regexp.MustCompile(`<script type="application/json" id="chart-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Errorf("%s: no chart document", id)
		return
	}
	var doc chartDataDoc
	if err := json.Unmarshal([]byte(m[1]), &doc); err != nil {
		t.Fatal(err)
	}
	data, ok := files[strings.TrimPrefix(doc.Markers, "/")]
	if doc.Markers == "" || !ok {
		t.Errorf("%s: no deployment markers file (%q)", id, doc.Markers)
		return
	}
	var series []struct {
		ID, Type, Symbol string
		YAxisIndex       int
		Data             []json.RawMessage
	}
	if err := json.Unmarshal(data, &series); err != nil {
		t.Fatal(err)
	}
	plain := regexp.MustCompile(`^[0-9a-f]{7} (success|failure)$`)
	suspect := regexp.MustCompile(`^[0-9a-f]{7} (success|failure) · suspect:(\n.+)+$`)
	n := 0
	for _, s := range series {
		if s.Type != "scatter" || s.YAxisIndex != 1 {
			t.Errorf("%s: markers %s: %s on axis %d, want scatter on the hidden axis 1", id, s.ID, s.Type, s.YAxisIndex)
		}
		for _, raw := range s.Data {
			var d [3]any
			colour := ""
			if s.ID == "deploy_suspect" {
				var pt struct {
					Value     [3]any
					ItemStyle struct{ Color string }
				}
				if err := json.Unmarshal(raw, &pt); err != nil {
					t.Fatalf("%s: suspect marker %s: %v", id, raw, err)
				}
				d, colour = pt.Value, pt.ItemStyle.Color
			} else if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("%s: marker %s: %v", id, raw, err)
			}
			label, _ := d[2].(string)
			switch {
			case s.ID == "deploy_suspect":
				failed := strings.Contains(label, " failure · ")
				if !suspect.MatchString(label) || s.Symbol != "pin" || (colour == deployFailedColor) != failed || (colour == deployOKColor) == failed {
					t.Errorf("%s: suspect marker %q in %s, colour %s", id, label, s.Symbol, colour)
				}
			case !plain.MatchString(label) || (s.ID == "deploy_failed") != strings.HasSuffix(label, "failure"):
				t.Errorf("%s: marker %q in series %s", id, label, s.ID)
			}
			if x := time.UnixMilli(int64(d[0].(float64))); x.Before(now.Add(-91*24*time.Hour)) || x.After(now.Add(3*time.Hour)) {
				t.Errorf("%s: marker at %s, outside the 90 days", id, x)
			}
			n++
		}
	}
	if n == 0 {
		t.Errorf("%s: no deployment in 90 days of demo data", id)
	}
}

func checkCategoryChart(t *testing.T, c *chartDoc) {
	ys, _ := c.Option["yAxis"].([]any)
	if len(ys) == 0 {
		t.Fatal("no value axis")
	}
	y := ys[0].(map[string]any)
	ymin, ok1 := y["min"].(float64)
	ymax, ok2 := y["max"].(float64)
	if !ok1 || !ok2 || ymin != 0 {
		t.Fatalf("value axis %v–%v: bars start at zero and the axis is set", y["min"], y["max"])
	}
	series, _ := c.Option["series"].([]any)
	stacks := map[int]float64{}
	hi := 0.0
	var th *float64
	drawn := false
	for _, s := range series {
		m := s.(map[string]any)
		for k, d := range m["data"].([]any) {
			v, ok := d.(map[string]any)["value"].(float64)
			if !ok {
				continue
			}
			if m["stack"] != nil {
				stacks[k] += v
				v = stacks[k]
			}
			hi = math.Max(hi, v)
			if v > ymax {
				t.Errorf("value %v above the axis's %v", v, ymax)
			}
		}
		if ml, ok := m["markLine"].(map[string]any); ok {
			if data, _ := ml["data"].([]any); len(data) > 0 {
				v := data[0].(map[string]any)["yAxis"].(float64)
				th, drawn = &v, true
			}
		}
	}
	if hi > 0 && hi < 0.5*ymax {
		t.Errorf("highest value %v on an axis to %v: the axis does not fit", hi, ymax)
	}
	if drawn && (*th < ymin || *th > ymax) {
		t.Errorf("threshold %v drawn outside the axis %v–%v", *th, ymin, ymax)
	}
}
