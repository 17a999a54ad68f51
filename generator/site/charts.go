package site

import (
	"encoding/json"
	"fmt"
	"math"
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
	Range  bool // follows the page's range switch (time axis, 90 days of data)
	Table  table
}

// table is the text alternative of a chart, or any table of figures.
type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// palette: distinguishable, and readable on the light and the dark background.
var palette = []string{"#2f6fdb", "#d9822b", "#2e9e6a", "#9b59b6", "#c0392b", "#16a2b8"}

const thresholdColor = "#d64545"

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

// lineSeries is one line of a time chart.
type lineSeries struct {
	Name   string
	Points []point
	Area   bool
}

// threshold is a horizontal line drawn on a chart (an alerting threshold).
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
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "36", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(legend), Top: "0", Right: "0"}),
		charts.WithToolboxOpts(opts.Toolbox{Show: opts.Bool(false)}),
	}
}

// marshalChart validates the chart and returns its option JSON (escaped for HTML).
func marshalChart(c interface {
	Validate()
	JSON() map[string]interface{}
}) json.RawMessage {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil { // the option holds only strings and numbers
		panic(fmt.Sprintf("site: marshal chart: %v", err))
	}
	return b
}

// timeChart draws lines over a time axis. With rangeSwitch, the axis spans the default range
// before now and the page's switch moves it; otherwise it spans the data.
func timeChart(id, title, desc, unit string, now time.Time, series []lineSeries, th *threshold, rangeSwitch bool, tbl table) chartView {
	cv := chartView{ID: id, Title: title, Desc: desc, Range: rangeSwitch, Table: tbl}
	hasData := false
	for _, s := range series {
		hasData = hasData || hasValues(s.Points)
	}
	if !hasData {
		cv.Empty = true
		return cv
	}
	line := charts.NewLine()
	x := opts.XAxis{Type: "time"}
	if rangeSwitch {
		x.Min = now.Add(-rangeDuration(defaultRange)).UnixMilli()
		x.Max = now.UnixMilli()
	}
	y := opts.YAxis{Name: unit, Type: "value", SplitLine: &opts.SplitLine{Show: opts.Bool(true)}}
	if th != nil {
		// ECharts leaves out a mark line beyond the axis: stretch the axis to show the threshold.
		top := th.Value
		for _, s := range series {
			for _, p := range s.Points {
				if !p.Missing {
					top = max(top, p.V)
				}
			}
		}
		if top == th.Value && top > 0 {
			y.Max = niceCeil(top * 1.1)
		}
	}
	gl := append(chartBase(id, len(series) > 1), charts.WithXAxisOpts(x), charts.WithYAxisOpts(y))
	line.SetGlobalOptions(gl...)
	for i, s := range series {
		// Plain [time, value] pairs instead of LineData's {"value": [...]}: a tenth less page weight.
		data := make([][2]any, len(s.Points))
		for k, p := range s.Points {
			data[k][0] = p.T.UnixMilli()
			if !p.Missing {
				data[k][1] = p.V
			}
		}
		color := palette[i%len(palette)]
		so := []charts.SeriesOpts{
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "circle", SymbolSize: 4}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 1.5, Color: color}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: color}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Data = data }),
		}
		if s.Area {
			so = append(so, charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.15)}))
		}
		if i == 0 && th != nil {
			so = append(so, thresholdOpts(*th)...)
		}
		line.AddSeries(s.Name, nil, so...)
	}
	cv.Option = marshalChart(line)
	return cv
}

func thresholdOpts(th threshold) []charts.SeriesOpts {
	return []charts.SeriesOpts{
		charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: th.Label, YAxis: th.Value}),
		charts.WithMarkLineStyleOpts(opts.MarkLineStyle{
			Symbol:    []string{"none", "none"},
			Label:     &opts.Label{Show: opts.Bool(true), Position: "insideEndTop", Formatter: th.Label, Color: thresholdColor},
			LineStyle: &opts.LineStyle{Color: thresholdColor, Type: "dashed", Width: 1},
		}),
	}
}

// barSeries is one series of a category chart; missing values are nil.
type barSeries struct {
	Name   string
	Values []*float64
	Line   bool // draw as a line instead of bars
}

// categoryChart draws bars (stacked when stack is set) or lines over named categories (weeks, days).
func categoryChart(id, title, desc, unit string, cats []string, series []barSeries, stack bool, th *threshold, tbl table) chartView {
	cv := chartView{ID: id, Title: title, Desc: desc, Table: tbl}
	hasData := false
	for _, s := range series {
		for _, v := range s.Values {
			hasData = hasData || v != nil
		}
	}
	if !hasData {
		cv.Empty = true
		return cv
	}
	bar := charts.NewBar()
	gl := append(chartBase(id, len(series) > 1),
		// The first and last labels align with the axis ends, so a narrow chart never cuts them.
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{AlignMinLabel: "left", AlignMaxLabel: "right"}}),
		charts.WithYAxisOpts(opts.YAxis{Name: unit, Type: "value", SplitLine: &opts.SplitLine{Show: opts.Bool(true)}}))
	bar.SetGlobalOptions(gl...)
	bar.SetXAxis(cats)
	for i, s := range series {
		color := palette[i%len(palette)]
		so := []charts.SeriesOpts{charts.WithItemStyleOpts(opts.ItemStyle{Color: color})}
		if i == 0 && th != nil {
			so = append(so, thresholdOpts(*th)...)
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

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, an axis end ECharts ticks well.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return v
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= v {
			return round(m*mag, 6)
		}
	}
	return v
}
