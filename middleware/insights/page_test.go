package insights_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/insights"
)

// TestHandlerPage: the page names the database, backend and host in its
// title and heading, shows error classes in the table, rows returned and
// rows affected in columns of their own, a latency histogram with a
// labelled axis, and lets query text wrap at word boundaries.
func TestHandlerPage(t *testing.T) {
	ins := insights.New()
	db := &middleware.Database{Dialect: "postgres", Namespace: "shop", Address: "db.internal", Port: 5432}
	call := func(op middleware.Op, q string, d time.Duration, returned, affected int64, err error) {
		c := &middleware.Call{Op: op, DB: db, Query: q, NativeQuery: q, Start: time.Now().Add(-d), RowsAffected: -1}
		middleware.NewPipeline(ins).Run(context.Background(), c, func(_ context.Context, c *middleware.Call) error {
			c.RowsReturned, c.RowsAffected = returned, affected
			return err
		})
	}
	for range 3 {
		call(middleware.OpExec, "SELECT * FROM missing", time.Millisecond, 0, 0, &pgconn.PgError{Code: "42P01", Message: "relation does not exist"})
	}
	call(middleware.OpExec, "SELECT * FROM missing", time.Millisecond, 0, 0, context.DeadlineExceeded)
	call(middleware.OpExec, "UPDATE items SET price = price * 2 WHERE id < 10", 3*time.Millisecond, 0, 9, nil)
	call(middleware.OpRows, "SELECT name FROM items", 20*time.Microsecond, 7, 0, nil)
	call(middleware.OpRows, "SELECT name FROM items", 40*time.Millisecond, 5, 0, nil)

	rec := httptest.NewRecorder()
	ins.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/?sort=calls", nil))
	body := rec.Body.String()
	rows := map[string][]string{} // summary → cells
	for _, tr := range regexp.MustCompile(`(?s)<tr>\n(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		var cells []string
		for _, td := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, td[1])
		}
		if len(cells) > 0 {
			rows[cells[0]] = cells
		}
	}
	for _, want := range []string{
		"<title>databases: Queries on shop (postgres, db.internal:5432)</title>",
		`<h1 id="title">Queries on shop (postgres, db.internal:5432)</h1>`,
		`<a href="?sort=returned">Rows returned</a>`,
		`<a href="?sort=affected">Rows affected</a>`,
		"<th>Error classes</th>",
		"overflow-wrap: break-word",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "break-all") || strings.Contains(body, `title="42P01`) {
		t.Errorf("query text breaks mid-word, or error classes are only a tooltip:\n%s", body)
	}
	// Columns: query, calls, errors, classes, total, mean, p50, p95, p99,
	// returned, affected, N+1, histogram, last seen.
	missing := rows["SELECT * FROM missing"]
	if len(missing) != 14 || missing[2] != "4" || !strings.Contains(missing[3], `<span class="bad">42P01</span> × 3<br><span class="bad">context.DeadlineExceeded</span> × 1`) {
		t.Errorf("the failing query's row: %q", missing)
	}
	update := rows["UPDATE items SET price = price * ? WHERE id &lt; ?"]
	selects := rows["SELECT name FROM items"]
	if len(update) != 14 || update[9] != "0" || update[10] != "9" || len(selects) != 14 || selects[9] != "12" || selects[10] != "0" {
		t.Errorf("rows returned and affected: UPDATE %q, SELECT %q", update, selects)
	}
	// The histogram of the SELECT spans 20µs to 40ms: an axis with both
	// ends labelled.
	if len(selects) == 14 && !regexp.MustCompile(`<line x1="0" y1="26.5" x2="\d+" y2="26.5"></line>.*<text x="0" y="38">\d+(\.\d+)?µs</text><text x="\d+" y="38" text-anchor="end">4\d(\.\d+)?ms</text>`).MatchString(selects[12]) {
		t.Errorf("the histogram has no labelled axis: %s", selects[12])
	}
}

// TestHandlerJSONDatabases: the JSON answer names the databases too, and
// says insights are on.
func TestHandlerJSONDatabases(t *testing.T) {
	ins := insights.New()
	c := &middleware.Call{Op: middleware.OpExec, DB: &middleware.Database{Dialect: "mysql", Namespace: "shop", Address: "::1", Port: 3306}, Query: "DELETE FROM t", NativeQuery: "DELETE FROM t", Start: time.Now()}
	middleware.NewPipeline(ins).Run(context.Background(), c, func(context.Context, *middleware.Call) error { return nil })
	body := readPage(t, ins, "/?format=json")
	if !strings.Contains(body, `"enabled":true,"databases":[{"system":"mysql","namespace":"shop","address":"::1","port":3306}]`) {
		t.Errorf("JSON: %s", body)
	}
	if page := readPage(t, ins, "/"); !strings.Contains(page, "Queries on shop (mysql, [::1]:3306)") {
		t.Errorf("an IPv6 host is not bracketed in the title")
	}
}
