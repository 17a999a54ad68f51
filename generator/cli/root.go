// Package cli is the portfolio command line: one file per subcommand, sharing the common flags.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	portfolio "github.com/portfolio-report/portfolio"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/progress"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
)

// Exit codes, documented in the README.
const (
	ExitOK            = 0 // success
	ExitFailure       = 1 // the command failed
	ExitUsage         = 2 // bad flags, arguments or config
	ExitSourcesFailed = 3 // finished, but some source failed (its data is stale)
	ExitChanges       = 4 // healthchecks plan, repos plan, repair: changes are pending
)

// Command runs the portfolio CLI with its own streams and environment.
type Command struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string // nil: os.Getenv
	Stdin          io.Reader           // nil: os.Stdin (init --interactive reads it)
	// Sleep waits between the retries of every API call (nil: retry.Sleep); tests pass one
	// that returns at once.
	Sleep retry.Sleeper
	// Clock is the wall clock (nil: time.Now), against which a --now that would write data
	// stamped in the future is refused.
	Clock func() time.Time
}

// MaxNowAhead is how far --now may be ahead of the wall clock for a command that writes
// data/: a little, for clocks that disagree; more would stamp history in the future, where the
// next run at the right time could not append after it.
const MaxNowAhead = 5 * time.Minute

// exitError carries an exit code up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode attaches an exit code to err, unless err already carries one (the innermost code,
// set where the problem was understood, wins).
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code, err}
}

// app holds the common flags and what every subcommand derives from them.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	sleep          retry.Sleeper
	clock          func() time.Time // the wall clock

	configPath  string
	dataDir     string
	outDir      string
	nowFlag     string
	quiet       bool
	logFormat   string
	lockTimeout time.Duration

	// started is when the command began: --deadline counts from it.
	started time.Time

	now time.Time
	// demoClock says now is the demo data's as-of time (no --now was given).
	demoClock bool
	log       *slog.Logger
	// redactor knows every secret of the environment and, once loadConfig ran, of the config's
	// *_env fields; the log, the errors printed, data/ and the site go through it.
	redactor *redact.Redactor
}

// DefaultDeadline is --deadline's default: collecting stops after it, so that the scheduled job
// (report.yml's timeout-minutes leaves room for the steps after it) always commits its data.
const DefaultDeadline = 10 * time.Minute

// DefaultLockTimeout is --lock-timeout's default.
const DefaultLockTimeout = 5 * time.Minute

// Main parses args, runs the subcommand and returns the process exit code.
func (c *Command) Main(args []string) int {
	a := &app{stdout: c.Stdout, stderr: c.Stderr, getenv: c.Getenv, sleep: c.Sleep, clock: c.Clock, started: time.Now()}
	if a.getenv == nil {
		a.getenv = os.Getenv
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	root := a.rootCommand()
	root.SetArgs(args)
	if c.Stdin != nil {
		root.SetIn(c.Stdin)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := root.ExecuteContext(ctx)
	if _, _, ferr := root.Find(args); ferr != nil {
		// Find fails only on an unknown command, which cobra reports as a plain error.
		err = withCode(ExitUsage, err)
	}
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintf(a.stderr, "portfolio: %v\n", a.redactor.String(err.Error()))
	}
	return code
}

// errSilent is an error whose message was already printed.
var errSilent = errors.New("already reported")

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "portfolio",
		Short:         "Publish an observability report for a portfolio of software products",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setup()
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return withCode(ExitUsage, fmt.Errorf("%s: %w (see --help)", cmd.CommandPath(), err))
	})
	f := root.PersistentFlags()
	f.StringVar(&a.configPath, "config", "portfolio.json", "the portfolio config file")
	f.StringVar(&a.dataDir, "data", "data", "the data folder (history, committed to git)")
	f.StringVar(&a.outDir, "out", "public", "the folder the site is built into")
	f.StringVar(&a.nowFlag, "now", "", "the clock for everything, RFC 3339 (default: the current time)")
	f.BoolVar(&a.quiet, "quiet", false, "log warnings and errors only")
	f.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&a.lockTimeout, "lock-timeout", DefaultLockTimeout, "how long to wait for the data lock another run holds before giving up (exit 1); 0 waits as long as it takes")
	for _, sub := range []func() *cobra.Command{
		a.runCommand, a.collectCommand, a.buildCommand, a.doraCommand, a.alertCommand,
		a.publishCommand, a.serveCommand, a.validateCommand, a.demoCommand, a.versionCommand,
		a.healthchecksCommand, a.reposCommand, a.initCommand, a.doctorCommand, a.repairCommand,
		a.shardsCommand, a.digestCommand,
	} {
		root.AddCommand(sub())
	}
	usageArgs(root)
	return root
}

