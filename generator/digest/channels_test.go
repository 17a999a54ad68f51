package digest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/digest"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestMailpitAndSlackEndToEnd sends the digest of the demo history through the real channels
// (run.DigestSenders) to a real Mailpit and the Slack fake, twice: the second run sends nothing.
func TestMailpitAndSlackEndToEnd(t *testing.T) {
	mp := fake.StartMailpit(t)
	sl := fake.NewSlack(t)
	cfg, st := history(t)
	env := map[string]string{"SMTP_URL": "smtp://" + mp.SMTP, "SLACK_WEBHOOK_URL": sl.URL}
	senders, disabled := run.DigestSenders(cfg, run.ChannelOptions{Getenv: func(k string) string { return env[k] }})
	if len(senders) != 2 || len(disabled) != 2 { // pagerduty and github_issues have no secret here
		t.Fatalf("senders %d, disabled %v", len(senders), disabled)
	}
	now := time.Date(2026, 11, 30, 7, 5, 0, 0, time.UTC)
	for range 2 {
		sum, err := digest.Deliver(context.Background(), digest.Options{Config: cfg, Store: st, Now: now, Senders: senders, Disabled: disabled})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Count(digest.OutcomeFailed) > 0 {
			t.Fatalf("outcomes %+v", sum.Outcomes)
		}
		now = now.Add(15 * time.Minute)
	}
	msgs := mp.Messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want 1 (the second run has nothing to send)", len(msgs))
	}
	if len(sl.Messages()) != 1 {
		t.Fatalf("%d Slack messages, want 1", len(sl.Messages()))
	}
	m := msgs[0]
	if !strings.HasPrefix(m.Subject, "Acme portfolio weekly digest, 23 Nov – 30 Nov 2026: ") {
		t.Errorf("subject %q", m.Subject)
	}
	if m.MessageID != "digest-2026-11-30@status.example.com" {
		t.Errorf("Message-ID %q, want one per period", m.MessageID)
	}
	var to []string
	for _, a := range m.To {
		to = append(to, a.Address)
	}
	if strings.Join(to, ",") != "oncall@example.com,platform@example.com" || m.From.Address != "portfolio@example.com" {
		t.Errorf("from %v to %v", m.From, to)
	}
	if ct := strings.Join(m.Headers["Content-Type"], ""); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative (text and HTML)", ct)
	}
	for _, w := range []string{"BIGGEST CHANGES", "PRODUCTS, worst first", "DORA, 7 days", "INCIDENTS", "ALERTS", "https://status.example.com/digest/2026-11-30/"} {
		if !strings.Contains(m.Text, w) {
			t.Errorf("text part lacks %q", w)
		}
	}
	checkMailHTML(t, m.HTML)
	if got, _ := digest.LoadState(st); len(got.Deliveries) != 2 {
		t.Errorf("deliveries recorded: %+v", got.Deliveries)
	}
}

