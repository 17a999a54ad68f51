package cloudflarepages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// Pages error codes (wrangler pages/errors.ts).
const (
	codeUnknown      = 8000000 // retry creating the deployment
	codeUnauthorized = 8000013 // the upload JWT is bad or expired: get a new one
)

// call sends one request through client and names the step in its error. Retries are the
// caller's: each step of Direct Upload has its own rules (see retryOn).
func call(ctx context.Context, client *cloudflare.Client, op, method, endpoint string, body []byte, hdr http.Header) (cloudflare.Response, error) {
	res, err := client.Do(ctx, method, endpoint, body, hdr)
	if err != nil {
		return res, fmt.Errorf("%s: %w", op, err)
	}
	return res, nil
}

// apiError is the Cloudflare answer in err, if any.
func apiError(err error) (*cloudflare.APIError, bool) {
	var e *cloudflare.APIError
	return e, errors.As(err, &e)
}

// retryOn marks err retryable when it is an API failure that when says may pass (the wait
// the server asked for included), and leaves every other error final.
func retryOn(err error, when func(*cloudflare.APIError) bool) error {
	e, ok := apiError(err)
	if !ok || !when(e) {
		return err
	}
	return retry.Retryable(err, e.RetryAfter)
}

// anyFailure and transient are the two rules of retryOn most steps use.
func anyFailure(*cloudflare.APIError) bool  { return true }
func transient(e *cloudflare.APIError) bool { return e.Transient() }

// unauthorized says the upload JWT was refused: code 8000013, even under HTTP 200.
func unauthorized(err error) bool {
	e, ok := apiError(err)
	return ok && e.Has(codeUnauthorized)
}

// gatewayTimeout is Cloudflare's 524: the upload took too long at its edge.
func gatewayTimeout(err error) bool {
	e, ok := apiError(err)
	return ok && e.Status == 524
}

// extraAfter524 is the wait a 524 adds to the backoff: 5 s·2^g for the g-th one (from 0).
func extraAfter524(g int) time.Duration { return 5 * time.Second << min(g, 5) }
