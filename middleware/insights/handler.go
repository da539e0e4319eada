package insights

import (
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-databases/databases/middleware"
)

// Handler returns an http.Handler that shows the queries kept, in the
// spirit of net/http/pprof and expvar; it is not mounted anywhere by
// itself:
//
//	mux.Handle("/debug/databases", ins.Handler())
//
// It serves an HTML page by default, titled with the databases the
// queries ran on (name or file, backend, host): a table of the queries
// with their calls, errors and error classes, latencies, rows returned and
// rows affected, and a latency histogram drawn in inline SVG above a
// labelled axis, sortable by a click on a column's header (a link: the
// page has no script and loads nothing else). With ?format=json it serves
// the same data as a JSON object: "enabled" (true), "databases" (system,
// namespace, address, port), and a "queries" array with one object per
// query with the keys summary, calls, errors, rows (returned plus
// affected), total_ms, mean_ms, p50_ms, p95_ms, p99_ms, max_ms,
// rows_returned, rows_affected, errors_by_class, n_plus_one, first_seen
// and last_seen.
//
// ?sort= orders the queries by total (the default), calls, errors, mean,
// p99, rows (returned plus affected), returned or affected, the largest
// first; ?limit= keeps that many (100 by
// default, 0 for all). Only query summaries are shown: no literal and no
// argument value.
//
// On a nil *Insights, which is what databases.Insights returns for a DB
// opened without insights, the handler serves a page (and, with
// ?format=json, {"enabled": false, "message": …}) that says insights are
// off and how to turn them on, so a mounted handler never fails a request.
//
// With a pool source (SetPool; package databases gives one) the page also
// shows a Connections table and the JSON a "pool" object: the connections
// held by rows or a transaction, and the pool's waits (see Pool).
func (i *Insights) Handler() http.Handler {
	if i == nil {
		return http.HandlerFunc(serveOff)
	}
	return http.HandlerFunc(i.serveHTTP)
}

// offMessage says how to turn insights on.
const offMessage = "Query insights are off for this database. Turn them on with the URL option insights=on " +
	"(databases.Open(\"postgres://…?sslmode=disable&insights=on\"); databases.URLWithOption adds it to any URL), " +
	"or with databases.WithInsights() passed to databases.Open or databases.NewConnector."

// serveOff answers for a DB without insights.
func serveOff(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	switch f := r.URL.Query().Get("format"); f {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			Enabled bool   `json:"enabled"`
			Message string `json:"message"`
		}{false, offMessage})
	case "", "html":
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		offPage.Execute(w, offMessage)
	default:
		http.Error(w, "insights: format="+strconv.Quote(f)+" is not html or json", http.StatusBadRequest)
	}
}

var offPage = template.Must(template.New("off").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>databases: query insights are off</title>
<style>body { font: 14px system-ui, sans-serif; margin: 1em; max-width: 50em; }</style>
</head>
<body>
<h1>Query insights are off</h1>
<p id="off">{{.}}</p>
</body>
</html>
`))

// sortKeys are the orders ?sort= takes, each the largest first.
var sortKeys = map[string]func(a, b Query) int{
	"total":    func(a, b Query) int { return cmp.Compare(b.Total, a.Total) },
	"calls":    func(a, b Query) int { return cmp.Compare(b.Calls, a.Calls) },
	"errors":   func(a, b Query) int { return cmp.Compare(b.Errors, a.Errors) },
	"mean":     func(a, b Query) int { return cmp.Compare(b.Mean, a.Mean) },
	"p99":      func(a, b Query) int { return cmp.Compare(b.P99, a.P99) },
	"rows":     func(a, b Query) int { return cmp.Compare(b.RowsReturned+b.RowsAffected, a.RowsReturned+a.RowsAffected) },
	"returned": func(a, b Query) int { return cmp.Compare(b.RowsReturned, a.RowsReturned) },
	"affected": func(a, b Query) int { return cmp.Compare(b.RowsAffected, a.RowsAffected) },
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
		http.Error(w, "insights: sort="+strconv.Quote(by)+" is not one of total, calls, errors, mean, p99, rows, returned, affected", http.StatusBadRequest)
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
		writeJSON(w, i.Stats(), i.Databases(), queries, i.poolPage())
	case "", "html":
		// No script, style inline: nothing else may load or run.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		d := newPageData(i, by, limit, queries)
		d.Pool = i.poolPage()
		page.Execute(w, d)
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

// jsonDatabase is a database as the JSON answer has it.
type jsonDatabase struct {
	System    string `json:"system"`
	Namespace string `json:"namespace"`
	Address   string `json:"address,omitempty"`
	Port      int    `json:"port,omitempty"`
	Replica   bool   `json:"replica,omitempty"`
}

func jsonDatabases(dbs []middleware.Database) []jsonDatabase {
	out := make([]jsonDatabase, len(dbs))
	for k, d := range dbs {
		out[k] = jsonDatabase{d.Dialect, d.Namespace, d.Address, d.Port, d.Replica}
	}
	return out
}

func writeJSON(w http.ResponseWriter, st Stats, dbs []middleware.Database, queries []Query, pool *Pool) {
	out := struct {
		Enabled      bool           `json:"enabled"`
		Databases    []jsonDatabase `json:"databases"`
		Queries      []jsonQuery    `json:"queries"`
		MaxQueries   int            `json:"max_queries"`
		Evicted      uint64         `json:"evicted"`
		EvictedCalls uint64         `json:"evicted_calls"`
		NPlusOne     uint64         `json:"n_plus_one"`
		Pool         *jsonPool      `json:"pool,omitempty"` // connections.go
	}{Enabled: true, Databases: jsonDatabases(dbs), Queries: make([]jsonQuery, 0, len(queries)), MaxQueries: st.MaxQueries, Evicted: st.Evicted, EvictedCalls: st.EvictedCalls, NPlusOne: st.NPlusOne, Pool: jsonPoolOf(pool, time.Now())}
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
