package site

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// chartView is one chart on a page: our own <div class="chart">, the ECharts option as JSON in a
// <script type="application/json"> that static/js/charts.js reads, and a table alternative.
type chartView struct {
	ID     string // [a-z0-9_], unique on the page, derived from content
	Title  string
	Desc   string // what the chart shows, for screen readers
	Empty  bool   // no data: the page says so instead of drawing an empty canvas
	Option json.RawMessage
	// Ranges holds, for a chart on the range switch, each range's data, axes and threshold
	// rule (a rangeDoc as JSON); charts.js applies the default range first.
	Ranges json.RawMessage
	Note   string // the threshold rule in words when the threshold is not drawn (default range)
	// Markers: charts.js adds the page's deployment markers (the JSON of id "deployments").
	Markers bool
	Table   table
	Days    string // the site path of a page with the chart's data day by day, instead of Table
}

// table is the text alternative of a chart, or any table of figures.
type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// palette: every colour has a contrast of 3:1 or more (WCAG 1.4.11, graphics) against the page
// and panel backgrounds of both colour schemes, so one palette serves light and dark.
var palette = []string{"#3b7ddd", "#c96a12", "#2f8f5b", "#8e5ad6", "#d1453b", "#1f8fa3"}

// thresholdColor draws threshold lines (3:1 on both schemes); charts.js gives their labels a
// text colour per scheme (4.5:1).
const thresholdColor = "#d1453b"

// Deployment marker colours by outcome (3:1 on both schemes).
const (
	deployOKColor     = "#2f8f5b"
	deployFailedColor = "#d1453b"
)

// chartID makes an element id from parts: lowercase, [a-z0-9_] only, parts joined by "__".
func chartID(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString("__")
		}
		for _, r := range strings.ToLower(p) {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// threshold is a horizontal line drawn on a chart (an alerting threshold or an objective).
// Label is the whole text, value and unit included: "threshold 1,000 ms".
type threshold struct {
	Label string
	Value float64
}

// chartBase holds what every chart sets: the id (in one WithInitializationOpts call, which
// replaces the whole struct), the grid, tooltip and legend.
func chartBase(id string, legend bool) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{ChartID: id, AssetsHost: "/static/js/", Theme: "white"}),
		charts.WithAnimation(false),
		// The legend's line, then the unit above the value axis, then the plot: nothing covers
		// anything, whatever the width.
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "52", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		// One line that scrolls when it does not fit (a phone).
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(legend), Type: "scroll", Top: "0", Left: "0", Right: "0", ItemWidth: 16, ItemHeight: 10}),
		charts.WithToolboxOpts(opts.Toolbox{Show: opts.Bool(false)}),
	}
}

// marshalChart validates the chart and returns its option JSON (escaped for HTML).
func marshalChart(c interface {
	Validate()
	JSON() map[string]interface{}
}) json.RawMessage {
	c.Validate()
	return mustJSON(c.JSON())
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil { // the option holds only strings and numbers
		panic(fmt.Sprintf("site: marshal chart: %v", err))
	}
	return b
}

// Series kinds of a time chart.
const (
	seriesLine     = "line"
	seriesArea     = "area"
	seriesBandLow  = "band_low" // the invisible bottom of a min/max band
	seriesBandHigh = "band"     // the band itself, stacked on its bottom
)

// timeSeries is one series of a time chart: a line, a filled area or half of a band. Points
// holds its points for each range key, on the site's wall clock (see localMs).
type timeSeries struct {
	Name string
	Kind string
	Dots bool // draw every point (sparse series: one a day)
	// Col names the column of the product's chart rows (chartCols) the series draws; or
	// Points holds its points for each range key, in the page.
	Col    string
	End    bool // Col's value belongs to the end of its bucket (the error budget left)
	Points map[string][]point
	// Low is the band's bottom, for a band: its data carry the band's height for stacking
	// and, third, its top, which tooltips and checks read.
	Low map[string][]point
}

