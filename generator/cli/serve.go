package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	portfolio "github.com/portfolio-report/portfolio"
	"github.com/portfolio-report/portfolio/generator/site"
)

func (a *app) serveCommand() *cobra.Command {
	var addr string
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Build the site and preview it on localhost, rebuilding on changes",
		Long: `serve builds the site into --out and serves it on --addr, answering like Cloudflare Pages
(folders with index.html, 404.html for missing pages, the headers of _headers, text compressed
with brotli or gzip as the browser accepts). It rebuilds
when anything in --data, the config file, templates/ or static/ changes (checked every
--poll). Templates and static files are read from ./templates and ./static when they exist,
so edits show without recompiling; otherwise the embedded ones are used.

Without --now each rebuild uses the current time (for demo data, the demo's last snapshot).`,
		Example: `  portfolio serve
  portfolio serve --addr 127.0.0.1:8080 --now 2026-06-30T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("serve: %w", err))
			}
			return a.serve(cmd.Context(), ln, poll)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "localhost:3000", "address to listen on")
	cmd.Flags().DurationVar(&poll, "poll", time.Second, "how often to look for changes")
	return cmd
}

// serve builds, serves on ln until ctx ends, and rebuilds on changes.
func (a *app) serve(ctx context.Context, ln net.Listener, poll time.Duration) error {
	var fsys fs.FS = portfolio.Files
	watched := []string{a.dataDir, a.configPath}
	if isDir("templates") && isDir("static") {
		fsys = os.DirFS(".")
		watched = append(watched, "templates", "static")
	} else {
		a.log.Info("serving the embedded templates and static files: ./templates and ./static not found")
	}
	build := func() error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		now := a.now
		if a.nowFlag == "" && !a.demoClock {
			now = time.Now().UTC().Truncate(time.Second)
		}
		start := time.Now()
		res, err := site.Build(ctx, site.Options{Config: cfg, Store: a.store(), Out: a.outDir, Now: now, FS: fsys, Log: a.log, Redactor: a.redactor})
		if err != nil {
			return err
		}
		a.log.Info("site built", "out", a.outDir, "pages", res.Pages, "files", res.Files, "bytes", res.Bytes,
			"took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	if err := build(); err != nil {
		ln.Close()
		return err
	}
	last := stamp(watched)

	srv := &http.Server{Handler: site.Handler(a.outDir), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.stdout, "Serving %s on http://%s/ (Ctrl-C to stop)\n", a.outDir, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shut)
			return nil
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return withCode(ExitFailure, fmt.Errorf("serve: %w", err))
		case <-tick.C:
			s := stamp(watched)
			if s == last {
				continue
			}
			last = s
			if err := build(); err != nil {
				// Keep serving the last good site; the next change tries again.
				a.log.Error("rebuild failed; serving the previous site", "err", err)
			}
		}
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// changeStamp summarises the watched files: a change to any file's size or mtime, or a file
// added or removed, changes it. Polling needs no new dependency and works on every OS.
type changeStamp struct {
	files int
	size  int64
	mtime int64 // sum of modification times, in ns
}

func stamp(paths []string) changeStamp {
	var s changeStamp
	for _, root := range paths {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != root && len(d.Name()) > 0 && d.Name()[0] == '.' {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Name() == ".lock" {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			s.files++
			s.size += fi.Size()
			s.mtime += fi.ModTime().UnixNano()
			return nil
		})
	}
	return s
}
