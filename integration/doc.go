// Package integration proves that the "databases" driver works under the
// libraries Go programs already use: sqlx, sqlc-generated code, GORM, bun
// and goose, and that the page of middleware/insights renders in a real
// browser (headless Chromium through chromedp). It is a module of its own
// so that the library's go.mod does not carry their dependencies.
//
// The tests run against SQLite in memory always, and against PostgreSQL and
// MySQL when DATABASES_TEST_POSTGRES_URL and DATABASES_TEST_MYSQL_URL are
// set (skipped otherwise, failed under CI=true); a run that skipped a
// backend ends with a line naming it:
//
//	cd integration && go test -race
package integration