// marker is a deployment on a time chart.
type marker struct {
	T       time.Time // on the site's wall clock
	Label   string    // "abc1234 success", "abc1234 success · suspect: response time ×2.6, +190 ms"
	Failed  bool
	Suspect bool // a metric regressed after it (package impact)
}

// markerSeries is an ECharts scatter series of deployment markers, on the hidden second value
// axis of a time chart, so they sit along the bottom whatever the value axis.
type markerSeries struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	YAxisIndex int    `json:"yAxisIndex"`
	Symbol     string `json:"symbol"`
	SymbolSize int    `json:"symbolSize"`
	// SymbolOffset lifts a suspect's pin so its tip marks the deployment; Z draws it over the lines.
	SymbolOffset []string       `json:"symbolOffset,omitempty"`
	Z            int            `json:"z,omitempty"`
	ItemStyle    map[string]any `json:"itemStyle"`
	// Data are [time, 0.04, "abc1234 success"]; a suspect's is {"value": […], "itemStyle":
	// {"color": its outcome's colour}}.
	Data []any `json:"data"`
}

// suspectPoint is a suspect deployment's marker: its own outcome's colour.
type suspectPoint struct {
	Value     [3]any         `json:"value"`
	ItemStyle map[string]any `json:"itemStyle"`
}

// markerDoc is a page's deployment markers: one document that every time chart of the page
// draws (charts.js appends its series), instead of a copy in each chart's option. Deployments
// are triangles in their outcome's colour; suspects are larger pins, still in their
// outcome's colour, in a series of their own (its legend entry and tooltip say "suspect"), so
// the flag reads without colour.
func markerDoc(ms []marker) json.RawMessage {
	var out []markerSeries
	for _, kind := range []string{"ok", "failed", "suspect"} {
		s := markerSeries{ID: "deploy_ok", Name: "deploy", Type: "scatter", YAxisIndex: 1, Symbol: "triangle", SymbolSize: 9,
			ItemStyle: map[string]any{"color": deployOKColor}, Data: []any{}}
		switch kind {
		case "failed":
			s.ID, s.Name, s.ItemStyle = "deploy_failed", "failed deploy", map[string]any{"color": deployFailedColor}
		case "suspect":
			// A pin, larger, standing over the row of triangles: a flag on the deployment.
			s.ID, s.Name, s.Symbol, s.SymbolSize = "deploy_suspect", "suspect deploy", "pin", 24
			s.SymbolOffset, s.Z = []string{"0", "-45%"}, 5
			s.ItemStyle = map[string]any{"color": deployOKColor, "borderColor": "#ffffff", "borderWidth": 1}
		}
		for _, m := range ms {
			pt := [3]any{m.T.UnixMilli(), 0.04, m.Label}
			switch {
			case kind == "suspect" && m.Suspect:
				c := deployOKColor
				if m.Failed {
					c = deployFailedColor
				}
				s.Data = append(s.Data, suspectPoint{Value: pt, ItemStyle: map[string]any{"color": c}})
			case m.Suspect:
			case (kind == "failed") == m.Failed && kind != "suspect":
				s.Data = append(s.Data, pt)
			}
		}
		if len(s.Data) > 0 {
			out = append(out, s)
		}
	}
	if out == nil {
		return nil
	}
	return mustJSON(out)
}

// timeSpec describes a time chart on the range switch.
type timeSpec struct {
	ID, Title, Desc string
	// Rows are the product's chart rows by range, for series with a Col.
	Rows      map[string]productRows
	Unit      string // the value axis's unit
	Rule      axisRule
	Threshold *threshold
	Series    []timeSeries
	// Markers adds the page's deployment markers (see markerDoc) along the bottom.
	Markers bool
	Table   table
	Days    string // the page of the chart's data day by day, instead of Table
	// RowsFile is the URL of a file holding the rows of Points for each range
	// ({"ranges": {key: rows}}), which then stay out of the page.
	RowsFile string
}

