// Command portfolio publishes an observability report for a portfolio of software products.
package main

import (
	"os"

	"github.com/portfolio-report/portfolio/generator/cli"
)

func main() {
	os.Exit((&cli.Command{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}).Main(os.Args[1:]))
}
