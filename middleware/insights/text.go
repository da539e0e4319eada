package insights

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the queries kept as a plain-text table, the most costly
// by total time first, at most limit of them (0: all): calls, errors,
// total, mean, p50, p95 and p99 in milliseconds, rows returned plus
// affected, N+1 reports, and the summary. A summary's line breaks and tabs
// are written as spaces, so each query is one line.
func (i *Insights) WriteText(w io.Writer, limit int) error {
	queries := i.Queries()
	if limit > 0 && len(queries) > limit {
		queries = queries[:limit]
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "calls\terrors\ttotal_ms\tmean_ms\tp50_ms\tp95_ms\tp99_ms\trows\tn+1\t\tsummary")
	flat := strings.NewReplacer("\n", " ", "\r", " ", "\t", " ")
	for _, q := range queries {
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t\t%s\n",
			q.Calls, q.Errors, ms(q.Total), ms(q.Mean), ms(q.P50), ms(q.P95), ms(q.P99),
			q.RowsReturned+q.RowsAffected, q.NPlusOne, flat.Replace(q.Summary))
	}
	return tw.Flush()
}