// rangePatch is what charts.js changes when the range switch moves: the x axis, the fitted y
// axis, whether the threshold is drawn (else Note says where it is), and the series' data.
type rangePatch struct {
	X     [2]int64 `json:"x"` // ms on the site's wall clock
	Y     yRange   `json:"y"`
	Width int64    `json:"w"` // bucket width in ms, for tooltips
	Mark  bool     `json:"mark"`
	Note  string   `json:"note,omitempty"`
	Empty bool     `json:"empty,omitempty"`
	// Rows hold the data of every series, one row a time: [time, value of series 0, of series
	// 1, …]; the first row's time in ms, each next one's in seconds after the row before
	// (a fraction of the page weight of repeating 13-digit times for every series); null
	// where a series has no value (a gap breaks its line). charts.js turns them into series.
	// A chart whose series name columns of the product's chart files (rangeDoc.Cols) has none:
	// charts.js reads the range's files the page's "chart-data" document names.
	Rows [][]any `json:"rows,omitempty"`
}

// rangeDoc is the chart's Ranges JSON.
type rangeDoc struct {
	Default string                `json:"default"`
	Ranges  map[string]rangePatch `json:"ranges"`
	// Threshold is the mark line charts.js draws on the first series where a range's Mark says so.
	Threshold *markItem `json:"threshold,omitempty"`
	// Cols are the chart-file columns of the series, in order ("p95_hi>" for a column drawn
	// at its bucket's end is written "budget$"), when the data are in the product's files.
	Cols []string `json:"cols,omitempty"`
	// File holds the rows of each range ({"ranges": {key: rows}}) when they are not in Ranges.
	File string `json:"file,omitempty"`
}

type markItem struct {
	Name  string  `json:"name"`
	YAxis float64 `json:"yAxis"`
}

