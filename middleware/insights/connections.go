package insights

// The Connections table of the page and its JSON: what holds the
// connections of the pool. A middleware sees calls, not the pool, so
// package databases gives the table its source (SetPool) when it builds
// the Insights of a DB; an Insights without one shows no table.

import (
	"html/template"
	"time"
)

// Pool is the state of a connection pool as the Connections table shows
// it: the connections in use and, when the pool's figures are known (a DB
// from databases.Open), its size and waits.
type Pool struct {
	// Stats is false when the figures below are unknown: the source sees
	// the connections but not the *sql.DB (sql.OpenDB(databases.NewConnector(...))).
	Stats     bool
	MaxOpen   int // 0: no limit
	Open      int
	InUse     int
	Idle      int
	WaitCount int64 // callers that waited for a connection, since the DB opened
	// WaitDuration is the total time callers waited, since the DB opened.
	WaitDuration time.Duration
	// Connections are the connections held by rows or a transaction, the
	// longest held first.
	Connections []Connection
}

// Connection is one connection in use: held by open rows or an open
// transaction.
type Connection struct {
	ID     uint64    // the connection's number in its DB (middleware.Call.ConnID)
	Server string    // host:port it reached; "" on SQLite
	Since  time.Time // when the oldest of its holds began
	// OpenedAt is the file:line in the caller's code that opened the
	// oldest hold; "" when call sites are not captured (the URL option
	// leak_threshold is off).
	OpenedAt string
	InTx     bool   // it is in a transaction begun with BeginTx
	Query    string // the summary of its current or last query
}

// SetPool gives the Insights the source of its Connections table, called
// at each request of the page. Package databases calls it; a nil f takes
// the table away.
func (i *Insights) SetPool(f func() Pool) {
	if f == nil {
		i.pool.Store(nil)
		return
	}
	i.pool.Store(&f)
}

// Pool returns the state of the pool from the source SetPool gave, and
// false when there is none.
func (i *Insights) Pool() (Pool, bool) {
	f := i.pool.Load()
	if f == nil {
		return Pool{}, false
	}
	return (*f)(), true
}

// poolPage is the pool as the page and the JSON answer take it; nil when
// the Insights has no source.
func (i *Insights) poolPage() *Pool {
	p, ok := i.Pool()
	if !ok {
		return nil
	}
	return &p
}

// jsonPool is the pool as the JSON answer has it, under "pool".
type jsonPool struct {
	MaxOpen     *int             `json:"max_open,omitempty"`
	Open        *int             `json:"open,omitempty"`
	InUse       *int             `json:"in_use,omitempty"`
	Idle        *int             `json:"idle,omitempty"`
	WaitCount   *int64           `json:"wait_count,omitempty"`
	WaitMs      *float64         `json:"wait_ms,omitempty"`
	Connections []jsonConnection `json:"connections"`
}

// jsonConnection is a connection as the JSON answer has it.
type jsonConnection struct {
	ID       uint64    `json:"id"`
	Server   string    `json:"server,omitempty"`
	Since    time.Time `json:"since"`
	HeldMs   float64   `json:"held_ms"`
	OpenedAt string    `json:"opened_at,omitempty"`
	InTx     bool      `json:"in_tx"`
	Query    string    `json:"query"`
}

// jsonPoolOf turns p into its JSON form; nil for nil.
func jsonPoolOf(p *Pool, now time.Time) *jsonPool {
	if p == nil {
		return nil
	}
	out := &jsonPool{Connections: make([]jsonConnection, 0, len(p.Connections))}
	if p.Stats {
		waitMs := ms(p.WaitDuration)
		out.MaxOpen, out.Open, out.InUse, out.Idle = &p.MaxOpen, &p.Open, &p.InUse, &p.Idle
		out.WaitCount, out.WaitMs = &p.WaitCount, &waitMs
	}
	for _, c := range p.Connections {
		out.Connections = append(out.Connections, jsonConnection{
			ID: c.ID, Server: c.Server, Since: c.Since.UTC(), HeldMs: ms(now.Sub(c.Since)),
			OpenedAt: c.OpenedAt, InTx: c.InTx, Query: c.Query,
		})
	}
	return out
}

// The section of the page that shows a Pool, executed by the page's
// template with the pool (nil: nothing).
var _ = template.Must(page.New("connections").Funcs(template.FuncMap{
	"held": func(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() },
}).Parse(`{{if .}}
<h2>Connections</h2>
<p id="pool">{{if .Stats}}{{.InUse}} in use, {{.Idle}} idle{{if .MaxOpen}}, at most {{.MaxOpen}}{{end}}; {{.WaitCount}} waits for a connection, {{ms .WaitDuration}} ms waited in all. {{end}}Connections held by open rows or a transaction, the longest held first.</p>
<table id="connections">
<thead><tr><th>Connection</th><th>Since (UTC)</th><th>Held</th><th>Opened at</th><th>Transaction</th><th>Query</th></tr></thead>
<tbody>
{{- range .Connections}}
<tr>
<td class="n">{{.ID}}{{if .Server}} ({{.Server}}){{end}}</td>
<td class="n">{{when .Since}}</td>
<td class="n">{{held .Since}}</td>
<td class="q">{{if .OpenedAt}}{{.OpenedAt}}{{else}}—{{end}}</td>
<td>{{if .InTx}}yes{{else}}no{{end}}</td>
<td class="q">{{.Query}}</td>
</tr>
{{- end}}
</tbody>
</table>
{{- end}}`))
