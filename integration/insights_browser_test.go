package integration

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/insights"
)

// browser starts headless Chromium (Debian's chromium package; .ci/run
// installs it) with a fresh profile, or skips the test where it is missing,
// and fails it under CI=true.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; CI must run the browser test")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in a container has no user namespace for the sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// row is a row of the page's table as the browser renders it.
type row struct {
	Summary  string `json:"summary"`
	Calls    string `json:"calls"`
	Errors   string `json:"errors"`
	Classes  string `json:"classes"`
	Returned string `json:"returned"`
	Affected string `json:"affected"`
	Bars     int    `json:"bars"`
	Labels   int    `json:"labels"`
	Lines    int    `json:"lines"`  // lines the query text takes
	Broken   bool   `json:"broken"` // a word of the query text split over two lines
}

// readTable reads the rendered table of queries.
const readTable = `Array.from(document.querySelectorAll('#queries tbody tr')).map(r => ({
	summary: r.cells[0].textContent,
	calls: r.cells[1].textContent,
	errors: r.cells[2].textContent,
	classes: r.cells[3].textContent,
	returned: r.cells[9].textContent,
	affected: r.cells[10].textContent,
	bars: r.querySelectorAll('svg rect').length,
	labels: r.querySelectorAll('svg text').length,
	lines: (() => {
		const range = document.createRange();
		range.selectNodeContents(r.cells[0]);
		return new Set(Array.from(range.getClientRects()).map(x => Math.round(x.top))).size;
	})(),
	broken: (() => {
		// Each word's characters must lie on one line: a word that
		// starts on one line and ends on another was broken.
		const text = r.cells[0].firstChild;
		if (!text) return false;
		const s = text.textContent;
		const range = document.createRange();
		let start = 0;
		for (const w of s.split(' ')) {
			if (w.length > 1) {
				range.setStart(text, start); range.setEnd(text, start + 1);
				const first = range.getBoundingClientRect().top;
				range.setStart(text, start + w.length - 1); range.setEnd(text, start + w.length);
				if (Math.abs(range.getBoundingClientRect().top - first) > 2) return true;
			}
			start += w.length + 1;
		}
		return false;
	})(),
}))`

