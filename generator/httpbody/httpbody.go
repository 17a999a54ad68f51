// Package httpbody bounds what an external API may answer: a body longer than its API's cap
// is an error naming the cap, never silently cut and never read whole into memory first, and
// JSON is decoded as it streams. Each client states its API's cap (docs/collect.md, "The APIs
// as portfolio reads them", lists them with the reason for each size).
package httpbody

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// TooLargeError is an answer longer than its cap.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("answer larger than %d MiB, the most this API's answers may be", e.Limit>>20)
}

// Cap returns a reader of r that fails with a *TooLargeError once more than limit bytes came.
func Cap(r io.Reader, limit int64) io.Reader { return &capped{r: r, left: limit, limit: limit} }

type capped struct {
	r           io.Reader
	left, limit int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, &TooLargeError{Limit: c.limit}
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1] // one byte past the cap tells a body of exactly limit from a longer one
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n + int(c.left), &TooLargeError{Limit: c.limit}
	}
	return n, err
}

// DecodeJSON decodes the one JSON value r holds, reading at most limit bytes, as it streams.
// Anything but white space after the value is an error.
func DecodeJSON(r io.Reader, limit int64, v any) error {
	dec := json.NewDecoder(Cap(r, limit))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return err
		}
		return errors.New("invalid character after the JSON value")
	}
	return nil
}

// Transport caps the body of every answer it carries, for clients that read bodies themselves
// (go-github decodes from resp.Body).
type Transport struct {
	Base  http.RoundTripper // default http.DefaultTransport
	Limit int64
}

func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	resp.Body = &cappedBody{Reader: Cap(resp.Body, t.Limit), Closer: resp.Body}
	return resp, nil
}

type cappedBody struct {
	io.Reader
	io.Closer
}
