package site

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
)

func TestDORATiles(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	lv := func(s string) *string { return &s }
	c := dora.Comparison{
		Current: dora.Figures{
			DeploymentFrequency:          dora.DeploymentFrequency{Successful: 11, PerDay: 0.3667, Level: lv(dora.High)},
			LeadTime:                     dora.LeadTime{Changes: 3, MedianSeconds: v(5400), Level: lv(dora.High)},
			FailedDeploymentRecoveryTime: dora.FailedDeploymentRecoveryTime{Failures: 3, Recovered: 2, Unrecovered: 1, MedianSeconds: v(7200), Level: lv(dora.High)},
			ReworkRate:                   dora.ReworkRate{Rework: 2, Successful: 11, Rate: v(0.1818)},
		},
		Previous: dora.Figures{
			DeploymentFrequency: dora.DeploymentFrequency{Successful: 20, PerDay: 0.6667, Level: lv(dora.High)},
			TimeToRestore:       dora.TimeToRestore{Incidents: 1, MedianSeconds: v(600), Level: lv(dora.Elite)},
			ReworkRate:          dora.ReworkRate{Rework: 1, Successful: 20, Rate: v(0.05)},
		},
		Trend: dora.Trend{DeploymentFrequency: dora.Declining, LeadTime: dora.Flat, ChangeFailureRate: dora.Flat,
			TimeToRestore: dora.Flat, FailedDeploymentRecoveryTime: dora.Flat, ReworkRate: dora.Declining},
	}
	got := map[string]metricTile{}
	for _, tl := range tiles(c, 30) {
		got[tl.Key] = tl
	}
	tests := []struct {
		metric, value, level, trend, trendText, detail string
		noLevels                                       bool
	}{
		{dora.MetricDeploymentFrequency, "2.6 a week", dora.High, dora.Declining, "", "11 successful, 0 failed in 30 days", false},
		// Data now, none before: no trend, and it says why.
		{dora.MetricLeadTime, "1.5 h", dora.High, "", "no previous data", "median of 3 changes", false},
		// No data now: no trend at all (the level says "No data"), even with data before.
		{dora.MetricTimeToRestore, "no data", "", "", "", "median of 0 incidents closed", false},
		{dora.MetricChangeFailureRate, "no data", "", "", "", "0 failed and 0 causing incidents of 0", false},
		{dora.MetricFailedDeploymentRecoveryTime, "2 h", dora.High, "", "no previous data", "median of 2 recovered of 3 failures; 1 not recovered", false},
		{dora.MetricReworkRate, "18.2 %", "", dora.Declining, "", "2 of 11 successful deployments", true},
	}
	for _, tc := range tests {
		tl := got[tc.metric]
		if tl.Value != tc.value || tl.Level != tc.level || tl.Trend != tc.trend || tl.TrendText != tc.trendText || tl.Detail != tc.detail || tl.NoLevels != tc.noLevels {
			t.Errorf("%s: %+v", tc.metric, tl)
		}
	}
	if len(got) != 6 {
		t.Errorf("%d tiles, want 6", len(got))
	}
}

// chartOption is what the tests read of a chart's option.
type chartOption struct {
	YAxis []struct {
		Name string `json:"name"`
	} `json:"yAxis"`
	XAxis []struct {
		AxisLabel struct {
			AlignMinLabel string `json:"alignMinLabel"`
			AlignMaxLabel string `json:"alignMaxLabel"`
		} `json:"axisLabel"`
	} `json:"xAxis"`
	Series []struct {
		Data     []struct{ Value any } `json:"data"`
		MarkLine struct {
			Label struct {
				Formatter string `json:"formatter"`
			} `json:"label"`
			Data []struct {
				YAxis float64 `json:"yAxis"`
			} `json:"data"`
		} `json:"markLine"`
	} `json:"series"`
}

func TestDORAWeeklyChartsUseTheThresholdsUnit(t *testing.T) {
	ws := dora.WeeklySeries{}
	start := time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)
	for k := range 13 {
		w := dora.Week{Start: start.AddDate(0, 0, 7*k), End: start.AddDate(0, 0, 7*k+7)}
		f := dora.Figures{}
		restore := float64(18*60 + k*60*3) // 18 … 54 min: a minutes axis against the 60 min bar
		lead := float64(3600 + k*1800)     // 1 … 7 h: an hours axis, the bar at 1 h
		f.TimeToRestore.MedianSeconds = &restore
		f.LeadTime.MedianSeconds = &lead
		if k%4 != 0 {
			rec := float64(1800 * k)
			f.FailedDeploymentRecoveryTime.MedianSeconds = &rec
		}
		ws.Weeks = append(ws.Weeks, w)
		ws.Portfolio = append(ws.Portfolio, f)
	}
	b := &build{cfg: &config.Config{DORA: config.DORA{Levels: config.DefaultLevels()}}}
	byID := map[string]chartView{}
	for _, cv := range b.weeklyCharts(ws) {
		byID[cv.ID] = cv
	}
	tests := []struct {
		id, axis, label string
		bar             float64
		first, last     float64
	}{
		{"dora_weekly__time_to_restore", "minutes", "elite 60 min", 60, 18, 54},
		{"dora_weekly__lead_time", "hours", "elite 1 h", 1, 1, 7},
		{"dora_weekly__failed_deployment_recovery_time", "hours", "elite 1 h", 1, 0, 6},
	}
	for _, tc := range tests {
		cv, ok := byID[tc.id]
		if !ok {
			t.Fatalf("no chart %s", tc.id)
		}
		var o chartOption
		if err := json.Unmarshal(cv.Option, &o); err != nil {
			t.Fatal(err)
		}
		if o.YAxis[0].Name != tc.axis || !strings.Contains(cv.Desc, "in "+tc.axis) || !strings.Contains(cv.Table.Caption, "("+tc.axis+")") {
			t.Errorf("%s: axis %q, desc %q, table %q; want %s", tc.id, o.YAxis[0].Name, cv.Desc, cv.Table.Caption, tc.axis)
		}
		ml := o.Series[0].MarkLine
		if ml.Label.Formatter != tc.label || len(ml.Data) != 1 || ml.Data[0].YAxis != tc.bar {
			t.Errorf("%s: threshold %q at %v, want %q at %v", tc.id, ml.Label.Formatter, ml.Data, tc.label, tc.bar)
		}
		if tc.id != "dora_weekly__failed_deployment_recovery_time" {
			d := o.Series[0].Data
			if d[0].Value != tc.first || d[len(d)-1].Value != tc.last {
				t.Errorf("%s: data from %v to %v, want %v to %v", tc.id, d[0].Value, d[len(d)-1].Value, tc.first, tc.last)
			}
		}
		if o.XAxis[0].AxisLabel.AlignMinLabel != "left" || o.XAxis[0].AxisLabel.AlignMaxLabel != "right" {
			t.Errorf("%s: the first and last week labels may be cut at the chart's edges: %+v", tc.id, o.XAxis[0].AxisLabel)
		}
	}
	for _, id := range []string{"dora_weekly__deployments", "dora_weekly__change_failure_rate", "dora_weekly__rework_rate"} {
		if _, ok := byID[id]; !ok {
			t.Errorf("no chart %s", id)
		}
	}
}

func TestUnitFor(t *testing.T) {
	for top, want := range map[float64]string{3600: "minutes", 7200: "minutes", 7201: "hours", 30 * 86400: "hours"} {
		if got := unitFor(top).name; got != want {
			t.Errorf("unitFor(%v) = %s, want %s", top, got, want)
		}
	}
}
