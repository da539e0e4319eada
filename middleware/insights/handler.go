package insights

import (
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Handler returns an http.Handler that shows the queries kept, in the
// spirit of net/http/pprof and expvar; it is not mounted anywhere by
// itself:
//
//	mux.Handle("/debug/databases", ins.Handler())
//
// It serves an HTML page by default: a table of the queries with their
// calls, errors, latencies, rows and a latency histogram drawn in inline
// SVG, sortable by a click on a column's header (a link: the page has no
// script and loads nothing else). With ?format=json it serves the same
// data as a JSON object whose "queries" array holds one object per query
// with the keys summary, calls, errors, rows (returned plus affected),
// total_ms, mean_ms, p50_ms, p95_ms, p99_ms, max_ms, rows_returned,
// rows_affected, errors_by_class, n_plus_one, first_seen and last_seen.
//
// ?sort= orders the queries by total (the default), calls, errors, mean,
// p99 or rows, the largest first; ?limit= keeps that many (100 by
// default, 0 for all). Only query summaries are shown: no literal and no
// argument value.
//
// With a pool source (SetPool; package databases gives one) the page also
// shows a Connections table and the JSON a "pool" object: the connections
// held by rows or a transaction, and the pool's waits (see Pool).
func (i *Insights) Handler() http.Handler {
	return http.HandlerFunc(i.serveHTTP)
}

// sortKeys are the orders ?sort= takes, each the largest first.
var sortKeys = map[string]func(a, b Query) int{
	"total":  func(a, b Query) int { return cmp.Compare(b.Total, a.Total) },
	"calls":  func(a, b Query) int { return cmp.Compare(b.Calls, a.Calls) },
	"errors": func(a, b Query) int { return cmp.Compare(b.Errors, a.Errors) },
	"mean":   func(a, b Query) int { return cmp.Compare(b.Mean, a.Mean) },
	"p99":    func(a, b Query) int { return cmp.Compare(b.P99, a.P99) },
	"rows":   func(a, b Query) int { return cmp.Compare(b.RowsReturned+b.RowsAffected, a.RowsReturned+a.RowsAffected) },
}

const defaultLimit = 100

func (i *Insights) serveHTTP(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	by := params.Get("sort")
	if by == "" {
		by = "total"
	}
	order, ok := sortKeys[by]
	if !ok {
		http.Error(w, "insights: sort="+strconv.Quote(by)+" is not one of total, calls, errors, mean, p99, rows", http.StatusBadRequest)
		return
	}
	limit := defaultLimit
	if v := params.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "insights: limit="+strconv.Quote(v)+" is not a whole number >= 0", http.StatusBadRequest)
			return
		}
		limit = n
	}
	queries := i.Queries()
	slices.SortStableFunc(queries, order)
	if limit > 0 && len(queries) > limit {
		queries = queries[:limit]
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	switch f := params.Get("format"); f {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, i.Stats(), queries, i.poolPage())
	case "", "html":
		// No script, style inline: nothing else may load or run.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, pageData{Stats: i.Stats(), Sort: by, Rows: rowsOf(queries), Limit: limit, Pool: i.poolPage()})
	default:
		http.Error(w, "insights: format="+strconv.Quote(f)+" is not html or json", http.StatusBadRequest)
	}
}

// jsonQuery is a query as the JSON answer has it.
type jsonQuery struct {
	Summary       string            `json:"summary"`
	Calls         uint64            `json:"calls"`
	Errors        uint64            `json:"errors"`
	Rows          int64             `json:"rows"`
	TotalMs       float64           `json:"total_ms"`
	MeanMs        float64           `json:"mean_ms"`
	P50Ms         float64           `json:"p50_ms"`
	P95Ms         float64           `json:"p95_ms"`
	P99Ms         float64           `json:"p99_ms"`
	MaxMs         float64           `json:"max_ms"`
	RowsReturned  int64             `json:"rows_returned"`
	RowsAffected  int64             `json:"rows_affected"`
	ErrorsByClass map[string]uint64 `json:"errors_by_class,omitempty"`
	NPlusOne      uint64            `json:"n_plus_one"`
	FirstSeen     time.Time         `json:"first_seen"`
	LastSeen      time.Time         `json:"last_seen"`
}

func writeJSON(w http.ResponseWriter, st Stats, queries []Query, pool *Pool) {
	out := struct {
		Queries      []jsonQuery `json:"queries"`
		MaxQueries   int         `json:"max_queries"`
		Evicted      uint64      `json:"evicted"`
		EvictedCalls uint64      `json:"evicted_calls"`
		NPlusOne     uint64      `json:"n_plus_one"`
		Pool         *jsonPool   `json:"pool,omitempty"` // connections.go
	}{Queries: make([]jsonQuery, 0, len(queries)), MaxQueries: st.MaxQueries, Evicted: st.Evicted, EvictedCalls: st.EvictedCalls, NPlusOne: st.NPlusOne, Pool: jsonPoolOf(pool, time.Now())}
	for _, q := range queries {
		out.Queries = append(out.Queries, jsonQuery{
			Summary: q.Summary, Calls: q.Calls, Errors: q.Errors, Rows: q.RowsReturned + q.RowsAffected,
			TotalMs: ms(q.Total), MeanMs: ms(q.Mean), P50Ms: ms(q.P50), P95Ms: ms(q.P95), P99Ms: ms(q.P99), MaxMs: ms(q.Max),
			RowsReturned: q.RowsReturned, RowsAffected: q.RowsAffected, ErrorsByClass: q.ErrorsByClass,
			NPlusOne: q.NPlusOne, FirstSeen: q.FirstSeen.UTC(), LastSeen: q.LastSeen.UTC(),
		})
	}
	json.NewEncoder(w).Encode(out)
}