// checkMailHTML holds the HTML part to what renders in common mail clients: no script, no
// style sheet, no image or other remote resource, inline styles, tables for layout, every
// section present, every link into the site.
func checkMailHTML(t *testing.T, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	var tables, links, styled int
	var h1 string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "link", "img", "iframe", "object", "embed", "form", "svg", "video", "audio":
				t.Errorf("<%s> in the mail", n.Data)
			case "table":
				tables++
			case "h1":
				if n.FirstChild != nil {
					h1 = n.FirstChild.Data
				}
			}
			for _, a := range n.Attr {
				switch {
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("event handler %s=%q", a.Key, a.Val)
				case a.Key == "id":
					ids[a.Val] = true
				case a.Key == "style":
					styled++
					if strings.Contains(a.Val, "url(") {
						t.Errorf("a remote resource in a style: %q", a.Val)
					}
				case a.Key == "src" || a.Key == "background":
					t.Errorf("remote resource %s=%q", a.Key, a.Val)
				case a.Key == "href" && n.Data == "a":
					links++
					if !strings.HasPrefix(a.Val, "https://status.example.com/") {
						t.Errorf("link %q leaves the site", a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if h1 != "23 Nov – 30 Nov 2026" {
		t.Errorf("h1 %q", h1)
	}
	for _, id := range []string{"changes", "products", "dora", "incidents", "alerts"} {
		if !ids[id] {
			t.Errorf("no section %q", id)
		}
	}
	if tables < 8 || links < 20 || styled < 50 {
		t.Errorf("%d tables, %d links, %d styled elements: want a table layout with inline styles and links", tables, links, styled)
	}
}

// TestSlackWithinLimitsAt200Products builds the digest of a 200-product portfolio with the
// largest lists the config allows and holds the Slack message to Block Kit's limits; the Slack
// fake, which refuses what Slack refuses, accepts it.
func TestSlackWithinLimitsAt200Products(t *testing.T) {
	cfg := demo.Config(200)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for _, top := range []int{config.DefaultDigestTop, 25} {
		cfg.Digest.Top = top
		per := digest.ScheduleOf(cfg).Latest(now)
		d := digest.Compute(synthetic(cfg, per))
		if len(d.Products) != 200 || len(d.Incidents.List) < 200 {
			t.Fatalf("%d products, %d incidents in the digest", len(d.Products), len(d.Incidents.List))
		}
		msg := digest.SlackMessage(d)
		body, err := json.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		checkSlackLimits(t, body)
		// The products section links the ones it leaves out: at least 200 − top, more when
		// the section's 3,000 characters run out first.
		m := regexp.MustCompile(`#products\|… and (\d+) more`).FindStringSubmatch(string(body))
		if m == nil {
			m = []string{""}
		}
		if n, _ := strconv.Atoi(m[len(m)-1]); n < 200-top {
			t.Errorf("top %d: no link to the other products (%v)", top, m)
		}
		// The email at 200 products: capped lists, under Gmail's 102 KB clipping.
		html, err := digest.HTML(d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html, "<script") || strings.Contains(html, "<payments>") {
			t.Errorf("top %d: an incident title reached the email's HTML unescaped", top)
		}
		if len(html) > 100<<10 || !strings.Contains(html, fmt.Sprintf("… and %d more products", 200-top)) {
			t.Errorf("top %d: email HTML of %d bytes (want under 100 KB) with a link to the other products", top, len(html))
		}
		t.Logf("top %d: email HTML %.1f KB, text %.1f KB", top, float64(len(html))/1024, float64(len(digest.Text(d)))/1024)
		sl := fake.NewSlack(t)
		senders, _ := run.DigestSenders(&config.Config{Site: cfg.Site, NotificationChannels: config.NotificationChannels{
			Slack: &config.SlackChannel{WebhookURLEnv: "HOOK"}}}, run.ChannelOptions{Getenv: func(string) string { return sl.URL }})
		if len(senders) != 1 {
			t.Fatalf("senders %d", len(senders))
		}
		if _, err := senders[0].Send(context.Background(), d); err != nil {
			t.Errorf("top %d: Slack refused the digest: %v", top, err)
		}
	}
}

// synthetic is a hard week for every product of cfg: hourly checks with failures, traffic with
// errors, a deployment a day (some failed), and two incidents with long, hostile titles.
func synthetic(cfg *config.Config, per digest.Period) digest.Input {
	in := digest.Input{Config: cfg, Period: per}
	for i, p := range cfg.Products {
		pr := digest.ProductRecords{Product: p}
		for at := digest.Need(per); at.Before(per.End); at = at.Add(time.Hour) {
			h := at.Hour()
			snap := record.Snapshot{Time: at, Probe: &record.Probe{Code: 200, Ms: 100 + i + h}}
			if (h+i)%17 == 0 {
				snap.Probe = &record.Probe{Code: 503, Ms: 30, Err: "want status 200, got 503"}
			}
			snap.HTTP = &record.HTTPStats{Requests: 10000, Status5x: int64(i % 50), P50Ms: float64(50 + i), P95Ms: float64(200 + 3*i + h)}
			pr.Snapshots = append(pr.Snapshots, snap)
		}
		for d := 0; d < 14; d++ {
			at := per.PrevStart.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*time.Minute)
			outcome := "success"
			if (d+i)%5 == 0 {
				outcome = "failure"
			}
			pr.Deployments = append(pr.Deployments, record.Deployment{ID: fmt.Sprintf("run:%d%02d", i, d), SHA: fmt.Sprintf("%040d", i*100+d),
				Time: at, Outcome: outcome, Changes: []record.Change{{SHA: fmt.Sprintf("%040d", i*100+d), AuthorDate: at.Add(-3 * time.Hour)}}})
		}
		for k := 0; k < 2; k++ {
			opened := per.Start.Add(time.Duration(24*(k+1)+i%24) * time.Hour)
			inc := record.Incident{Number: 1000*i + k, Title: "<script>alert(1)</script>" + strings.Repeat("Checkout & <payments> | fail ", 12), CreatedAt: opened}
			if k == 0 {
				closed := opened.Add(90 * time.Minute)
				inc.ClosedAt = &closed
			}
			pr.Incidents = append(pr.Incidents, inc)
		}
		in.Products = append(in.Products, pr)
	}
	return in
}

func checkSlackLimits(t *testing.T, body []byte) {
	t.Helper()
	type text struct{ Type, Text string }
	var m struct {
		Text   string
		Blocks []struct {
			Type     string
			Text     *text
			Fields   []text
			Elements []text
		}
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Blocks) > digest.SlackMaxBlocks || len(m.Blocks) == 0 {
		t.Errorf("%d blocks, want 1 to %d", len(m.Blocks), digest.SlackMaxBlocks)
	}
	total := 0
	for i, b := range m.Blocks {
		if b.Text != nil {
			n := len([]rune(b.Text.Text))
			total += n
			if b.Type == "header" && n > digest.SlackMaxHeader {
				t.Errorf("block %d: header of %d characters", i, n)
			}
			if strings.Contains(b.Text.Text, "<payments>") {
				t.Errorf("block %d: an incident title reached Slack unescaped", i)
			}
			if b.Type == "section" && n > digest.SlackMaxSectionText {
				t.Errorf("block %d: section text of %d characters", i, n)
			}
		}
		if len(b.Fields) > 10 {
			t.Errorf("block %d: %d fields", i, len(b.Fields))
		}
		for _, f := range append(b.Fields, b.Elements...) {
			total += len([]rune(f.Text))
			if len([]rune(f.Text)) > digest.SlackMaxField {
				t.Errorf("block %d: a field of %d characters", i, len([]rune(f.Text)))
			}
		}
	}
	if total > digest.SlackMaxTotal {
		t.Errorf("%d characters in the blocks, want at most %d", total, digest.SlackMaxTotal)
	}
	t.Logf("%d blocks, %d characters", len(m.Blocks), total)
}
