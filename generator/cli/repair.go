package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// repairCommand checks every data file and, with --write, repairs the damaged snapshot logs.
func (a *app) repairCommand() *cobra.Command {
	var write bool
	cmd := &cobra.Command{
		Use:   "repair",
		Short: "Find damaged data files and show (or, with --write, make) the repair",
		Long: `repair reads every snapshot log and document in --data and lists each damaged one with
the file and line at fault and what it would do about it. Nothing changes without --write.

A snapshot log is repaired by keeping the lines that read as snapshots, in time order and
in the log's day, and dropping the others (garbage, lines out of order or of another day, a
last line without its newline, which goes to a .torn file). The file as it was is kept beside
it as <file>.damaged, so nothing is lost. A log written by a newer portfolio is not touched
(upgrade portfolio), nor is a damaged document (restore it from git: the command says how).

collect repairs a torn last line on its own; everything else waits for this command, and
until then only the damaged product is left out of collect, alert and the site.

Exit codes: 0 nothing damaged (or, with --write, everything repaired), 4 repairs pending
(run again with --write), 1 a file that this command cannot repair, or a failed repair.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st := a.store()
			if write {
				unlock, err := st.Lock(cmd.Context(), a.log)
				if err != nil {
					return withCode(ExitFailure, fmt.Errorf("repair: lock data: %w", err))
				}
				defer unlock()
			}
			problems, err := st.Check()
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("repair: %w", err))
			}
			if len(problems) == 0 {
				fmt.Fprintf(a.stdout, "repair: %s: no damaged file\n", a.dataDir)
				return nil
			}
			pending, unfixable, failed := 0, 0, 0
			for _, p := range problems {
				fmt.Fprintf(a.stdout, "%s: %s\n", p.Where(), p.What)
				switch {
				case p.Plan == "":
					unfixable++
					fmt.Fprintf(a.stdout, "  cannot repair: %s\n", p.Advice)
				case !write:
					pending++
					fmt.Fprintf(a.stdout, "  would %s\n", p.Plan)
				default:
					done, err := st.Repair(p)
					if err != nil {
						failed++
						fmt.Fprintf(a.stdout, "  repair failed: %v\n", err)
						continue
					}
					fmt.Fprintf(a.stdout, "  %s\n", done)
				}
			}
			switch {
			case unfixable+failed > 0:
				return withCode(ExitFailure, fmt.Errorf("repair: %d file(s) not repaired", unfixable+failed))
			case pending > 0:
				fmt.Fprintf(a.stdout, "%d file(s) to repair: run portfolio repair --write\n", pending)
				return withCode(ExitChanges, errSilent)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&write, "write", false, "make the repairs (the damaged files are kept as .damaged)")
	return cmd
}
