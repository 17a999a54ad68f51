package probe_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source/probe"
)

func product(url string, pc config.Probe) config.Product {
	if pc.Method == "" {
		pc.Method = "GET"
	}
	if pc.ExpectedStatus == 0 {
		pc.ExpectedStatus = 200
	}
	if pc.TimeoutSeconds == 0 {
		pc.TimeoutSeconds = 5
	}
	return config.Product{ID: "api", URL: url, HealthEndpoint: "/healthz", Probe: pc}
}

func TestProbe(t *testing.T) {
	var flaky atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/ok/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("/down/healthz", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/body/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"degraded"}`)) })
	mux.HandleFunc("/slow/healthz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
			// The client gave up: abort instead of answering 200 to a closed connection.
			panic(http.ErrAbortHandler)
		}
	})
	mux.HandleFunc("/flaky/healthz", func(w http.ResponseWriter, r *http.Request) {
		if flaky.Add(1) == 1 {
			http.Error(w, "blip", http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/head/healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			http.Error(w, "want HEAD", http.StatusMethodNotAllowed)
		}
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	// A port nobody listens on: listen, note the address, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()

	tests := []struct {
		name     string
		client   *http.Client
		p        config.Product
		wantCode int
		wantErr  string // "" = probe succeeded
	}{
		{"ok with expected body", srv.Client(), product(srv.URL+"/ok", config.Probe{ExpectedBody: `"ok"`}), 200, ""},
		{"wrong status", srv.Client(), product(srv.URL+"/down", config.Probe{}), 503, "wrong status 503, want 200"},
		{"expected status other than 200", srv.Client(), product(srv.URL+"/down", config.Probe{ExpectedStatus: 503}), 503, ""},
		{"wrong body", srv.Client(), product(srv.URL+"/body", config.Probe{ExpectedBody: `"ok"`}), 200, `body lacks "\"ok\""`},
		{"slow", srv.Client(), product(srv.URL+"/slow", config.Probe{TimeoutSeconds: 1}), 0, "timeout after 1s"},
		{"refused", srv.Client(), product(refused, config.Probe{}), 0, "connection refused"},
		{"TLS certificate not trusted", &http.Client{}, product(srv.URL+"/ok", config.Probe{}), 0, "TLS error: "},
		{"plain HTTP to a TLS port", srv.Client(), product(strings.Replace(srv.URL, "https", "http", 1)+"/ok", config.Probe{}), 400, "wrong status 400"},
		{"retried once before failing", srv.Client(), product(srv.URL+"/flaky", config.Probe{}), 200, ""},
		{"HEAD method", srv.Client(), product(srv.URL+"/head", config.Probe{Method: "HEAD"}), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := probe.New(tt.client, nil)
			var waits []time.Duration
			s.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			res, err := s.Collect(context.Background(), tt.p, time.Time{})
			if len(waits) > 1 || len(waits) == 1 && waits[0] != 2*time.Second {
				t.Errorf("waits %v, want at most one retry, after 2 s", waits)
			}
			if err != nil {
				t.Fatalf("a failed probe is data, not a source error: %v", err)
			}
			pr := res.Snapshot.Probe
			if pr == nil {
				t.Fatal("no probe recorded")
			}
			if pr.Code != tt.wantCode {
				t.Errorf("code = %d, want %d", pr.Code, tt.wantCode)
			}
			switch {
			case tt.wantErr == "" && pr.Err != "":
				t.Errorf("err = %q, want success", pr.Err)
			case tt.wantErr != "" && !strings.HasPrefix(pr.Err, tt.wantErr):
				t.Errorf("err = %q, want it to start with %q", pr.Err, tt.wantErr)
			}
			if strings.Contains(pr.Err, "127.0.0.1") {
				t.Errorf("err repeats the URL: %q", pr.Err)
			}
			if pr.Code != 0 && (pr.TTFB > pr.Ms || pr.Ms < 0) {
				t.Errorf("timings inconsistent: %+v", pr)
			}
		})
	}
}

func TestProbeMeasuresTheSplit(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res, err := probe.New(srv.Client(), nil).Collect(context.Background(), product(srv.URL, config.Probe{}), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	pr := res.Snapshot.Probe
	if pr.TTFB < 20 || pr.Ms < pr.TTFB || pr.Conn > pr.TTFB || pr.TLS > pr.TTFB {
		t.Errorf("split = %+v, want ttfb >= 20ms and conn, tls <= ttfb <= total", pr)
	}
}

func TestProbeSkips(t *testing.T) {
	tests := []struct {
		name string
		p    config.Product
		want string
	}{
		{"no url", config.Product{ID: "a", HealthEndpoint: "/h"}, "no url or health_endpoint configured"},
		{"no endpoint", config.Product{ID: "a", URL: "https://a.test"}, "no url or health_endpoint configured"},
		{"disabled", config.Product{ID: "a", URL: "https://a.test", HealthEndpoint: "/h", Probe: config.Probe{Disabled: true}}, "probe disabled in config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := probe.New(nil, nil).Collect(context.Background(), tt.p, time.Time{})
			if !errors.As(err, new(*skip.Error)) || err.Error() != tt.want {
				t.Errorf("err = %v, want skipped %q", err, tt.want)
			}
		})
	}
}

func TestProbeRejectsNonHTTPURL(t *testing.T) {
	_, err := probe.New(nil, nil).Collect(context.Background(), config.Product{ID: "a", URL: "ftp://x.test", HealthEndpoint: "/h"}, time.Time{})
	if err == nil || errors.As(err, new(*skip.Error)) {
		t.Errorf("err = %v, want a config error", err)
	}
}

func TestProbeCancelledIsASourceError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := probe.New(srv.Client(), nil).Collect(ctx, product(srv.URL, config.Probe{}), time.Time{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v: running out of the source's time must not count as the product being down", err)
	}
}