// TestInsightsPageInBrowser loads the insights page in Chromium after a
// workload on a SQLite file, sorts it by a column with a click, and checks
// the rendered page: the title names the database and backend, the order,
// a histogram with a labelled axis per query, error classes in the table,
// rows returned and affected apart, DDL with its type sizes, a long query
// wrapped between words, and a query whose text holds <script> shown as
// text with no script on the page. The screenshot is saved as an artefact
// of the test (go test -artifacts).
func TestInsightsPageInBrowser(t *testing.T) {
	ctx := browser(t)
	ins := insights.New()
	file := filepath.Join(t.TempDir(), "shop.db")
	db, err := databases.Open("sqlite:///"+file, databases.WithMiddleware(ins))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	workload(t, db)
	srv := httptest.NewServer(ins.Handler())
	defer srv.Close()
	// The browser starts with the first action: generous on a loaded
	// machine under -race, where starting it alone has taken 40 s.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#queries`))))
	byTotal, err := chromedp.Run(ctx, chromedp.Evaluate[[]row](readTable))
	must(err)
	// Sorting is a link in the column's header: the page has no script.
	must(chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`th a[href="?sort=calls"]`)),
		chromedp.WaitVisible(chromedp.CSS(`th[aria-sort] a[href="?sort=calls"]`))))
	byCalls, err := chromedp.Run(ctx, chromedp.Evaluate[[]row](readTable))
	must(err)
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('script').length`))
	must(err)
	title, err := chromedp.Run(ctx, chromedp.Title())
	must(err)
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)

	if len(byTotal) != 7 || len(byCalls) != 7 {
		t.Fatalf("%d rows by total, %d by calls; want 7:\n%v\n%v", len(byTotal), len(byCalls), byTotal, byCalls)
	}
	if !strings.HasPrefix(byTotal[0].Summary, "WITH RECURSIVE") {
		t.Errorf("first by total: %q; want the slow recursive query", byTotal[0].Summary)
	}
	var calls []int
	for _, r := range byCalls {
		n, err := strconv.Atoi(r.Calls)
		if err != nil {
			t.Fatalf("calls cell %q", r.Calls)
		}
		calls = append(calls, n)
		if r.Bars == 0 {
			t.Errorf("%q: no histogram bars", r.Summary)
		}
	}
	if want := []int{40, 5, 3, 1, 1, 1, 1}; !slices.Equal(calls, want) {
		t.Errorf("calls after sorting by calls: %v; want %v (rows %v)", calls, want, byCalls)
	}
	if byCalls[0].Summary != "SELECT name FROM items WHERE id = ?" {
		t.Errorf("first by calls: %q", byCalls[0].Summary)
	}
	i := slices.IndexFunc(byCalls, func(r row) bool { return strings.Contains(r.Summary, "<script>") })
	if i < 0 || byCalls[i].Summary != `SELECT ? AS "<script>document.title='owned'</script>"` {
		t.Errorf("no row shows the query with <script> as text: %v", byCalls)
	}
	if want := "databases: Queries on " + file + " (sqlite)"; scripts != 0 || title != want {
		t.Errorf("the page has %d script elements and the title %q; want none and %q", scripts, title, want)
	}
	find := func(summary string) row {
		t.Helper()
		i := slices.IndexFunc(byCalls, func(r row) bool { return r.Summary == summary })
		if i < 0 {
			t.Fatalf("no row %q: %v", summary, byCalls)
		}
		return byCalls[i]
	}
	// Error classes show in the table, not only in a tooltip; rows
	// returned and affected are apart; each histogram has its axis
	// labelled at both ends; DDL keeps its type sizes; a long query wraps
	// between words.
	if r := find("SELECT * FROM missing"); !strings.Contains(r.Classes, "1 × 5") {
		t.Errorf("the failing query's error classes: %q; want SQLite's code 1, five times", r.Classes)
	}
	if r := find("UPDATE items SET name = ? WHERE id >= ?"); r.Returned != "0" || r.Affected != "3" {
		t.Errorf("UPDATE: returned %s, affected %s; want 0 and 3", r.Returned, r.Affected)
	}
	if r := byTotal[0]; r.Returned != "3" || r.Affected != "0" || r.Labels != 2 {
		t.Errorf("the recursive query: returned %s, affected %s, %d axis labels; want 3, 0, 2", r.Returned, r.Affected, r.Labels)
	}
	find("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40))")
	if r := byTotal[0]; r.Lines < 2 || r.Broken {
		t.Errorf("the long recursive query takes %d lines, a word broken: %v; want it wrapped between words", r.Lines, r.Broken)
	}
	if i := slices.IndexFunc(byCalls, func(r row) bool { return r.Summary == "SELECT * FROM missing" }); i < 0 || byCalls[i].Errors != "5" {
		t.Errorf("the failing query's row: %v", byCalls)
	}
	path := filepath.Join(t.ArtifactDir(), "insights.png")
	if err := os.WriteFile(path, screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(screenshot))
}

// workload runs seven kinds of query: the table made and filled, many
// lookups, a slow recursive query with a long text, failures, one with
// <script> in a quoted name.
func workload(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40))")
	mustExec(t, db, "INSERT INTO items (id, name) VALUES (100, 'a'), (101, 'b'), (102, 'c')")
	mustExec(t, db, "UPDATE items SET name = 'z' WHERE id >= 100")
	var name string
	for i := range 40 {
		if err := db.QueryRow("SELECT name FROM items WHERE id = ?", i).Scan(&name); err != sql.ErrNoRows {
			t.Fatal(err)
		}
	}
	for range 3 {
		var n int
		if err := db.QueryRow("WITH RECURSIVE counter_of_many_numbers(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM counter_of_many_numbers WHERE x < 100000) SELECT count(*) AS how_many_numbers_were_counted FROM counter_of_many_numbers").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if _, err := db.Exec("SELECT * FROM missing"); err == nil {
			t.Fatal("a query of a missing table succeeded")
		}
	}
	if err := db.QueryRow(`SELECT 1 AS "<script>document.title='owned'</script>"`).Scan(new(int)); err != nil {
		t.Fatal(fmt.Errorf("the <script> query: %w", err))
	}
}
