package insights

import (
	"cmp"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-databases/databases/middleware"
)

// The HTML page of Handler. Its template is made of sections: "page" lays
// out the document, "header" names the databases, and "sections" lists the
// sections of the body in order, each a template of its own ("queries").
// A section is added by defining its template and naming it in "sections",
// with what it shows in pageData.

// pageData is what the HTML page shows.
type pageData struct {
	Title     string   // what the queries ran on
	Databases []string // each database, when there are several
	Stats     Stats
	Sort      string
	Limit     int
	Rows      []pageRow
	Pool      *Pool // the Connections table (connections.go); nil: none
}

// pageRow is a query as the page shows it.
type pageRow struct {
	Query
	Classes []class // errors by class, the most frequent first
	Hist    histogramDrawing
}

// class is one error class of a query and its count.
type class struct {
	Name  string
	Count uint64
}

func newPageData(i *Insights, by string, limit int, queries []Query) pageData {
	dbs := i.Databases()
	d := pageData{Title: title(dbs), Stats: i.Stats(), Sort: by, Limit: limit, Rows: make([]pageRow, len(queries))}
	if len(dbs) > 1 {
		for _, db := range dbs {
			d.Databases = append(d.Databases, describe(db))
		}
	}
	for k, q := range queries {
		d.Rows[k] = pageRow{Query: q, Classes: classes(q.ErrorsByClass), Hist: drawHistogram(q.Histogram)}
	}
	return d
}

// title names what the queries ran on: "Queries on shop (postgres,
// db.internal:5432)", "… and 2 more databases".
func title(dbs []middleware.Database) string {
	switch len(dbs) {
	case 0:
		return "Queries"
	case 1:
		return "Queries on " + describe(dbs[0])
	}
	return fmt.Sprintf("Queries on %s and %d more databases", describe(dbs[0]), len(dbs)-1)
}

// describe names a database: its name or file, backend and host.
func describe(db middleware.Database) string {
	name := cmpOr(db.Namespace, "(default database)")
	var where []string
	where = append(where, db.Dialect)
	if db.Address != "" {
		host := db.Address
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		if db.Port != 0 {
			host += ":" + strconv.Itoa(db.Port)
		}
		where = append(where, host)
	}
	if db.Replica {
		where = append(where, "replica")
	}
	return name + " (" + strings.Join(where, ", ") + ")"
}

func cmpOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// classes orders a query's errors by class, the most frequent first.
func classes(byClass map[string]uint64) []class {
	out := make([]class, 0, len(byClass))
	for _, name := range slices.Sorted(maps.Keys(byClass)) {
		out = append(out, class{name, byClass[name]})
	}
	slices.SortStableFunc(out, func(a, b class) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// histogramDrawing is a latency histogram in SVG units: its bars above an
// axis labelled with the lowest and highest latency drawn.
type histogramDrawing struct {
	Bars      []bar
	Width     int    // of the bars, where the axis ends
	Low, High string // the axis' labels
}

// bar is one bar of a latency histogram, in SVG units.
type bar struct {
	X, Y, W, H int
	Title      string
}

// Size of a histogram's drawing: bars of at most barsHeight above the
// axis, labels below it.
const (
	svgWidth   = 160
	barsHeight = 26
	svgHeight  = 40
	maxBars    = 32
)

// drawHistogram draws counts from the first bucket with a run to the last,
// joining neighbouring buckets so that there are at most maxBars bars.
func drawHistogram(counts []uint64) histogramDrawing {
	first, last := -1, -1
	for i, c := range counts {
		if c > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return histogramDrawing{}
	}
	per := (last - first + maxBars) / maxBars // buckets per bar
	var sums []uint64
	var top uint64
	for i := first; i <= last; i += per {
		var s uint64
		for j := i; j < i+per && j <= last; j++ {
			s += counts[j]
		}
		sums = append(sums, s)
		top = max(top, s)
	}
	w := svgWidth / len(sums)
	h := histogramDrawing{Bars: make([]bar, len(sums))}
	for k, s := range sums {
		height := int(s * barsHeight / top)
		if s > 0 {
			height = max(height, 1)
		}
		lo, _ := HistogramBounds(first + k*per)
		_, hi := HistogramBounds(min(first+(k+1)*per, last+1) - 1)
		h.Bars[k] = bar{X: k * w, Y: barsHeight - height, W: max(w-1, 1), H: height,
			Title: short(lo) + "–" + short(hi) + ": " + strconv.FormatUint(s, 10)}
	}
	lo, _ := HistogramBounds(first)
	_, hi := HistogramBounds(last)
	h.Low, h.High, h.Width = short(lo), short(hi), len(sums)*w
	return h
}

// short writes a latency in two or three significant digits: 840µs, 12ms.
func short(d time.Duration) string {
	f := func(v float64, unit string) string { return strconv.FormatFloat(v, 'g', 3, 64) + unit }
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return f(float64(d)/1e3, "µs")
	case d < time.Second:
		return f(float64(d)/1e6, "ms")
	}
	return f(d.Seconds(), "s")
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"arr":  func(v ...any) []any { return v },
	"ms":   func(d time.Duration) string { return strconv.FormatFloat(ms(d), 'f', 3, 64) },
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>databases: {{.Title}}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1em; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.1em; margin: 1em 0 .3em; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
th { text-align: left; background: #f4f4f4; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.q { font-family: ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: break-word; word-break: normal; min-width: 20em; max-width: 50em; }
td.c { font-family: ui-monospace, monospace; white-space: nowrap; }
th a { color: inherit; }
th[aria-sort] a { font-weight: bold; text-decoration: none; }
svg rect { fill: #4a7fb5; }
svg line { stroke: #666; stroke-width: 1; }
svg text { font: 9px system-ui, sans-serif; fill: #444; }
.bad { color: #b00; }
.note { color: #555; }
</style>
</head>
<body>
{{template "header" .}}
{{template "sections" .}}
</body>
</html>
{{define "sections"}}{{template "queries" .}}{{template "connections" .Pool}}{{end}}
{{define "header"}}<h1 id="title">{{.Title}}</h1>
{{- if .Databases}}
<ul id="databases">{{range .Databases}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
<p id="stats" class="note">{{.Stats.Queries}} queries kept (at most {{.Stats.MaxQueries}}); {{.Stats.Evicted}} evicted to make room; {{.Stats.NPlusOne}} N+1 reports. Latencies in milliseconds; a query lasts until its rows are closed.</p>
{{- end}}
{{define "queries"}}<section id="queries-section">
<h2>Queries</h2>
<table id="queries">
<thead><tr>
<th>Query</th>
{{- template "head" (arr . "calls" "Calls")}}
{{- template "head" (arr . "errors" "Errors")}}
<th>Error classes</th>
{{- template "head" (arr . "total" "Total")}}
{{- template "head" (arr . "mean" "Mean")}}
<th>p50</th><th>p95</th>
{{- template "head" (arr . "p99" "p99")}}
{{- template "head" (arr . "returned" "Rows returned")}}
{{- template "head" (arr . "affected" "Rows affected")}}
<th>N+1</th><th>Latency</th><th>Last seen (UTC)</th>
</tr></thead>
<tbody>
{{- range .Rows}}
<tr>
<td class="q">{{.Summary}}</td>
<td class="n">{{.Calls}}</td>
<td class="n{{if .Errors}} bad{{end}}">{{.Errors}}</td>
<td class="c">{{range $k, $c := .Classes}}{{if $k}}<br>{{end}}<span class="bad">{{$c.Name}}</span> × {{$c.Count}}{{end}}</td>
<td class="n">{{ms .Total}}</td>
<td class="n">{{ms .Mean}}</td>
<td class="n">{{ms .P50}}</td>
<td class="n">{{ms .P95}}</td>
<td class="n">{{ms .P99}}</td>
<td class="n">{{.RowsReturned}}</td>
<td class="n">{{.RowsAffected}}</td>
<td class="n{{if .NPlusOne}} bad{{end}}">{{.NPlusOne}}</td>
<td>{{template "histogram" .Hist}}</td>
<td class="n">{{when .LastSeen}}</td>
</tr>
{{- end}}
</tbody>
</table>
</section>
{{- end}}
{{define "histogram"}}<svg width="160" height="40" viewBox="0 0 160 40" role="img" aria-label="latency histogram{{if .Bars}} from {{.Low}} to {{.High}}{{end}}">
{{- range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Title}}</title></rect>{{end}}
{{- if .Bars}}<line x1="0" y1="26.5" x2="{{.Width}}" y2="26.5"></line><line x1="0.5" y1="26" x2="0.5" y2="30"></line><line x1="{{.Width}}" y1="26" x2="{{.Width}}" y2="30"></line><text x="0" y="38">{{.Low}}</text><text x="{{.Width}}" y="38" text-anchor="end">{{.High}}</text>{{end -}}
</svg>{{end}}
{{define "head"}}{{$d := index . 0}}{{$key := index . 1}}<th{{if eq $d.Sort $key}} aria-sort="descending"{{end}}><a href="?sort={{$key}}{{if ne $d.Limit 100}}&amp;limit={{$d.Limit}}{{end}}">{{index . 2}}{{if eq $d.Sort $key}} ▼{{end}}</a></th>{{end}}
`))