// timeChart draws a chart over time that follows the range switch: for each range, the data of
// its one bucket width, a value axis fitted to that range's data by the chart kind's rule, and
// the threshold drawn when it lies within the axis (else stated in words); deployments as
// markers along the bottom. now is on the site's wall clock.
func timeChart(s timeSpec, now time.Time) chartView {
	cv := chartView{ID: s.ID, Title: s.Title, Desc: s.Desc, Table: s.Table, Days: s.Days}
	doc := rangeDoc{Default: defaultRange, Ranges: map[string]rangePatch{}}
	if s.Threshold != nil {
		doc.Threshold = &markItem{Name: s.Threshold.Label, YAxis: s.Threshold.Value}
	}
	for _, ts := range s.Series {
		if ts.Col != "" {
			c := ts.Col
			if ts.End {
				c += "$"
			}
			doc.Cols = append(doc.Cols, c)
		}
	}
	anyData := false
	for _, r := range ranges {
		p := rangePatch{X: [2]int64{now.Add(-r.D).UnixMilli(), now.UnixMilli()}, Width: r.Width.Milliseconds()}
		var values []float64
		if doc.Cols != nil {
			pr := s.Rows[r.Key]
			for _, ts := range s.Series {
				values = append(values, pr.values(slices.Index(chartCols, ts.Col))...)
			}
		} else {
			p.Rows = rows(s.Series, r.Key)
			for _, row := range p.Rows {
				for _, v := range row[1:] {
					if f, ok := v.(float64); ok {
						values = append(values, f)
					}
				}
			}
		}
		p.Empty = len(values) == 0
		anyData = anyData || !p.Empty
		var th *float64
		if s.Threshold != nil {
			th = &s.Threshold.Value
		}
		p.Y = fit(values, th, s.Rule)
		if s.Threshold != nil {
			p.Mark, p.Note = thresholdRule(s.Threshold.Label, s.Threshold.Value, p.Y, "")
		}
		if s.RowsFile != "" {
			p.Rows = nil
		}
		doc.Ranges[r.Key] = p
	}
	doc.File = s.RowsFile
	if !anyData {
		cv.Empty = true
		return cv
	}
	def := doc.Ranges[defaultRange]
	cv.Note = def.Note

	line := charts.NewLine()
	legend := 0
	for _, ts := range s.Series {
		if ts.Kind != seriesBandLow {
			legend++
		}
	}
	gl := append(chartBase(s.ID, legend > 1 || s.Markers),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", Min: def.X[0], Max: def.X[1]}),
		charts.WithYAxisOpts(opts.YAxis{Name: s.Unit, Type: "value", Min: def.Y.Min, Max: def.Y.Max,
			SplitLine: &opts.SplitLine{Show: opts.Bool(true)}}))
	line.SetGlobalOptions(gl...)
	// The markers' own axis, hidden: 0 at the bottom of the grid, whatever the value axis.
	line.ExtendYAxis(opts.YAxis{Type: "value", Show: opts.Bool(false), Min: 0, Max: 1})
	cv.Markers = s.Markers
	color := 0
	for i, ts := range s.Series {
		c := palette[color%len(palette)]
		if ts.Kind == seriesBandLow || ts.Kind == seriesBandHigh {
			c = palette[max(color-1, 0)%len(palette)] // the colour of the line it surrounds
		}
		so := []charts.SeriesOpts{
			charts.WithSeriesOpts(func(ss *charts.SingleSeries) { ss.Id = ts.Kind + "_" + fmt.Sprint(i) }),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "circle", SymbolSize: 4}),
		}
		switch ts.Kind {
		case seriesBandLow:
			// Invisible: the band stacks on it. Same colour as the band, so the legend's one
			// entry (the band's) toggles both.
			so = append(so,
				charts.WithLineStyleOpts(opts.LineStyle{Width: 0, Opacity: opts.Float(0), Color: c}),
				charts.WithItemStyleOpts(opts.ItemStyle{Color: c}),
				charts.WithSeriesOpts(func(ss *charts.SingleSeries) { ss.Stack = "band" + fmt.Sprint(i) }))
		case seriesBandHigh:
			so = append(so,
				charts.WithLineStyleOpts(opts.LineStyle{Width: 0, Opacity: opts.Float(0), Color: c}),
				charts.WithItemStyleOpts(opts.ItemStyle{Color: c}),
				charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.2), Color: c}),
				charts.WithSeriesOpts(func(ss *charts.SingleSeries) { ss.Stack = "band" + fmt.Sprint(i-1) }))
		default:
			so = append(so,
				charts.WithLineStyleOpts(opts.LineStyle{Width: 1.5, Color: c}),
				charts.WithItemStyleOpts(opts.ItemStyle{Color: c}))
			if ts.Dots {
				so = append(so, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 5}))
			}
			if ts.Kind == seriesArea {
				so = append(so, charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.15)}))
			}
		}
		if i == 0 && s.Threshold != nil {
			so = append(so, thresholdOpts(*s.Threshold, def.Mark)...)
		}
		if ts.Kind == seriesLine || ts.Kind == seriesArea {
			color++
		}
		line.AddSeries(ts.Name, nil, so...)
	}
	cv.Option = marshalChart(line)
	cv.Ranges = mustJSON(doc)
	return cv
}

// rows merges the series' points of one range into rows (see rangePatch.Rows).
func rows(series []timeSeries, key string) [][]any {
	at := map[int64][]any{}
	var times []int64
	for i, ts := range series {
		for _, pt := range ts.Points[key] {
			ms := pt.T.UnixMilli()
			row, ok := at[ms]
			if !ok {
				row = make([]any, len(series)+1)
				at[ms] = row
				times = append(times, ms)
			}
			if !pt.Missing {
				row[i+1] = pt.V
			}
		}
	}
	slices.Sort(times)
	out := make([][]any, len(times))
	for k, ms := range times {
		row := at[ms]
		if k == 0 {
			row[0] = ms
		} else {
			row[0] = float64(ms-times[k-1]) / 1000
		}
		out[k] = row
	}
	return out
}

