package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-databases/databases/sqlscan"
)

// The \ commands, on every backend, as psql names them.

// errQuit is \q: the run ends without an error.
var errQuit = errors.New("quit")

// isMeta reports whether text is a \ command.
func isMeta(text string) bool { return strings.HasPrefix(strings.TrimSpace(text), `\`) }

// metaHelp is what \? prints.
const metaHelp = `\dt          list tables
\d           list tables
\d TABLE     describe a table (schema.table on PostgreSQL and MySQL)
\l           list databases
\q           quit (so does Ctrl-D)
\?           this help
SQL statements end with ';'; Ctrl-C drops the statement being typed.
`

// catalog holds the queries of the \ commands for one dialect; columns
// takes the table name and its schema (nil for the current one).
type catalog struct{ tables, columns, databases string }

var catalogs = map[sqlscan.Dialect]catalog{
	sqlscan.SQLite: {
		tables:    `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`,
		columns:   `SELECT name AS column_name, type, CASE WHEN "notnull" THEN 'NO' ELSE 'YES' END AS nullable, dflt_value AS default_value FROM pragma_table_info(?, COALESCE(?, 'main')) ORDER BY cid`,
		databases: `SELECT name, file FROM pragma_database_list ORDER BY seq`,
	},
	sqlscan.Postgres: {
		tables: `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
			WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
		columns: `SELECT column_name, data_type AS type, is_nullable AS nullable, column_default AS default_value FROM information_schema.columns
			WHERE table_name = ? AND table_schema = COALESCE(?::text, current_schema()) ORDER BY ordinal_position`,
		databases: `SELECT datname AS name FROM pg_database WHERE NOT datistemplate ORDER BY 1`,
	},
	sqlscan.MySQL: {
		tables: `SELECT table_name AS name FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1`,
		columns: `SELECT column_name AS column_name, column_type AS type, is_nullable AS nullable, column_default AS default_value FROM information_schema.columns
			WHERE table_name = ? AND table_schema = COALESCE(?, DATABASE()) ORDER BY ordinal_position`,
		databases: `SELECT schema_name AS name FROM information_schema.schemata ORDER BY 1`,
	},
}

// meta runs a \ command.
func (s *session) meta(ctx context.Context, text string) error {
	fields := strings.Fields(text)
	cat := catalogs[s.dialect]
	switch {
	case fields[0] == `\q` && len(fields) == 1:
		return errQuit
	case fields[0] == `\?` && len(fields) == 1:
		_, err := fmt.Fprint(s.stdout, metaHelp)
		return err
	case (fields[0] == `\dt` || fields[0] == `\d`) && len(fields) == 1:
		return s.query(ctx, cat.tables)
	case fields[0] == `\d` && len(fields) >= 2:
		parts, err := splitTableName(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), `\d`)))
		if err != nil {
			return err
		}
		return s.describe(ctx, cat, parts)
	case fields[0] == `\l` && len(fields) == 1:
		return s.query(ctx, cat.databases)
	}
	return fmt.Errorf(`unknown command %q; \? lists the commands`, text)
}

// describe lists the columns of a table, or fails when there is none of
// that name.
func (s *session) describe(ctx context.Context, cat catalog, parts []string) error {
	var schema any
	name := parts[len(parts)-1]
	if len(parts) == 2 {
		schema = parts[0]
	}
	var n int
	if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+cat.columns+") AS c", name, schema).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no table %q", name)
	}
	return s.query(ctx, cat.columns, name, schema)
}

// splitTableName reads the argument of \d: a table name, or schema.table,
// each part plain or quoted as "…" (with "" for a quote), `…` (with “ for
// a backtick) or […], so that names with spaces, dots or capitals can be
// named as they are written in SQL.
func splitTableName(arg string) ([]string, error) {
	var parts []string
	rest := arg
	for {
		var part string
		if rest == "" {
			return nil, fmt.Errorf("bad table name %q", arg)
		}
		switch q := rest[0]; q {
		case '"', '`', '[':
			end := q
			if q == '[' {
				end = ']'
			}
			var b strings.Builder
			i := 1
			for {
				if i >= len(rest) {
					return nil, fmt.Errorf("bad table name %q: unterminated %c", arg, q)
				}
				if rest[i] == end {
					if end != ']' && i+1 < len(rest) && rest[i+1] == end {
						b.WriteByte(end)
						i += 2
						continue
					}
					break
				}
				b.WriteByte(rest[i])
				i++
			}
			part, rest = b.String(), rest[i+1:]
		default:
			i := strings.IndexByte(rest, '.')
			if i < 0 {
				i = len(rest)
			}
			part, rest = rest[:i], rest[i:]
			if strings.ContainsAny(part, " \t\"`[]") {
				return nil, fmt.Errorf("bad table name %q: quote a name with spaces or quotes", arg)
			}
		}
		if part == "" {
			return nil, fmt.Errorf("bad table name %q", arg)
		}
		parts = append(parts, part)
		if rest == "" {
			break
		}
		if rest[0] != '.' || len(parts) == 2 {
			return nil, fmt.Errorf("bad table name %q: want TABLE or SCHEMA.TABLE", arg)
		}
		rest = rest[1:]
	}
	return parts, nil
}