// ms is d in milliseconds, to the nanosecond.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pageData is what the HTML page shows.
type pageData struct {
	Stats Stats
	Sort  string
	Limit int
	Rows  []pageRow
	Pool  *Pool // the Connections table (connections.go); nil: none
}

// pageRow is a query as the page shows it.
type pageRow struct {
	Query
	Rows int64
	Bars []bar
}

// bar is one bar of a latency histogram, in SVG units.
type bar struct {
	X, Y, W, H int
	Title      string
}

// Size of a histogram's drawing.
const (
	svgWidth  = 120
	svgHeight = 24
	maxBars   = 30
)

func rowsOf(queries []Query) []pageRow {
	rows := make([]pageRow, len(queries))
	for k, q := range queries {
		rows[k] = pageRow{Query: q, Rows: q.RowsReturned + q.RowsAffected, Bars: bars(q.Histogram)}
	}
	return rows
}

// bars draws counts from the first bucket with a run to the last, joining
// neighbouring buckets so that there are at most maxBars bars.
func bars(counts []uint64) []bar {
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
		return nil
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
	out := make([]bar, len(sums))
	for k, s := range sums {
		h := int(s * svgHeight / top)
		if s > 0 {
			h = max(h, 1)
		}
		lo, _ := HistogramBounds(first + k*per)
		_, hi := HistogramBounds(min(first+(k+1)*per, last+1) - 1)
		out[k] = bar{X: k * w, Y: svgHeight - h, W: max(w-1, 1), H: h, Title: lo.String() + "–" + hi.String() + ": " + strconv.FormatUint(s, 10)}
	}
	return out
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"arr":  func(v ...any) []any { return v },
	"ms":   func(d time.Duration) string { return strconv.FormatFloat(ms(d), 'f', 3, 64) },
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>databases: queries</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1em; }
table { border-collapse: collapse; }
th, td { padding: 2px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.q { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; max-width: 60em; }
th a { color: inherit; }
th[aria-sort] a { font-weight: bold; text-decoration: none; }
svg rect { fill: #4a7fb5; }
.bad { color: #b00; }
</style>
</head>
<body>
<h1>Queries</h1>
<p id="stats">{{.Stats.Queries}} queries kept (at most {{.Stats.MaxQueries}}); {{.Stats.Evicted}} evicted to make room; {{.Stats.NPlusOne}} N+1 reports. Latencies in milliseconds; a query lasts until its rows are closed.</p>
<table id="queries">
<thead><tr>
<th>Query</th>
{{- template "head" (arr . "calls" "Calls")}}
{{- template "head" (arr . "errors" "Errors")}}
{{- template "head" (arr . "total" "Total")}}
{{- template "head" (arr . "mean" "Mean")}}
<th>p50</th><th>p95</th>
{{- template "head" (arr . "p99" "p99")}}
{{- template "head" (arr . "rows" "Rows")}}
<th>N+1</th><th>Latency</th><th>Last seen (UTC)</th>
</tr></thead>
<tbody>
{{- range .Rows}}
<tr>
<td class="q">{{.Summary}}</td>
<td class="n">{{.Calls}}</td>
<td class="n{{if .Errors}} bad{{end}}"{{if .ErrorsByClass}} title="{{range $k, $v := .ErrorsByClass}}{{$k}}: {{$v}} {{end}}"{{end}}>{{.Errors}}</td>
<td class="n">{{ms .Total}}</td>
<td class="n">{{ms .Mean}}</td>
<td class="n">{{ms .P50}}</td>
<td class="n">{{ms .P95}}</td>
<td class="n">{{ms .P99}}</td>
<td class="n">{{.Rows}}</td>
<td class="n{{if .NPlusOne}} bad{{end}}">{{.NPlusOne}}</td>
<td><svg width="120" height="24" viewBox="0 0 120 24" role="img" aria-label="latency histogram">{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Title}}</title></rect>{{end}}</svg></td>
<td class="n">{{when .LastSeen}}</td>
</tr>
{{- end}}
</tbody>
</table>
{{template "connections" .Pool}}
</body>
</html>
{{define "head"}}{{$d := index . 0}}{{$key := index . 1}}<th{{if eq $d.Sort $key}} aria-sort="descending"{{end}}><a href="?sort={{$key}}{{if ne $d.Limit 100}}&amp;limit={{$d.Limit}}{{end}}">{{index . 2}}{{if eq $d.Sort $key}} ▼{{end}}</a></th>{{end}}
`))
