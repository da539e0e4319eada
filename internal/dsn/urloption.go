package dsn

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// WithOption is databases.URLWithOption: raw with the query option name
// set to value, and the config it parses into. What a real driver of the
// package's own refuses at Open it refuses too; the caller checks that
// another driver is registered.
func WithOption(raw, name, value string) (string, *Config, error) {
	if name == "" {
		return "", nil, fmt.Errorf("databases: URLWithOption: empty option name")
	}
	if _, err := Parse(raw); err != nil {
		return "", nil, err
	}
	head, query, hasQuery := strings.Cut(raw, "?")
	pair := queryEscape(name) + "=" + queryEscape(value)
	var pairs []string
	replaced := false
	if hasQuery {
		for p := range strings.SplitSeq(query, "&") {
			if p == "" {
				continue
			}
			rawKey, _, _ := strings.Cut(p, "=")
			if key, err := url.QueryUnescape(rawKey); err == nil && SameOption(key, name) {
				if !replaced {
					pairs = append(pairs, pair)
					replaced = true
				}
				continue
			}
			pairs = append(pairs, p)
		}
	}
	if !replaced {
		pairs = append(pairs, pair)
	}
	out := head + "?" + strings.Join(pairs, "&")
	cfg, err := Parse(out)
	if err != nil {
		return "", nil, err // names the option and masks the password
	}
	// What the real driver refuses when the DB is opened (pgx's sslmode,
	// go-sql-driver's parseTime) it refuses here too.
	switch {
	case cfg.DriverName == Postgres.DefaultDriver:
		if _, err := pgx.ParseConfig(cfg.DSN); err != nil {
			return "", nil, cfg.DriverError(err)
		}
	case cfg.DriverName == MySQL.DefaultDriver && len(cfg.Hosts) <= 1:
		if _, err := mysql.ParseDSN(cfg.DSN); err != nil {
			return "", nil, cfg.DriverError(err)
		}
	}
	return out, cfg, nil
}

// queryEscape percent-encodes s for a query value: as url.QueryEscape, but a
// space is %20, since pgx and modernc read a '+' in an option as itself.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// SameOption reports whether the query keys a and b name one option: the
// same name, or a package option and its alias.
func SameOption(a, b string) bool {
	if a == b {
		return true
	}
	canonical := func(k string) string {
		if o, ok := Options[k]; ok && o.Canonical != "" {
			return o.Canonical
		}
		return k
	}
	_, known := Options[a]
	return known && canonical(a) == canonical(b)
}