// thresholdOpts draws the threshold as a dashed mark line with its label; drawn false leaves
// the line out (charts.js puts it back on a range where it lies within the axis).
func thresholdOpts(th threshold, drawn bool) []charts.SeriesOpts {
	style := charts.WithMarkLineStyleOpts(opts.MarkLineStyle{
		Symbol:    []string{"none", "none"},
		Label:     &opts.Label{Show: opts.Bool(true), Position: "insideEndTop", Formatter: th.Label, Color: thresholdColor},
		LineStyle: &opts.LineStyle{Color: thresholdColor, Type: "dashed", Width: 1.5},
	})
	item := charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: th.Label, YAxis: th.Value})
	if !drawn {
		// Keep the style (and the item, for charts.js) but draw nothing: an empty data list.
		return []charts.SeriesOpts{item, style, charts.WithSeriesOpts(func(s *charts.SingleSeries) {
			s.MarkLines.Data = []interface{}{}
		})}
	}
	return []charts.SeriesOpts{item, style}
}

// barSeries is one series of a category chart; missing values are nil.
type barSeries struct {
	Name   string
	Values []*float64
	Line   bool // draw as a line instead of bars
}

// categoryChart draws bars (stacked when stack is set) or lines over named categories (weeks,
// days). The value axis starts at zero (bars are read by their length) and fits the highest
// value (the highest stack) by the rule of every chart; the threshold is drawn when it lies
// within it, else the chart's note says where it is.
func categoryChart(id, title, desc, unit string, cats []string, series []barSeries, stack bool, th *threshold, tbl table) chartView {
	cv := chartView{ID: id, Title: title, Desc: desc, Table: tbl}
	hasData := false
	var values []float64
	stacked := make([]float64, len(cats))
	for _, s := range series {
		for k, v := range s.Values {
			if v == nil {
				continue
			}
			hasData = true
			if stack && !s.Line && k < len(stacked) {
				stacked[k] += *v
			} else {
				values = append(values, *v)
			}
		}
	}
	if !hasData {
		cv.Empty = true
		return cv
	}
	values = append(values, stacked...)
	var thv *float64
	if th != nil {
		thv = &th.Value
	}
	y := fit(values, thv, countAxis)
	drawn := false
	if th != nil {
		drawn, cv.Note = thresholdRule(th.Label, th.Value, y, "")
	}
	bar := charts.NewBar()
	gl := append(chartBase(id, len(series) > 1),
		// The first and last labels align with the axis ends, so a narrow chart never cuts them.
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{AlignMinLabel: "left", AlignMaxLabel: "right"}}),
		charts.WithYAxisOpts(opts.YAxis{Name: unit, Type: "value", Min: y.Min, Max: y.Max, SplitLine: &opts.SplitLine{Show: opts.Bool(true)}}))
	bar.SetGlobalOptions(gl...)
	bar.SetXAxis(cats)
	for i, s := range series {
		color := palette[i%len(palette)]
		so := []charts.SeriesOpts{charts.WithItemStyleOpts(opts.ItemStyle{Color: color})}
		if i == 0 && th != nil {
			so = append(so, thresholdOpts(*th, drawn)...)
		}
		if s.Line {
			data := make([]opts.LineData, len(s.Values))
			for k, v := range s.Values {
				if v != nil {
					data[k] = opts.LineData{Value: *v}
				} else {
					data[k] = opts.LineData{Value: "-"} // ECharts' missing value
				}
			}
			l := charts.NewLine()
			so = append(so, charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Color: color}),
				charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 6}))
			l.AddSeries(s.Name, data, so...)
			bar.Overlap(l)
			continue
		}
		data := make([]opts.BarData, len(s.Values))
		for k, v := range s.Values {
			if v != nil {
				data[k] = opts.BarData{Value: *v}
			} else {
				data[k] = opts.BarData{Value: "-"}
			}
		}
		if stack {
			so = append(so, charts.WithBarChartOpts(opts.BarChart{Stack: "total"}))
		}
		bar.AddSeries(s.Name, data, so...)
	}
	cv.Option = marshalChart(bar)
	return cv
}

func f64(v float64) *float64 { return &v }
