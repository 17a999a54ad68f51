package email_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify/email"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func notification(kind string, d alert.Delivery) alert.Notification {
	a := alert.Alert{Fingerprint: alert.Fingerprint("storefront", alert.RuleProbeDown, ""), Product: "storefront",
		Rule: alert.RuleProbeDown, Severity: alert.Critical, Status: alert.Firing, FiringSince: t0,
		Value: 3, Threshold: 2, Unit: "runs", Summary: "health probe failed 3 run(s) in a row: <script>alert(1)</script>",
		Links: []alert.Link{{Name: "run", URL: "https://github.com/acme/shop/actions/runs/9"}}}
	at := t0
	if kind == alert.NotifyResolved {
		a.Status, a.ResolvedAt, a.Value, a.Summary = alert.Resolved, t0.Add(time.Hour), 0, "health probe failed 0 run(s) in a row (alert at 2)"
		at = a.ResolvedAt
	}
	return alert.Notification{Channel: alert.ChannelEmail, Kind: kind, Alert: a, Delivery: d, ProductName: "Storefront",
		ProductURL: "https://status.example.com/products/storefront/", At: at}
}

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		in      string
		want    email.Server
		wantErr string
	}{
		{in: "smtp://user:pa%3Ass@mail.example.com:587", want: email.Server{Host: "mail.example.com", Port: 587, Username: "user", Password: "pa:ss", STARTTLS: mail.TLSMandatory}},
		{in: "smtp://mail.example.com", want: email.Server{Host: "mail.example.com", Port: 587, STARTTLS: mail.TLSOpportunistic}},
		{in: "smtps://user:pw@mail.example.com", want: email.Server{Host: "mail.example.com", Port: 465, Username: "user", Password: "pw", Implicit: true}},
		{in: "smtp://127.0.0.1:1025", want: email.Server{Host: "127.0.0.1", Port: 1025, STARTTLS: mail.TLSOpportunistic}},
		{in: "smtp://u:p@127.0.0.1:1025?starttls=none", want: email.Server{Host: "127.0.0.1", Port: 1025, Username: "u", Password: "p", STARTTLS: mail.NoTLS}},
		{in: "http://user:SECRET@mail.example.com", wantErr: `scheme "http"`},
		{in: "smtp://user:SECRET@mail.example.com:99999", wantErr: "bad port"},
		{in: "smtp://user:SECRET@mail.example.com?starttls=maybe", wantErr: "starttls"},
		{in: "smtp://user:SECRET@:25", wantErr: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := email.ParseSMTPURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSubjectThreads(t *testing.T) {
	for kind, want := range map[string]string{
		alert.NotifyFiring:   "[critical] Storefront: probe down — firing",
		alert.NotifyRepeat:   "Re: [critical] Storefront: probe down — still firing",
		alert.NotifyResolved: "Re: [critical] Storefront: probe down — resolved",
	} {
		if got := email.Subject(notification(kind, alert.Delivery{})); got != want {
			t.Errorf("%s: subject %q, want %q", kind, got, want)
		}
	}
}

func TestMailpitEndToEnd(t *testing.T) {
	mp := fake.StartMailpit(t)
	en, err := email.New(email.Config{SMTPURL: "smtp://" + mp.SMTP, From: "portfolio@example.com",
		Recipients: []string{"oncall@example.com", "platform@example.com"}, SiteTitle: "Acme portfolio",
		SiteURL: "https://status.example.com"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fire, err := en.Notify(ctx, notification(alert.NotifyFiring, alert.Delivery{}))
	if err != nil {
		t.Fatalf("firing mail: %v", err)
	}
	wantID := email.FiringMessageID(notification("", alert.Delivery{}).Alert, "status.example.com")
	if fire.MessageID != wantID {
		t.Errorf("receipt Message-ID %q, want %q", fire.MessageID, wantID)
	}
	d := alert.Delivery{At: t0, State: alert.Firing, Episode: t0, MessageID: fire.MessageID}
	if _, err := en.Notify(ctx, notification(alert.NotifyResolved, d)); err != nil {
		t.Fatalf("resolve mail: %v", err)
	}

	msgs := mp.Messages(t)
	if len(msgs) != 2 {
		t.Fatalf("%d mails, want 2", len(msgs))
	}
	firing, resolved := msgs[0], msgs[1]
	if firing.Subject != "[critical] Storefront: probe down — firing" || resolved.Subject != "Re: [critical] Storefront: probe down — resolved" {
		t.Errorf("subjects %q, %q", firing.Subject, resolved.Subject)
	}
	for _, m := range msgs {
		var to []string
		for _, a := range m.To {
			to = append(to, a.Address)
		}
		if strings.Join(to, ",") != "oncall@example.com,platform@example.com" || m.From.Address != "portfolio@example.com" {
			t.Errorf("%s: from %v to %v", m.Subject, m.From, to)
		}
		if m.Text == "" || m.HTML == "" {
			t.Errorf("%s: text part %d bytes, HTML part %d bytes: want both", m.Subject, len(m.Text), len(m.HTML))
		}
	}
	if firing.MessageID != fire.MessageID {
		t.Errorf("firing Message-ID %q, receipt %q", firing.MessageID, fire.MessageID)
	}
	for _, h := range []string{"In-Reply-To", "References"} {
		if got := resolved.Headers[h]; len(got) != 1 || got[0] != "<"+firing.MessageID+">" {
			t.Errorf("resolve mail %s = %q, want <%s>", h, got, firing.MessageID)
		}
		if got := firing.Headers[h]; len(got) != 0 {
			t.Errorf("firing mail has %s %q", h, got)
		}
	}
	if !strings.Contains(firing.Text, "Value:       3 runs") || !strings.Contains(firing.Text, "Product page: https://status.example.com/products/storefront/") ||
		!strings.Contains(firing.Text, "Run:          https://github.com/acme/shop/actions/runs/9") {
		t.Errorf("text part:\n%s", firing.Text)
	}
	if !strings.Contains(firing.HTML, `<a href="https://github.com/acme/shop/actions/runs/9">run</a>`) {
		t.Errorf("HTML part lacks the run link:\n%s", firing.HTML)
	}
	if strings.Contains(firing.HTML, "<script>") || !strings.Contains(firing.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part does not escape the summary:\n%s", firing.HTML)
	}
	if !strings.Contains(resolved.Text, "State:       resolved") {
		t.Errorf("resolve text part:\n%s", resolved.Text)
	}
}

func TestMailpitWithCredentials(t *testing.T) {
	mp := fake.StartMailpit(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	en, err := email.New(email.Config{SMTPURL: "smtp://alerts:SECRETpw@" + mp.SMTP + "?starttls=none", From: "portfolio@example.com",
		Recipients: []string{"oncall@example.com"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := en.Notify(context.Background(), notification(alert.NotifyFiring, alert.Delivery{})); err != nil {
		t.Fatalf("send with AUTH over a plain local connection: %v", err)
	}
	if msgs := mp.Messages(t); len(msgs) != 1 {
		t.Errorf("%d mails, want 1", len(msgs))
	}
}

func TestSendErrorsAreRetryableAndKeepThePasswordOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	en, err := email.New(email.Config{SMTPURL: "smtp://alerts:SECRETpw@" + addr + "?starttls=none", From: "portfolio@example.com",
		Recipients: []string{"oncall@example.com"}, Timeout: 2 * time.Second}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = en.Notify(context.Background(), notification(alert.NotifyFiring, alert.Delivery{}))
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "SECRETpw") {
		t.Errorf("error leaks the password: %v", err)
	}
	if _, ok := retry.IsRetryable(err); !ok {
		t.Errorf("a refused connection should be retryable: %v", err)
	}
}

func FuzzParseSMTPURL(f *testing.F) {
	for _, s := range []string{"smtp://u:p@h:587", "smtps://h", "smtp://h:1025?starttls=none", "smtp://u:p@[::1]:25", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := email.ParseSMTPURL(s)
		if err != nil {
			if _, perr := email.ParseSMTPURL(s); perr == nil {
				t.Fatal("not deterministic")
			}
			if srv != (email.Server{}) {
				t.Errorf("an error with a server: %+v", srv)
			}
			return
		}
		if srv.Host == "" || srv.Port <= 0 || srv.Port > 65535 {
			t.Errorf("accepted %q as %+v", s, srv)
		}
		if srv.Username != "" && !srv.Implicit && srv.STARTTLS == mail.TLSOpportunistic && !strings.Contains(s, "starttls=") {
			t.Errorf("credentials without mandatory TLS for %q", s)
		}
	})
}