// usageArgs makes every argument error of cmd and its subcommands (cobra.NoArgs and the like
// return plain errors) a usage error, exit code 2.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			return withCode(ExitUsage, check(c, args))
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

// setup parses the common flags.
func (a *app) setup() error {
	level := slog.LevelInfo
	if a.quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	a.redactor = redact.New(nil, a.getenv)
	switch a.logFormat {
	case "text":
		a.log = slog.New(a.redactor.Handler(slog.NewTextHandler(a.stderr, opts)))
	case "json":
		a.log = slog.New(a.redactor.Handler(slog.NewJSONHandler(a.stderr, opts)))
	default:
		return withCode(ExitUsage, fmt.Errorf("--log-format: want text or json, got %q", a.logFormat))
	}
	if a.lockTimeout < 0 {
		return withCode(ExitUsage, fmt.Errorf("--lock-timeout: want a duration like 5m (0: wait as long as it takes), got %s", a.lockTimeout))
	}
	if a.nowFlag == "" {
		a.now = a.clock().UTC().Truncate(time.Second)
		// Demo data describes a fixed moment: show it as of then, not as hours of staleness.
		if m, err := store.Open(a.dataDir).Meta(); err == nil && !m.Rules().Clock.IsZero() {
			a.now, a.demoClock = m.Rules().Clock, true
			a.log.Info("demo data: the clock defaults to the demo's last snapshot (set --now to change)", "now", a.now.Format(time.RFC3339))
		}
	} else {
		t, err := time.Parse(time.RFC3339, a.nowFlag)
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("--now: want RFC 3339 like 2026-06-30T00:00:00Z, got %q", a.nowFlag))
		}
		a.now = t.UTC()
	}
	return nil
}

// checkNowForWrite refuses, with exit code 2, a --now more than MaxNowAhead ahead of the wall
// clock in a command that writes data/: history stamped in the future would sit before every
// later run's snapshot.
func (a *app) checkNowForWrite(cmd string) error {
	wall := a.clock().UTC()
	if a.nowFlag == "" || !a.now.After(wall.Add(MaxNowAhead)) {
		return nil
	}
	return withCode(ExitUsage, fmt.Errorf("%s: --now %s is %s ahead of the clock (%s): refusing to write data stamped in the future (at most %s ahead)",
		cmd, a.now.Format(time.RFC3339), a.now.Sub(wall).Round(time.Second), wall.Format(time.RFC3339), MaxNowAhead))
}

// loadConfig loads and validates --config; problems exit with code 2.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	a.redactor.AddConfig(cfg, a.getenv)
	return cfg, nil
}

func (a *app) store() *store.Store { return store.Open(a.dataDir) }

// runOptions are the pipeline's options from the common flags and cfg; each command adds its own.
func (a *app) runOptions(cfg *config.Config) run.Options {
	return run.Options{
		Config: cfg, Store: a.store(), Out: a.outDir, FS: portfolio.Files,
		Now: a.now, Getenv: a.getenv, Sleep: a.sleep, Redactor: a.redactor, Log: a.log, Progress: a.progress,
		LockTimeout: a.lockTimeout,
	}
}

// lockContext bounds ctx by --lock-timeout, for taking the data lock.
func (a *app) lockContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.lockTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.lockTimeout)
}

// deadlineFlag adds --deadline to cmd; the returned function gives the moment collecting stops.
func (a *app) deadlineFlag(cmd *cobra.Command) func() (time.Time, error) {
	var d time.Duration
	cmd.Flags().DurationVar(&d, "deadline", DefaultDeadline, "stop collecting this long after the start: unfinished sources are recorded as timed_out (exit 3) and what was collected is written")
	return func() (time.Time, error) {
		if d <= 0 {
			return time.Time{}, withCode(ExitUsage, fmt.Errorf("--deadline: want a positive duration like 10m, got %s", d))
		}
		return a.started.Add(d), nil
	}
}

// progress shows how collect goes on stderr (quiet: only GitHub Actions annotations).
func (a *app) progress(calls int) run.Progress {
	mode := progress.DetectMode(a.stderr, a.getenv)
	if a.quiet && mode != progress.GitHub {
		mode = progress.Quiet
	}
	return progress.New(a.stderr, mode, calls)
}

// usage maps a *run.UsageError to exit code 2, naming the flag at fault.
func usage(flag string, err error) error {
	var ue *run.UsageError
	if errors.As(err, &ue) {
		return withCode(ExitUsage, fmt.Errorf("%s: %w", flag, err))
	}
	return err
}
