package databases

import "github.com/go-databases/databases/internal/dsn"
import "github.com/go-databases/databases/sqlscan"

// ScanDialect returns how the database a URL opens reads SQL text, in the
// terms of package sqlscan: its dialect and, for MySQL, the lexing flags of
// the sql_mode the URL sets (sql_mode=ANSI_QUOTES makes "…" an identifier).
// A tool that reads SQL for that database, such as a script splitter, then
// reads it as the driver does. The URL is parsed as Open parses it, with the
// same errors.
func ScanDialect(url string) (sqlscan.Dialect, sqlscan.Mode, error) {
	cfg, err := dsn.Parse(url)
	if err != nil {
		return 0, 0, err
	}
	return backendOf(cfg.Dialect).scanDialect(), cfg.MySQLMode, nil
}
