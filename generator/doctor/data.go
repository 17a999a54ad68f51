package doctor

import (
	"fmt"

	"github.com/portfolio-report/portfolio/generator/store"
)

// checkData warns when the data folder still holds the template's demo history: a real run
// does not collect into it (demo and real data are never mixed).
func checkData(o Options) Check {
	c := Check{Name: "data folder " + o.DataDir}
	if o.DataDir == "" {
		c.Status, c.Detail = Skip, "no data folder given"
		return c
	}
	m, err := store.Open(o.DataDir).Meta()
	switch {
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "the data folder cannot be read: restore it from git (git checkout -- " + o.DataDir + ")"
	case m.Demo():
		c.Status = Warn
		c.Detail = fmt.Sprintf("demo data (written by portfolio demo, as of %s): the report shows it and collects nothing into it", m.AsOf.Format("2006-01-02"))
		c.Fix = "remove it before the first real run: portfolio init --org ORG --write (or git rm -r --quiet " + o.DataDir + "/snapshots " + o.DataDir + "/products " + o.DataDir + "/alerts.json " + o.DataDir + "/meta.json)"
	default:
		c.Status, c.Detail = OK, "no demo data"
	}
	return c
}
