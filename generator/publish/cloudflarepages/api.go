package cloudflarepages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/portfolio-report/portfolio/generator/retry"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudflare/cloudflare-go"
)

// Pages error codes (wrangler pages/errors.ts).
const (
	codeUnknown      = 8000000 // retry creating the deployment
	codeUnauthorized = 8000013 // the upload JWT is bad or expired: get a new one
)

// fault is one failed API call, with what the retry rules look at. Its message never holds a
// token: it is built from the status, the v4 error codes and messages, and the op name.
type fault struct {
	op         string
	status     int // HTTP status; 0 when no response arrived
	codes      []int
	messages   []string
	retryAfter time.Duration // a 429's retry-after
	err        error         // transport or decoding error
}

func (f *fault) Error() string {
	var b strings.Builder
	b.WriteString(f.op)
	if f.status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", f.status)
	}
	for i, c := range f.codes {
		msg := ""
		if i < len(f.messages) {
			msg = f.messages[i]
		}
		fmt.Fprintf(&b, ": %d %s", c, msg)
	}
	if f.status == http.StatusTooManyRequests && f.retryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", f.retryAfter)
	}
	if f.err != nil && (f.status == 0 || f.status < 400) {
		fmt.Fprintf(&b, ": %v", f.err)
	}
	return b.String()
}

func (f *fault) Unwrap() error { return f.err }

func (f *fault) has(code int) bool {
	for _, c := range f.codes {
		if c == code {
			return true
		}
	}
	return false
}

// transient says whether repeating the call may work: no response, a malformed one, 429, 5xx.
func (f *fault) transient() bool {
	return f.status == 0 || f.status == http.StatusTooManyRequests || f.status >= 500 ||
		(f.status < 300 && f.err != nil)
}

// observed is what the transport saw of one call; the call wrapper passes it in the context.
type observed struct {
	sent       bool
	status     int
	retryAfter time.Duration
	codes      []int
	messages   []string
}

type observedKey struct{}

// observingTransport records each response's status, retry-after and (for errors) v4 error
// codes into the call's observed. cloudflare-go drops all three for 429 and 5xx answers, and
// the retry rules of Direct Upload (524, 429 with retry-after, 8000000 on a 5xx) need them.
type observingTransport struct {
	base http.RoundTripper
}

func (t observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	o, _ := req.Context().Value(observedKey{}).(*observed)
	if o != nil {
		o.sent = true
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || o == nil {
		return resp, err
	}
	o.status = resp.StatusCode
	o.retryAfter, _ = retry.After(resp.Header.Get("Retry-After"), time.Now())
	if resp.StatusCode >= 400 {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		var env cloudflare.Response
		if json.Unmarshal(body, &env) == nil {
			for _, e := range env.Errors {
				o.codes = append(o.codes, e.Code)
				o.messages = append(o.messages, e.Message)
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// apiClient makes single, unretried calls with cloudflare-go's Raw and turns every failure,
// including HTTP 200 with success:false, into a *fault. Retries are the caller's: each step of
// Direct Upload has its own rules.
type apiClient struct {
	api      *cloudflare.API
	requests *atomic.Int64
}

func newAPIClient(token, baseURL string, hc *http.Client, rps float64, requests *atomic.Int64) (*apiClient, error) {
	api, err := cloudflare.NewWithAPIToken(token,
		cloudflare.BaseURL(baseURL),
		cloudflare.HTTPClient(hc),
		cloudflare.UsingRateLimit(rps),
		// Zero retries: cloudflare-go's own retry ignores retry-after, treats 524 like any 5xx
		// and hides the status; the steps below follow wrangler's rules instead.
		cloudflare.UsingRetryPolicy(0, 0, 0),
		cloudflare.UserAgent("portfolio-report"),
	)
	if err != nil {
		return nil, err
	}
	return &apiClient{api: api, requests: requests}, nil
}

// call sends one request. body is JSON or multipart bytes (never an io.Reader, which
// cloudflare-go reads only once).
func (c *apiClient) call(ctx context.Context, op, method, endpoint string, body []byte, hdr http.Header) (json.RawMessage, error) {
	o := &observed{}
	var data interface{}
	if body != nil {
		data = body
	}
	r, err := c.api.Raw(context.WithValue(ctx, observedKey{}, o), method, endpoint, data, hdr)
	if o.sent {
		c.requests.Add(1)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", op, ctx.Err())
	}
	if err != nil || o.status >= 400 {
		return nil, &fault{op: op, status: o.status, codes: o.codes, messages: o.messages, retryAfter: o.retryAfter, err: err}
	}
	if !r.Success {
		f := &fault{op: op, status: o.status}
		for _, e := range r.Errors {
			f.codes = append(f.codes, e.Code)
			f.messages = append(f.messages, e.Message)
		}
		if len(f.codes) == 0 {
			f.messages = nil
			f.err = fmt.Errorf("success:false without errors")
		}
		return nil, f
	}
	return r.Result, nil
}
