package initconfig

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Prompter asks questions at a terminal, one line an answer. Use one per input: it reads
// ahead.
type Prompter struct {
	sc  *bufio.Scanner
	out io.Writer
}

// NewPrompter reads answers from in and writes questions to out.
func NewPrompter(in io.Reader, out io.Writer) *Prompter {
	return &Prompter{sc: bufio.NewScanner(in), out: out}
}

// Ask asks q, showing the default def, and returns the answer, or def for an empty one. It
// fails when the input ends.
func (pr *Prompter) Ask(q, def string) (string, error) {
	fmt.Fprintf(pr.out, "  %s [%s]: ", q, def)
	if !pr.sc.Scan() {
		if err := pr.sc.Err(); err != nil {
			return "", err
		}
		return "", errors.New("init: the input ended before every question was answered")
	}
	if a := strings.TrimSpace(pr.sc.Text()); a != "" {
		return a, nil
	}
	return def, nil
}

// Ask goes through the proposal with a person at a terminal, product by product: keep it or
// not, its id, its URL. An empty answer keeps what is proposed. A changed URL drops the zone
// and PostHog host guessed from the old one. It fails when the input ends early or no product
// is kept.
func Ask(pr *Prompter, p *Proposal) error {
	ask, out := pr.Ask, pr.out
	var docs []Product
	var reasons []ProductReasons
	taken := map[string]bool{}
	for i, d := range p.Document.Products {
		r := p.Products[i]
		fmt.Fprintf(out, "\n%s (%s)\n", d.ID, r.Repository)
		for _, why := range r.Reasons {
			fmt.Fprintf(out, "  · %s: %s\n", why.Field, why.Why)
		}
		keep, err := ask("keep this product? y/n", "y")
		if err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(keep), "n") {
			p.Skipped = append(p.Skipped, Skipped{r.Repository, "left out at the prompt"})
			continue
		}
		for {
			id, err := ask("id", d.ID)
			if err != nil {
				return err
			}
			switch {
			case !config.ValidProductID(id):
				fmt.Fprintf(out, "  an id is a lowercase slug of at most %d characters like payments-api\n", config.MaxProductIDLength)
				continue
			case taken[id]:
				fmt.Fprintf(out, "  %s is taken by another product\n", id)
				continue
			}
			d.ID, r.ID, taken[id] = id, id, true
			break
		}
		for {
			u, err := ask("url (- for none)", orDash(d.URL))
			if err != nil {
				return err
			}
			if u == "-" {
				u = ""
			}
			if u != "" && hostOf(u) == "" || u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				fmt.Fprintln(out, "  a url is an absolute http(s) URL like https://shop.example.com")
				continue
			}
			if u != d.URL {
				d.URL = u
				d.HealthEndpoint = ""
				if u != "" {
					d.HealthEndpoint = "/"
				}
				r.Reasons = append(r.Reasons, Reason{Field: "url", Why: "set at the prompt"})
				if d.Cloudflare != nil || d.PostHog != nil {
					d.Cloudflare, d.PostHog = nil, nil
					r.Reasons = append(r.Reasons, Reason{Field: "url", Why: "the zone and PostHog host were guessed from the old url: dropped (run init again to guess them for this one)"})
				}
			}
			break
		}
		docs, reasons = append(docs, d), append(reasons, r)
	}
	if len(docs) == 0 {
		return errors.New("init: no product kept")
	}
	p.Document.Products, p.Products = docs, reasons
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
